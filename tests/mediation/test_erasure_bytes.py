"""Erasure leaves no bytes behind on SQLite (issue 17, fix 5): after an erasure commits, the
erased surname is neither in the database file's pages (secure_delete zeroes freed space) nor
in its write-ahead log (checkpointed and truncated). Uses the suite's own SQLite test
database, a file, in a transactional test (the checkpoint runs on commit)."""

import secrets
import string
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from mediation.models import Resident
from mediation.privacy import AnonymisationReason, resident_anonymise, retention_run
from tests.factories import ResidentFactory, StructureFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _sqlite_only():
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's pages and WAL; PostgreSQL: docs/security.md (VACUUM)")


def unique_surname() -> str:
    return "Zq" + "".join(secrets.choice(string.ascii_lowercase) for _ in range(12))


def files() -> list[Path]:
    name = Path(connection.settings_dict["NAME"])
    return [name, name.with_name(name.name + "-wal")]


def on_disk(text: str) -> list[str]:
    """The files holding `text` (as typed or folded, UTF-8)."""
    needles = {text.encode(), text.lower().encode(), text.upper().encode()}
    found = []
    for path in files():
        if path.exists():
            content = path.read_bytes()
            if any(needle in content for needle in needles):
                found.append(path.name)
    return found


def written_to_the_database_file():
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def test_an_erased_surname_is_neither_in_the_database_file_nor_in_its_wal():
    surname = unique_surname()
    resident = ResidentFactory(last_name=surname, first_name="Ysolde", email="y@exemple.fr")
    written_to_the_database_file()
    assert on_disk(surname), "the test must see the surname before the erasure"

    resident_anonymise(resident=resident, by=None, reason=AnonymisationReason.REQUEST)

    assert Resident.objects.get(pk=resident.pk).last_name != surname
    assert on_disk(surname) == []


def test_the_retention_run_leaves_no_bytes_behind_either():
    surname = unique_surname()
    structure = StructureFactory()
    old = timezone.now() - timedelta(days=800)
    resident = ResidentFactory(structure=structure, last_name=surname)
    Resident.objects.filter(pk=resident.pk).update(created_at=old, last_contact_at=old)
    written_to_the_database_file()
    assert on_disk(surname)

    result = retention_run()

    assert result.residents_anonymised == 1
    assert on_disk(surname) == []


def test_every_connection_deletes_securely():
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA secure_delete")
        assert cursor.fetchone()[0] == 1
