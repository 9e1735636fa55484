"""The walk-in form: where it took place (the usual place prefilled, the place marked as
required) and the message once saved, in correct French."""

from __future__ import annotations

import re

from django.urls import reverse

from cases.choices import PlaceType, Theme
from cases.models import HelpSession
from tests.cases.factories import HelpSessionFactory
from tests.factories import PlaceFactory


def _url(structure, **query):
    base = reverse("session_create", kwargs={"structure": structure.slug})
    return base + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def test_an_anonymous_walk_in_saved_says_so_in_correct_french(
    mediator_client, structure, place, mediator
):
    data = {
        "themes": [Theme.EMAIL],
        "duration_minutes": "30",
        "date": "2026-01-12",
        "place_type": PlaceType.PLACE,
        "place": place.pk,
        "mediator": mediator.pk,
        "age_band": "not_given",
        "status": "not_given",
        "gender": "not_given",
    }
    response = mediator_client.post(_url(structure, anonyme=1), data, follow=True)

    session = HelpSession.objects.get()
    body = response.content.decode()
    assert f"Accompagnement enregistré pour un usager anonyme (n°{session.resident_id})." in body
    assert "de Usager" not in body


def test_the_walk_in_form_prefills_the_mediators_usual_place_and_marks_it_required(
    mediator_client, structure, place, mediator
):
    PlaceFactory(structure=structure, name="Médiathèque")
    HelpSessionFactory(structure=structure, mediator=mediator, place=place)

    body = mediator_client.get(_url(structure, anonyme=1)).content.decode()

    select = re.search(r'<select name="place".*?</select>', body, re.S).group(0)
    assert re.search(rf'<option value="{place.pk}" selected>', select)
    label = re.search(r'<label\s+for="id_place"[^>]*>(.*?)</label>', body, re.S).group(1)
    assert "Lieu d&#x27;activité" in label and "asteriskField" in label
    assert "Dans un lieu d&#x27;activité" in body
    assert not re.search(r"<input[^>]*place_type[^>]*>\s*Lieu d&#x27;activité", body)


def test_a_walk_in_at_home_needs_no_place(mediator_client, structure, place, mediator):
    PlaceFactory(structure=structure, name="Médiathèque")
    data = {
        "themes": [Theme.EMAIL],
        "duration_minutes": "30",
        "date": "2026-01-12",
        "place_type": PlaceType.HOME,
        "mediator": mediator.pk,
        "age_band": "not_given",
        "status": "not_given",
        "gender": "not_given",
    }
    assert mediator_client.post(_url(structure, anonyme=1), data).status_code == 302
    data["place_type"] = PlaceType.PLACE
    response = mediator_client.post(_url(structure, anonyme=1), data)
    assert "Choisissez le lieu d&#x27;activité." in response.content.decode()
