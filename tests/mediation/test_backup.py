import pytest
from django.core.management import call_command

from mediation.models import Membership, Place, Resident, Structure
from tests.seeded import seeded_demo


def counts():
    return (
        Structure.objects.count(),
        Place.objects.count(),
        Membership.objects.count(),
        Resident.objects.count(),
    )


@pytest.mark.django_db(transaction=True)
def test_backup_and_restore_round_trip_the_demo_data(tmp_path):
    seeded_demo()  # the demo as seed_demo leaves it (tests/seeded.py)
    before = counts()
    names = set(Resident.objects.values_list("first_name", "last_name"))
    target = tmp_path / "permanence.backup"
    call_command("backup", output=str(target), verbosity=0)
    assert target.stat().st_size > 0

    Resident.objects.update(first_name="Effacé")
    Structure.objects.filter(slug="ccas-redon").update(name="Changé après la sauvegarde")
    Structure.objects.create(name="Créée après la sauvegarde", slug="apres", kind="mairie")
    call_command("restore", str(target), yes=True, verbosity=0)

    assert counts() == before
    assert set(Resident.objects.values_list("first_name", "last_name")) == names
    assert Structure.objects.get(slug="ccas-redon").name.startswith("CCAS de Redon")
