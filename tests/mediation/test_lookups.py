import pytest
from django.urls import reverse

from mediation.models import Place, Resident
from tests.factories import PlaceFactory, ResidentFactory

pytestmark = pytest.mark.django_db


def test_an_id_beyond_64_bits_matches_nothing_instead_of_failing():
    place = PlaceFactory()
    assert list(Place.objects.filter(pk__in=[place.pk, 10**20, -(10**20)])) == [place]
    assert not Place.objects.filter(pk__in=[10**20]).exists()


def test_a_forged_huge_id_in_a_multiple_choice_is_a_form_error(admin_client_structure, structure):
    # SQLite raised OverflowError (500) on the form's pk__in query.
    url = reverse("opening_hours_create", kwargs={"structure": structure.slug})
    response = admin_client_structure.post(url, {"motifs": "99999999999999999999"})
    assert response.status_code == 200
    assert response.context["form"].errors["motifs"]


def test_a_name_search_with_a_nul_byte_finds_nobody_instead_of_failing():
    # PostgreSQL refuses NUL in text: the workshop's participant search failed with a 500.
    ResidentFactory(first_name="Abel", last_name="Bertin")
    assert not Resident.objects.matching_name("a\x00b").exists()
    assert Resident.objects.matching_name("abel").exists()
