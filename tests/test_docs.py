"""The map matches the house: every file or folder of the project that `docs/` or the README
names exists, so a move or a rename that forgets the documentation fails here."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = sorted((ROOT / "docs").glob("*.md")) + [ROOT / "README.md"]
TOP_LEVEL = "mediation|bookings|cases|reports|api|tests|bench|docs|scripts|\\.ci"
# A project path in backquotes or as a link target: `bookings/services/booking.py`,
# `tests/mediation/test_scoping_every_url.py::test_x`, [x](security.md), `bench/audit.py --quick`.
PATH = re.compile(r"(?:`|\]\()(?P<path>(?:" + TOP_LEVEL + r")/[\w./<>*-]*|[\w-]+\.md)(?=[`)#:\s])")

MIGRATION = re.compile(r"(?:mediation|bookings|cases|reports|api)/\d{4}\w*")
# The domain vocabulary and the code conventions live beside the repository (`../shared/`).
EXTERNAL = {"DOMAIN.md", "STYLE.md"}


def named_paths(document: Path) -> list[str]:
    return sorted({m["path"] for m in PATH.finditer(document.read_text(encoding="utf-8"))})


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.name)
def test_every_path_the_documentation_names_exists(document):
    missing = []
    for path in named_paths(document):
        if "<" in path or "*" in path:  # a pattern (`var/test-<pid>.sqlite3`, `tests/*/`)
            base = re.split(r"[<*]", path)[0].rpartition("/")[0]
            exists = (ROOT / base).exists()
        elif path.endswith(".md") and "/" not in path:  # another document
            exists = path in EXTERNAL or any((d / path).exists() for d in (document.parent, ROOT))
        elif MIGRATION.fullmatch(path):  # `bookings/0002_slot_no_overlap`, `mediation/0006`
            app, _, name = path.partition("/")
            exists = any((ROOT / app / "migrations").glob(f"{name}*.py"))
        else:
            exists = (ROOT / path.rstrip("/.")).exists()
        if not exists:
            missing.append(path)
    assert not missing, f"{document.relative_to(ROOT)} names paths that do not exist: {missing}"


def test_the_scan_finds_paths():
    """A guard on the pattern itself: the architecture page names dozens of files."""
    assert len(named_paths(ROOT / "docs" / "architecture.md")) > 20
