"""`{{ field|as_field }}` (mediation/templatetags/form_fields.py) gives the HTML crispy-forms'
`|as_crispy_field` gives (the same elements, attributes and text, whitespace aside) for every
field of the desk's forms, empty and in error, with or without a crispy helper."""

from __future__ import annotations

from datetime import timedelta

import pytest
from crispy_forms.templatetags.crispy_forms_filters import as_crispy_field
from django import forms
from django.test.html import parse_html
from django.urls import reverse
from django.utils import timezone

from mediation.forms import CrispyMixin
from mediation.templatetags.form_fields import _render, as_field
from tests.cases.factories import CaseFactory


def _assert_same_fields(first, second):
    """`first` and `second`: two instances of one form (crispy leaves classes on widgets)."""
    for name in first.fields:
        expected = parse_html(as_crispy_field(first[name]))
        assert parse_html(as_field(second[name])) == expected, name


def _forms(client, method, url, data=None):
    send = client.post if method == "post" else client.get
    return [send(url, data).context["form"] for _ in range(2)]


def test_the_desk_form_empty(mediator_client, structure, place):
    url = reverse("session_create", kwargs={"structure": structure.slug})
    _assert_same_fields(*_forms(mediator_client, "get", url))


def test_the_desk_form_in_error(mediator_client, structure, place):
    url = reverse("session_create", kwargs={"structure": structure.slug})
    bad = {
        "who": "new",
        "new_first_name": "",
        "new_birth_year": "12",
        "new_commune_insee": "Nulle-Part-Sur-Mer",
        "duration_minutes": "",
        "duration_custom": "0",
        "place_type": "autre",
        "other_commune_insee": "zzz",
        "date": "2001-01-01",
        "autonomy": "nope",
        "outcome": "nope",
        "procedures": ["nope"],
        "equipment": ["nope"],
        "mediator": "999999",
        "place": "999999",
        "notes": "<b>x</b>",
        "action": "save",
    }
    first, second = _forms(mediator_client, "post", url, bad)
    assert len(first.errors) > 5
    _assert_same_fields(first, second)


def test_the_followups_filters(mediator_client, structure, mediator):
    CaseFactory(structure=structure, mediator=mediator)
    url = reverse("followups", kwargs={"structure": structure.slug})
    _assert_same_fields(*_forms(mediator_client, "get", url))
    _assert_same_fields(*_forms(mediator_client, "get", url + "?status=nope&mediator=x"))


class Plain(forms.Form):
    """Without a helper, with required fields, help texts and text that needs escaping."""

    name = forms.CharField(label="Nom <b>", help_text="Aide <i>ok</i>")
    agree = forms.BooleanField(label="J'accepte", help_text="Aide")
    kind = forms.ChoiceField(
        choices=[("", "—"), ("a", "A & B")], widget=forms.RadioSelect, help_text="Un seul"
    )
    several = forms.MultipleChoiceField(
        choices=[("Groupe", [("x", "X"), ("y", "Y")]), ("z", "Z")],
        widget=forms.CheckboxSelectMultiple,
    )
    pick = forms.ChoiceField(choices=[("1", "Un"), ("2", "Deux")])
    text = forms.CharField(widget=forms.Textarea, required=False)


class WithHelper(CrispyMixin, Plain):
    pass


@pytest.mark.parametrize("form_class", [Plain, WithHelper])
@pytest.mark.parametrize("data", [None, {"kind": "?", "several": ["?"], "pick": "9"}])
def test_any_form_with_the_stacked_layout(form_class, data):
    first, second = form_class(data), form_class(data)
    _assert_same_fields(first, second)


def test_a_layout_of_its_own_goes_to_crispy():
    form = WithHelper()
    form.helper.label_class = "col-2"
    assert _render(form["name"]) is None
    assert _render(Plain()["name"]) is not None


# --- The other session forms: from an appointment, a workshop --------------------------------


@pytest.fixture
def appointment(place, mediator):
    from bookings.models import Appointment
    from tests.bookings.factories import MotifFactory, SlotFactory
    from tests.factories import ResidentFactory

    motif = MotifFactory(structure=place.structure)
    starts = timezone.now() - timedelta(minutes=5)
    slot = SlotFactory(place=place, motif=motif, mediator=mediator, starts_at=starts)
    return Appointment.objects.create(
        place=place,
        motif=motif,
        mediator=mediator,
        resident=ResidentFactory(structure=place.structure),
        slot=slot,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
    )


BAD_SESSION = {
    "duration_minutes": "",
    "duration_custom": "0",
    "place_type": "autre",
    "other_commune_insee": "zzz",
    "date": "2001-01-01",
    "autonomy": "nope",
    "procedures": ["nope"],
    "mediator": "999999",
}


def test_the_form_of_an_appointment(mediator_client, structure, appointment):
    kwargs = {"structure": structure.slug, "appointment": appointment.pk}
    url = reverse("session_from_appointment", kwargs=kwargs)
    _assert_same_fields(*_forms(mediator_client, "get", url))
    _assert_same_fields(*_forms(mediator_client, "post", url, BAD_SESSION))


def test_the_workshop_form(mediator_client, structure, place):
    url = reverse("workshop_create", kwargs={"structure": structure.slug})
    _assert_same_fields(*_forms(mediator_client, "get", url))
    bad = {**BAD_SESSION, "title": "", "level": "nope", "count_gender_0": "-1"}
    _assert_same_fields(*_forms(mediator_client, "post", url, bad))
