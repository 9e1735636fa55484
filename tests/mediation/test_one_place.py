"""What is written once stays written once: phone numbers are read and shown by
`mediation.phones`, month names are spelt in `mediation.dates`, and a followed resident is
created by `mediation.services.resident_create` only. A second copy fails here, saying where
the first one lives."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
APPS = ("mediation", "bookings", "cases", "reports")


def _modules():
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path, path.read_text(encoding="utf-8")


def _where(paths) -> list[str]:
    return [str(path.relative_to(ROOT)) for path in paths]


def test_phone_numbers_are_read_and_shown_by_mediation_phones_only():
    readers = [
        path
        for path, text in _modules()
        if re.search(r"^\s*(import|from)\s+phonenumbers\b", text, re.MULTILINE)
    ]
    assert _where(readers) == ["mediation/phones.py"]


def test_month_names_are_spelt_in_mediation_dates_only():
    spelt = [path for path, text in _modules() if re.search(r"[\"']décembre[\"']", text)]
    assert _where(spelt) == ["mediation/dates.py"]


def _creates_a_followed_resident(node: ast.AST) -> bool:
    """`Resident(...)` or `Resident.objects.create(...)`, unless anonymous (a session's
    statistics-only record) or a mere reference (`Resident(pk=…)`)."""
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    builds = isinstance(func, ast.Name) and func.id == "Resident"
    creates = (
        isinstance(func, ast.Attribute)
        and func.attr in ("create", "get_or_create", "update_or_create")
        and isinstance(func.value, ast.Attribute)
        and isinstance(func.value.value, ast.Name)
        and func.value.value.id == "Resident"
    )
    keywords = {k.arg: k.value for k in node.keywords}
    anonymous = isinstance(keywords.get("is_anonymous"), ast.Constant) and (
        keywords["is_anonymous"].value is True
    )
    return (builds or creates) and not anonymous and set(keywords) != {"pk"}


def test_a_followed_resident_is_created_by_resident_create_only():
    # Demo data is bulk-created on purpose (thousands of rows, no history).
    creators = [
        path
        for path, text in _modules()
        if path.name != "demo.py"
        and any(_creates_a_followed_resident(node) for node in ast.walk(ast.parse(text)))
    ]
    assert _where(creators) == ["mediation/services.py"]
