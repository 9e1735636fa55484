"""The one-page walk-in form (issue #16, "A session in under 30 seconds"): who (known, new,
anonymous), the duplicate guard, the rules of dates and durations, the mediator's themes first,
the place of the day, the entry from the home page, the workshop from its roster, and the
page's bounded number of queries."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from bookings.choices import AppointmentStatus
from bookings.models import Appointment
from cases.choices import SessionKind, TagDimension, Theme
from cases.models import HelpSession, SessionTag
from cases.selectors.sessions import most_used_themes, todays_place
from cases.services.sessions import (
    NewPerson,
    PossibleDuplicate,
    local_today,
    session_log_new_resident,
    workshop_from_roster,
)
from mediation.choices import Role
from mediation.models import Resident
from mediation.scoping import visible_structure_ids
from tests.bookings.factories import OpeningHoursFactory, SlotFactory, WorkshopFactory
from tests.cases.factories import HelpSessionFactory
from tests.conftest import member
from tests.factories import PlaceFactory, ResidentFactory, StructureFactory


def _url(structure, **query):
    base = reverse("session_create", kwargs={"structure": structure.slug})
    return base + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def _post(who="known", **overrides):
    data = {
        "who": who,
        "themes": [Theme.EMAIL],
        "duration_minutes": "30",
        "place_type": "place",
        "action": "save",
    }
    data.update(overrides)
    return data


@pytest.fixture
def page_data(place, mediator):
    return {"place": place.pk, "mediator": mediator.pk, "date": local_today(place).isoformat()}


def _fields(structure, place):
    return {
        "themes": [Theme.EMAIL],
        "duration_minutes": 30,
        "date": local_today(place),
        "place": place,
        "place_type": "place",
    }


# --- The duplicate guard (service) ----------------------------------------------------------


def test_a_new_person_and_the_session_are_created_together(structure, place, mediator):
    session = session_log_new_resident(
        structure=structure,
        by=mediator,
        person=NewPerson(first_name="Jeanne", last_name="Martin", phone="+33612345678"),
        **_fields(structure, place),
    )
    jeanne = session.resident
    assert (jeanne.first_name, jeanne.last_name, str(jeanne.phone)) == (
        "Jeanne",
        "Martin",
        "+33612345678",
    )
    assert not jeanne.is_anonymous and jeanne.structure == structure
    assert jeanne.history.get().history_user == mediator


@pytest.mark.parametrize(
    "known, typed",
    [
        ({"phone": "+33612345678"}, {"phone": "+33612345678"}),
        ({"birth_year": 1958}, {"birth_year": 1958}),
    ],
    ids=["same phone", "same year"],
)
def test_the_same_name_with_the_same_phone_or_year_asks_before_creating(
    structure, place, mediator, known, typed
):
    existing = ResidentFactory(structure=structure, first_name="Éric", last_name="Le Goff", **known)
    with pytest.raises(PossibleDuplicate) as excinfo:
        session_log_new_resident(
            structure=structure,
            by=mediator,
            person=NewPerson(first_name="eric", last_name="LE-GOFF", **typed),
            **_fields(structure, place),
        )
    assert excinfo.value.candidates == [existing]
    assert "Est-ce la même personne ?" in excinfo.value.message_dict["new_last_name"][0]
    assert Resident.objects.count() == 1 and not HelpSession.objects.exists()


def test_confirming_another_person_creates_the_record(structure, place, mediator):
    ResidentFactory(structure=structure, first_name="Éric", last_name="Le Goff", birth_year=1958)
    session = session_log_new_resident(
        structure=structure,
        by=mediator,
        person=NewPerson(first_name="Éric", last_name="Le Goff", birth_year=1958),
        confirm_new=True,
        **_fields(structure, place),
    )
    assert Resident.objects.filter(last_name="Le Goff").count() == 2
    assert session.resident.birth_year == 1958


@pytest.mark.parametrize(
    "known",
    [
        {"first_name": "Éric", "last_name": "Le Goff", "phone": "+33699999999"},
        {"first_name": "Erica", "last_name": "Le Goff", "phone": "+33612345678"},
    ],
    ids=["namesake with another phone", "same phone, another name"],
)
def test_a_namesake_or_a_shared_phone_alone_is_not_a_duplicate(structure, place, mediator, known):
    ResidentFactory(structure=structure, **known)
    session_log_new_resident(
        structure=structure,
        by=mediator,
        person=NewPerson(first_name="Éric", last_name="Le Goff", phone="+33612345678"),
        **_fields(structure, place),
    )
    assert Resident.objects.count() == 2


def test_another_structures_record_is_not_a_duplicate(structure, place, mediator):
    other = StructureFactory()
    ResidentFactory(structure=other, first_name="Éric", last_name="Le Goff", birth_year=1958)
    session_log_new_resident(
        structure=structure,
        by=mediator,
        person=NewPerson(first_name="Éric", last_name="Le Goff", birth_year=1958),
        **_fields(structure, place),
    )
    assert Resident.objects.filter(structure=structure).count() == 1


def test_a_refused_session_leaves_no_record_behind(structure, place, mediator):
    with pytest.raises(ValidationError) as excinfo:
        session_log_new_resident(
            structure=structure,
            by=mediator,
            person=NewPerson(first_name="Jeanne", last_name="Martin"),
            **{**_fields(structure, place), "themes": []},
        )
    assert "themes" in excinfo.value.message_dict
    assert not Resident.objects.exists()


# --- The page: who ----------------------------------------------------------------------------


def test_the_search_is_the_one_resident_search_partial_phone_and_year(
    mediator_client, structure, place
):
    monique = ResidentFactory(
        structure=structure, first_name="Monique", last_name="Hamon", phone="+33612345678"
    )
    paul = ResidentFactory(
        structure=structure, first_name="Paul", last_name="Durand", birth_year=1952
    )
    for query, found in (("56 78", monique), ("1952", paul), ("hamon", monique)):
        response = mediator_client.post(_url(structure), {"q": query, "action": "search"})
        body = response.content.decode()
        assert f'name="resident" value="{found.pk}"' in body, query
        assert response.context["form"].errors == {}  # a search says nothing of the form


def test_a_known_resident_is_logged_from_the_page(mediator_client, structure, page_data, resident):
    response = mediator_client.post(_url(structure), _post(resident=resident.pk, **page_data))
    assert response.status_code == 302, response.context["form"].errors
    assert HelpSession.objects.get().resident == resident


def test_known_without_a_resident_is_an_error_at_the_search(mediator_client, structure, page_data):
    response = mediator_client.post(_url(structure), _post(q="personne", **page_data))
    assert response.status_code == 200
    assert "Choisissez la personne" in response.context["form"].errors["q"][0]


def test_a_new_person_is_created_with_the_session_from_the_page(
    mediator_client, structure, page_data
):
    data = _post(
        "new",
        new_first_name="Jeanne",
        new_last_name="Martin",
        new_phone="06 12 34 56 78",
        new_commune_insee="35126",
        **page_data,
    )
    response = mediator_client.post(_url(structure), data)
    assert response.status_code == 302, response.context["form"].errors
    jeanne = HelpSession.objects.get().resident
    assert (jeanne.last_name, str(jeanne.phone), jeanne.commune_insee) == (
        "Martin",
        "+33612345678",
        "35126",
    )


def test_a_new_person_needs_a_name_said_in_french_at_the_field(
    mediator_client, structure, page_data
):
    response = mediator_client.post(_url(structure), _post("new", **page_data))
    errors = response.context["form"].errors
    assert errors["new_first_name"] == ["Indiquez le prénom de la personne."]
    assert "initiales" in errors["new_last_name"][0]
    assert not Resident.objects.exists()


def test_the_page_asks_est_ce_la_meme_personne_then_attaches_or_creates(
    mediator_client, structure, page_data
):
    eric = ResidentFactory(
        structure=structure, first_name="Éric", last_name="Le Goff", phone="+33612345678"
    )
    typed = _post(
        "new",
        new_first_name="Eric",
        new_last_name="Le Goff",
        new_phone="06 12 34 56 78",
        notes="Mot à garder",
        **page_data,
    )
    response = mediator_client.post(_url(structure), typed)
    body = response.content.decode()
    assert response.status_code == 200
    assert "Est-ce la même personne ?" in body
    assert f'name="same_person" value="{eric.pk}"' in body and 'value="new"' in body
    assert 'value="Eric"' in body and "Mot à garder" in body  # what was typed is kept
    assert Resident.objects.count() == 1 and not HelpSession.objects.exists()

    # "Oui, c'est Éric Le Goff": the session goes to the record, none is created.
    response = mediator_client.post(_url(structure), {**typed, "same_person": str(eric.pk)})
    assert response.status_code == 302
    assert HelpSession.objects.get().resident == eric and Resident.objects.count() == 1

    # "Non, créer une nouvelle fiche".
    response = mediator_client.post(_url(structure), {**typed, "same_person": "new"})
    assert response.status_code == 302
    assert Resident.objects.filter(last_name="Le Goff").count() == 2


def test_a_tampered_same_person_is_a_form_error(mediator_client, structure, page_data):
    stranger = ResidentFactory(structure=StructureFactory())
    data = _post(
        "new", new_first_name="Eric", new_last_name="Le Goff", same_person=stranger.pk, **page_data
    )
    response = mediator_client.post(_url(structure), data)
    assert response.status_code == 200
    assert "new_last_name" in response.context["form"].errors
    assert not HelpSession.objects.exists()


def test_an_anonymous_walk_in_from_the_page(mediator_client, structure, page_data):
    data = _post("anonymous", age_band="70+", status="retired", gender="female", **page_data)
    response = mediator_client.post(_url(structure), data)
    assert response.status_code == 302, response.context["form"].errors
    person = HelpSession.objects.get().resident
    assert person.is_anonymous and person.age_band == "70+"


# --- Bad input: a French error at the field, what was typed kept -----------------------------


@pytest.mark.parametrize(
    "change, field, words",
    [
        ({"date": "future"}, "date", "futur"),
        ({"date": "long ago"}, "date", "plus d'un an"),
        ({"duration_custom": "0"}, "duration_custom", "au moins une minute"),
        ({"duration_custom": "1440"}, "duration_custom", "8 heures"),
    ],
    ids=["future", "more than a year back", "0 min", "24 h"],
)
def test_bad_dates_and_durations_are_refused_at_the_field(
    mediator_client, structure, place, page_data, resident, change, field, words
):
    today = local_today(place)
    dates = {"future": today + timedelta(days=1), "long ago": today - timedelta(days=400)}
    if "date" in change:
        change = {"date": dates[change["date"]].isoformat()}
    data = _post(resident=resident.pk, notes="Mot à garder", **{**page_data, **change})
    response = mediator_client.post(_url(structure), data)
    assert response.status_code == 200
    assert words in response.context["form"].errors[field][0]
    body = response.content.decode()
    assert "Mot à garder" in body
    if field == "date":
        assert '<details class="mb-3" open>' in body  # the field in error is shown
    assert not HelpSession.objects.exists()


def test_an_edit_may_keep_a_date_older_than_a_year(structure, place, mediator):
    from cases.services.sessions import session_update

    old = HelpSessionFactory(
        structure=structure,
        mediator=mediator,
        place=place,
        date=local_today(place) - timedelta(days=500),
    )
    session_update(session=old, by=mediator, notes="Relu")
    old.refresh_from_db()
    assert old.notes == "Relu"


# --- What: the mediator's themes first -------------------------------------------------------


def test_the_mediators_most_used_themes_come_first_in_one_query(
    structure, place, mediator, django_assert_num_queries
):
    colleague = member(structure, Role.MEDIATOR)
    for codes, who in (
        ([Theme.SANTE, Theme.EMAIL], mediator),
        ([Theme.SANTE], mediator),
        ([Theme.BUREAUTIQUE] * 1, colleague),
        ([Theme.BUREAUTIQUE], colleague),
    ):
        session = HelpSessionFactory(structure=structure, mediator=who, place=place, themes=[])
        SessionTag.objects.bulk_create(
            SessionTag(session=session, dimension=TagDimension.THEME, code=c) for c in codes
        )
    visible_structure_ids(mediator, "log_session")  # the roles, read once a request
    with django_assert_num_queries(1):
        order = most_used_themes(mediator, structure)
    assert order == [Theme.SANTE, Theme.EMAIL]


def test_the_page_shows_the_mediators_themes_first(mediator_client, structure, place, mediator):
    session = HelpSessionFactory(
        structure=structure, mediator=mediator, place=place, themes=[Theme.PARENTALITE]
    )
    assert list(session.tags.values_list("code", flat=True)) == [Theme.PARENTALITE]
    body = mediator_client.get(_url(structure)).content.decode()
    assert body.index('value="parentalite"') < body.index('value="navigation_internet"')
    assert "Médiation numérique" in body and "Démarches administratives" in body


# --- Where: the place of the day ---------------------------------------------------------------


def test_the_place_is_todays_appointments_then_opening_hours(structure, place, mediator):
    library = PlaceFactory(structure=structure, name="Médiathèque")
    places = [place, library]
    today = local_today(place)
    assert todays_place(mediator, structure, places, today) is None
    OpeningHoursFactory(
        place=library, mediator=mediator, weekdays=[today.weekday()], first_day=today
    )
    assert todays_place(mediator, structure, places, today) == library
    slot = SlotFactory(
        place=place,
        mediator=mediator,
        starts_at=datetime.combine(today, time(10), tzinfo=place.tzinfo),
    )
    Appointment.objects.create(
        place=place,
        motif=slot.motif,
        mediator=mediator,
        slot=slot,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        resident=ResidentFactory(structure=structure),
    )
    assert todays_place(mediator, structure, places, today) == place


def test_the_form_prefills_todays_place(mediator_client, structure, place, mediator):
    library = PlaceFactory(structure=structure, name="Médiathèque")
    today = local_today(place)
    OpeningHoursFactory(
        place=library, mediator=mediator, weekdays=[today.weekday()], first_day=today
    )
    form = mediator_client.get(_url(structure)).context["form"]
    assert form.initial["place"] == library


# --- The entry from the home page ---------------------------------------------------------


def test_the_home_page_leads_to_the_walk_in_form(mediator_client, structure, place):
    home = mediator_client.get(reverse("home")).content.decode()
    assert reverse("desk_walk_in") in home
    response = mediator_client.get(reverse("desk_walk_in"))
    assert response.status_code == 302 and response["Location"] == _url(structure)


def test_a_mediator_of_two_structures_picks_the_structure_first(client, structure, mediator):
    other = StructureFactory(name="CCAS de Bruz", slug="ccas-bruz")
    from tests.factories import MembershipFactory

    MembershipFactory(user=mediator, structure=other, role=Role.MEDIATOR)
    client.force_login(mediator)
    body = client.get(reverse("desk_walk_in")).content.decode()
    assert _url(structure) in body and _url(other) in body


def test_someone_who_logs_no_session_is_refused(client, coordinator):
    client.force_login(coordinator)
    assert client.get(reverse("desk_walk_in")).status_code == 403


# --- Bounded queries --------------------------------------------------------------------------


def test_the_page_runs_a_bounded_number_of_queries(
    mediator_client, structure, place, mediator, page_data, django_assert_max_num_queries
):
    for i in range(30):
        resident = ResidentFactory(structure=structure, last_name="Hamon", first_name=f"A{i}")
        HelpSessionFactory(structure=structure, mediator=mediator, place=place, resident=resident)
    with django_assert_max_num_queries(20):
        mediator_client.get(_url(structure))
    with django_assert_max_num_queries(20):
        mediator_client.post(_url(structure), {"q": "hamon", "action": "search"})
    with django_assert_max_num_queries(45):  # history rows and savepoints included
        response = mediator_client.post(
            _url(structure),
            _post("new", new_first_name="Jeanne", new_last_name="Martin", **page_data),
        )
    assert response.status_code == 302


# --- A workshop from its roster -----------------------------------------------------------


@pytest.fixture
def roster(structure, place, mediator):
    motif = WorkshopFactory(structure=structure, name="Atelier smartphone", capacity=3)
    start = datetime.combine(local_today(place), time(0), tzinfo=place.tzinfo)
    slot = SlotFactory(place=place, motif=motif, mediator=mediator, starts_at=start, capacity=3)
    seats = []
    for name in ("Hamon", "Durand"):
        seats.append(
            Appointment.objects.create(
                place=place,
                motif=motif,
                mediator=mediator,
                slot=slot,
                starts_at=slot.starts_at,
                ends_at=slot.ends_at,
                resident=ResidentFactory(structure=structure, last_name=name),
            )
        )
    return seats


def test_the_agenda_offers_to_log_the_workshop_from_its_roster(mediator_client, structure, roster):
    body = mediator_client.get(
        reverse("agenda", kwargs={"structure": structure.slug}) + "?mediator=tous"
    ).content.decode()
    url = reverse(
        "workshop_from_appointment",
        kwargs={"structure": structure.slug, "appointment": roster[0].pk},
    )
    assert url in body and "Terminer et saisir" not in body


def test_the_roster_is_ticked_and_the_present_marked_seen(
    mediator_client, structure, place, mediator, roster
):
    url = reverse(
        "workshop_from_appointment",
        kwargs={"structure": structure.slug, "appointment": roster[1].pk},
    )
    form = mediator_client.get(url).context["form"]
    assert form.initial["title"] == "Atelier smartphone"
    assert {r.pk for r in form.initial["participants"]} == {a.resident_id for a in roster}

    present = roster[0]
    data = {
        "title": "Atelier smartphone",
        "themes": [Theme.PRISE_EN_MAIN_MATERIEL],
        "duration_minutes": "90",
        "date": local_today(place).isoformat(),
        "place_type": "place",
        "place": place.pk,
        "mediator": mediator.pk,
        "participants": [present.resident_id],
        "action": "save",
    }
    assert mediator_client.post(url, data).status_code == 302
    session = HelpSession.objects.get()
    assert session.kind == SessionKind.COLLECTIVE and session.people_count == 1
    statuses = dict(Appointment.objects.values_list("pk", "status"))
    assert statuses == {present.pk: AppointmentStatus.SEEN, roster[1].pk: AppointmentStatus.BOOKED}
    # Logged once: the page now leads to the session, the service refuses a second one.
    assert mediator_client.get(url)["Location"].endswith(f"/{session.pk}/modifier/")
    with pytest.raises(ValidationError):
        workshop_from_roster(
            appointment=roster[1],
            by=mediator,
            title="Encore",
            themes=[Theme.EMAIL],
            duration_minutes=90,
            date=local_today(place),
            place=place,
            participants=[roster[1].resident],
        )


def test_a_workshop_not_yet_started_cannot_be_logged(structure, place, mediator):
    motif = WorkshopFactory(structure=structure)
    start = timezone.now() + timedelta(days=2)
    slot = SlotFactory(place=place, motif=motif, mediator=mediator, starts_at=start, capacity=3)
    seat = Appointment.objects.create(
        place=place,
        motif=motif,
        mediator=mediator,
        slot=slot,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        resident=ResidentFactory(structure=structure),
    )
    with pytest.raises(ValidationError):
        workshop_from_roster(
            appointment=seat,
            by=mediator,
            title="Atelier",
            themes=[Theme.EMAIL],
            duration_minutes=90,
            date=local_today(place),
            place=place,
            participants=[seat.resident],
        )
    assert not HelpSession.objects.exists()
