"""Staff resident forms: a foreign number written with its country code is kept; a number
that cannot be read is refused in French, saying how to write a foreign one."""

from __future__ import annotations

import pytest
from django.urls import reverse

from mediation.models import Resident

IDENTITY = {"first_name": "John", "last_name": "Smith", "age_band": "not_given"}
IDENTITY |= {"gender": "not_given", "status": "not_given"}


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("+44 7911 123456", "+447911123456"), ("+32 470 12 34 56", "+32470123456")],
)
def test_a_foreign_mobile_with_its_country_code_is_kept(
    mediator_client, structure, place, typed, stored
):
    url = reverse("resident_create", kwargs={"structure": structure.slug})
    response = mediator_client.post(url, {**IDENTITY, "phone": typed})

    assert response.status_code == 302
    resident = Resident.objects.get(last_name="Smith")
    assert resident.phone == stored
    page = mediator_client.get(response["Location"]).content.decode()
    assert typed in page


@pytest.mark.parametrize("typed", ["07911 123456", "+44 7700 900123"])
def test_an_unreadable_number_is_refused_in_french_with_how_to_write_a_foreign_one(
    mediator_client, structure, place, typed
):
    url = reverse("resident_create", kwargs={"structure": structure.slug})
    body = mediator_client.post(url, {**IDENTITY, "phone": typed}).content.decode()

    assert "Ce numéro de téléphone n&#x27;est pas valide." in body
    assert "Un numéro étranger s&#x27;écrit avec son indicatif" in body
    assert "not valid" not in body
    assert not Resident.objects.filter(last_name="Smith").exists()


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("+33612345678", "06 12 34 56 78"),
        ("+262692123456", "0692 12 34 56"),
        ("+447911123456", "+44 7911 123456"),
    ],
)
def test_a_number_is_shown_as_a_french_desk_dials_it(stored, shown):
    from phonenumber_field.phonenumber import PhoneNumber

    from cases.templatetags.resident_tags import phone_display

    assert phone_display(PhoneNumber.from_string(stored)) == shown
