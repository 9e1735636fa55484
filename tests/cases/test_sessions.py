"""The activity log: logging a session (walk-in, anonymous, from an appointment, workshop), its
rules, edit and delete, the pages and their scoping."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime, time, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bookings.choices import AppointmentStatus, MotifMode
from bookings.models import Appointment
from cases.choices import (
    CountDimension,
    Outcome,
    PlaceType,
    ProcedureArea,
    RedirectedTo,
    SessionKind,
    TagDimension,
    Theme,
)
from cases.models import HelpSession, ParticipantCount, SessionTag
from cases.services.sessions import (
    AnonymousProfile,
    local_today,
    session_delete,
    session_from_appointment,
    session_log,
    session_update,
)
from mediation.choices import AgeBand, Gender, ResidentStatus, Role
from mediation.models import Membership, Resident
from tests.bookings.factories import MotifFactory, SlotFactory, WorkshopFactory
from tests.cases.factories import CaseFactory, HelpSessionFactory, WorkshopSessionFactory
from tests.conftest import member
from tests.factories import NetworkFactory, PlaceFactory, ResidentFactory, StructureFactory
from tests.search import search_get, search_url

pytestmark = pytest.mark.django_db

S = AppointmentStatus
PARIS = zoneinfo.ZoneInfo("Europe/Paris")
REUNION = zoneinfo.ZoneInfo("Indian/Reunion")
ADMIN = Theme.DEMARCHES_ADMINISTRATIVES


# --- Helpers ------------------------------------------------------------------------------


def today(place=None):
    return local_today(place)


def log(where, by, /, **overrides):
    """session_log of a valid individual session at `where` by `by`, changed by `overrides`."""
    data = {
        "structure": where,
        "by": by,
        "date": today(),
        "duration_minutes": 30,
        "place": where.places.first(),
        "themes": [Theme.EMAIL],
    }
    if "anonymous" not in overrides and "resident" not in overrides:
        data["resident"] = ResidentFactory(structure=where)
    data.update(overrides)
    return session_log(**data)


def errors_of(excinfo) -> dict[str, list[str]]:
    return excinfo.value.message_dict


def make_appointment(*, place, motif, mediator, resident=None, starts_at, status=S.BOOKED):
    resident = resident or ResidentFactory(structure=place.structure)
    slot = SlotFactory(place=place, motif=motif, mediator=mediator, starts_at=starts_at)
    return Appointment.objects.create(
        place=place,
        motif=motif,
        mediator=mediator,
        resident=resident,
        slot=slot,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        status=status,
        need="Dossier retraite",
    )


def an_hour_ago():
    # Earlier today in Paris whatever the hour the tests run (00:00 at the earliest).
    now = timezone.now()
    midnight = datetime.combine(timezone.localdate(now, PARIS), time(0), tzinfo=PARIS)
    return max(midnight, now - timedelta(hours=1))


@pytest.fixture
def motif(structure):
    return MotifFactory(structure=structure, name="Aide aux démarches", duration_minutes=45)


@pytest.fixture
def appointment(place, motif, mediator):
    return make_appointment(place=place, motif=motif, mediator=mediator, starts_at=an_hour_ago())


@pytest.fixture
def other(db):
    """Another structure, with a place, a mediator, a resident and an appointment."""
    structure = StructureFactory(name="CCAS de Bain", slug="ccas-bain")
    place = PlaceFactory(structure=structure, name="Accueil CCAS")
    mediator = member(structure, Role.MEDIATOR)
    resident = ResidentFactory(structure=structure, first_name="Zoé", last_name="Secrète")
    motif = MotifFactory(structure=structure)
    appt = make_appointment(
        place=place, motif=motif, mediator=mediator, resident=resident, starts_at=an_hour_ago()
    )
    session = HelpSessionFactory(structure=structure, mediator=mediator, resident=resident)
    return {
        "structure": structure,
        "place": place,
        "mediator": mediator,
        "resident": resident,
        "appointment": appt,
        "session": session,
    }


def url(name, structure, **kwargs):
    return reverse(name, kwargs={"structure": structure.slug, **kwargs})


def post_data(**overrides):
    """A valid POST of the individual session form."""
    data = {
        "themes": [Theme.EMAIL],
        "duration_minutes": "30",
        "date": today().isoformat(),
        "place_type": PlaceType.PLACE,
        "mediator": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


# --- Logging a session: what is written -----------------------------------------------------


def test_a_session_is_written_with_its_tags_people_count_and_author(
    structure, place, mediator, resident
):
    session = log(
        structure,
        mediator,
        resident=resident,
        themes=[ADMIN, Theme.EMAIL],
        procedures=[ProcedureArea.RETRAITE],
        equipment=["computer", "phone"],
        procedure_detail="  Demande de retraite  ",
        outcome=Outcome.RESOLVED,
    )
    assert session.kind == SessionKind.INDIVIDUAL
    assert session.people_count == 1
    assert session.mediator == mediator and session.created_by == mediator
    assert session.procedure_detail == "Demande de retraite"
    assert sorted(session.tags.values_list("dimension", "code")) == sorted(
        [
            (TagDimension.THEME, ADMIN),
            (TagDimension.THEME, Theme.EMAIL),
            (TagDimension.PROCEDURE, ProcedureArea.RETRAITE),
            (TagDimension.EQUIPMENT, "computer"),
            (TagDimension.EQUIPMENT, "phone"),
        ]
    )
    assert session.history.get().history_user == mediator


def test_logging_moves_the_residents_last_contact_forward_only(structure, place, mediator):
    long_ago = timezone.now() - timedelta(days=400)
    resident = ResidentFactory(structure=structure, last_contact_at=long_ago)
    log(structure, mediator, resident=resident)
    resident.refresh_from_db()
    assert timezone.now() - resident.last_contact_at < timedelta(minutes=1)

    # An old session logged late does not make the recent contact look older.
    recent = resident.last_contact_at
    log(structure, mediator, resident=resident, date=today() - timedelta(days=30))
    resident.refresh_from_db()
    assert resident.last_contact_at == recent


def test_a_session_may_be_logged_for_another_mediator_of_the_structure(
    structure, place, mediator, structure_admin
):
    session = log(structure, structure_admin, mediator=mediator)
    assert session.mediator == mediator and session.created_by == structure_admin


def test_the_mediator_must_belong_to_the_structure(structure, place, mediator, other):
    with pytest.raises(ValidationError) as excinfo:
        log(structure, mediator, mediator=other["mediator"])
    assert "mediator" in errors_of(excinfo)


# --- Rules, each at its field ---------------------------------------------------------------


@pytest.mark.parametrize("minutes", [0, -5, 481, 10_000])
def test_a_duration_of_zero_or_over_eight_hours_is_refused(structure, place, mediator, minutes):
    with pytest.raises(ValidationError) as excinfo:
        log(structure, mediator, duration_minutes=minutes)
    assert list(errors_of(excinfo)) == ["duration_minutes"]
    assert not HelpSession.objects.exists()


@pytest.mark.parametrize("minutes", [1, 480])
def test_durations_at_the_bounds_are_accepted(structure, place, mediator, minutes):
    assert log(structure, mediator, duration_minutes=minutes).duration_minutes == minutes


def test_a_session_dated_in_the_future_is_refused(structure, place, mediator):
    with pytest.raises(ValidationError) as excinfo:
        log(structure, mediator, date=today(place) + timedelta(days=1))
    assert "futur" in errors_of(excinfo)["date"][0]


def test_the_future_is_judged_in_the_places_time_zone(structure, mediator):
    # 21:30 UTC: already the 11th in La Réunion, still the 10th in Paris.
    now = datetime(2026, 3, 10, 21, 30, tzinfo=UTC)
    reunion = PlaceFactory(structure=structure, name="Saint-Denis", time_zone="Indian/Reunion")
    paris = PlaceFactory(structure=structure, name="Lohéac")
    eleventh = datetime(2026, 3, 11).date()
    assert log(structure, mediator, place=reunion, date=eleventh, now=now).date == eleventh
    with pytest.raises(ValidationError) as excinfo:
        log(structure, mediator, place=paris, date=eleventh, now=now)
    assert "date" in errors_of(excinfo)


def test_procedure_areas_need_the_administrative_theme(structure, place, mediator):
    with pytest.raises(ValidationError) as excinfo:
        log(structure, mediator, themes=[Theme.EMAIL], procedures=[ProcedureArea.LOGEMENT])
    assert "Démarches administratives" in errors_of(excinfo)["procedures"][0]
    session = log(structure, mediator, themes=[ADMIN], procedures=[ProcedureArea.LOGEMENT])
    assert session.tags.filter(dimension=TagDimension.PROCEDURE).count() == 1


def test_at_least_one_theme(structure, place, mediator):
    with pytest.raises(ValidationError) as excinfo:
        log(structure, mediator, themes=[])
    assert errors_of(excinfo)["themes"] == ["Cochez au moins un thème."]


def test_unknown_codes_are_refused_at_their_field(structure, place, mediator):
    with pytest.raises(ValidationError) as excinfo:
        log(structure, mediator, themes=["astrologie"], equipment=["fax"], outcome="won")
    assert {"themes", "equipment", "outcome"} <= set(errors_of(excinfo))


def test_redirected_to_is_required_with_the_redirected_outcome(structure, place, mediator):
    with pytest.raises(ValidationError) as excinfo:
        log(structure, mediator, outcome=Outcome.REDIRECTED)
    assert "redirected_to" in errors_of(excinfo)
    session = log(
        structure, mediator, outcome=Outcome.REDIRECTED, redirected_to=RedirectedTo.FRANCE_SERVICES
    )
    assert session.redirected_to == RedirectedTo.FRANCE_SERVICES


def test_redirected_to_is_refused_without_the_redirected_outcome(structure, place, mediator):
    with pytest.raises(ValidationError) as excinfo:
        log(structure, mediator, outcome=Outcome.RESOLVED, redirected_to=RedirectedTo.OTHER)
    assert "Orienté" in errors_of(excinfo)["redirected_to"][0]


def test_another_place_needs_a_valid_commune(structure, place, mediator):
    with pytest.raises(ValidationError) as excinfo:
        log(structure, mediator, place=None, place_type=PlaceType.OTHER)
    assert "other_commune_insee" in errors_of(excinfo)
    with pytest.raises(ValidationError) as excinfo:
        log(structure, mediator, place_type=PlaceType.OTHER, other_commune_insee="123")
    assert "other_commune_insee" in errors_of(excinfo)
    session = log(structure, mediator, place_type=PlaceType.OTHER, other_commune_insee="2A004")
    assert session.other_commune_insee == "2A004"


def test_the_commune_is_only_kept_for_another_place(structure, place, mediator):
    session = log(structure, mediator, place_type=PlaceType.HOME, other_commune_insee="35238")
    assert session.other_commune_insee == ""


def test_a_session_at_a_place_of_activity_needs_one_of_the_structures_places(
    structure, place, mediator, other
):
    with pytest.raises(ValidationError) as excinfo:
        log(structure, mediator, place=None)
    assert "place" in errors_of(excinfo)
    with pytest.raises(ValidationError) as excinfo:
        log(structure, mediator, place=other["place"])
    assert "place" in errors_of(excinfo)


def test_a_resident_the_mediator_may_not_see_is_refused(structure, place, mediator, other):
    with pytest.raises(ValidationError) as excinfo:
        log(structure, mediator, resident=other["resident"])
    assert "resident" in errors_of(excinfo)
    assert not HelpSession.objects.filter(structure=structure).exists()


def test_a_resident_shared_within_the_network_may_be_helped(structure, place, mediator, other):
    network = NetworkFactory()
    for s in (structure, other["structure"]):
        s.networks.add(network)
    shared = other["resident"]
    shared.shared_with_network = True
    shared.save()
    session = log(structure, mediator, resident=shared)
    assert session.resident == shared and session.structure == structure


def test_an_individual_session_helps_someone(structure, place, mediator):
    with pytest.raises(ValidationError) as excinfo:
        log(structure, mediator, resident=None)
    assert "resident" in errors_of(excinfo)


def test_every_problem_is_reported_at_once(structure, place, mediator):
    with pytest.raises(ValidationError) as excinfo:
        log(
            structure,
            mediator,
            duration_minutes=0,
            date=today() + timedelta(days=3),
            themes=[],
            procedures=[ProcedureArea.JUSTICE],
        )
    assert {"duration_minutes", "date", "themes", "procedures"} <= set(errors_of(excinfo))


# --- Anonymous walk-in --------------------------------------------------------------------


def test_an_anonymous_walk_in_keeps_no_identity(structure, place, mediator):
    profile = AnonymousProfile(
        age_band=AgeBand.OVER_70,
        status=ResidentStatus.RETIRED,
        gender=Gender.FEMALE,
        commune_insee="35155",
    )
    session = log(structure, mediator, anonymous=profile)
    person = session.resident
    assert person.is_anonymous and person.structure == structure
    assert (person.first_name, person.last_name, person.email, str(person.phone)) == (
        "",
        "",
        "",
        "",
    )
    assert person.birth_year is None and person.search_name == ""
    assert (person.age_band, person.status, person.gender, person.commune_insee) == (
        "70+",
        "retired",
        "female",
        "35155",
    )
    assert person.history.get().history_user == mediator


def test_a_refused_anonymous_session_leaves_no_resident_behind(structure, place, mediator):
    before = Resident.objects.count()
    with pytest.raises(ValidationError):
        log(structure, mediator, anonymous=AnonymousProfile(), themes=[])
    with pytest.raises(ValidationError) as excinfo:
        log(structure, mediator, anonymous=AnonymousProfile(age_band="99+"))
    assert "age_band" in errors_of(excinfo)
    assert Resident.objects.count() == before


# --- Workshops ----------------------------------------------------------------------------


def workshop(where, by, /, **overrides):
    data = {"kind": SessionKind.COLLECTIVE, "title": "Atelier smartphone", "resident": None}
    data.update(overrides)
    return log(where, by, **data)


def test_a_workshop_counts_named_participants_plus_one_dimensions_total(structure, place, mediator):
    named = [ResidentFactory(structure=structure) for _ in range(2)]
    session = workshop(
        structure,
        mediator,
        participants=named,
        counts={
            CountDimension.AGE_BAND: {"60-69": 3, "70+": 2},
            CountDimension.STATUS: {"retired": 4, "not_given": 1},
            CountDimension.GENDER: {},
        },
    )
    assert session.people_count == 2 + 5
    assert session.resident is None
    assert set(session.participants.all()) == set(named)
    assert ParticipantCount.objects.filter(session=session).count() == 4
    for person in named:
        person.refresh_from_db()
        assert timezone.now() - person.last_contact_at < timedelta(minutes=1)


def test_workshop_counts_must_agree_between_dimensions(structure, place, mediator):
    with pytest.raises(ValidationError) as excinfo:
        workshop(
            structure,
            mediator,
            counts={
                CountDimension.AGE_BAND: {"60-69": 8},
                CountDimension.STATUS: {"retired": 7},
                CountDimension.GENDER: {"female": 5, "male": 3},
            },
        )
    errors = errors_of(excinfo)
    assert list(errors) == ["counts_status"]
    assert "(7)" in errors["counts_status"][0] and "(8)" in errors["counts_status"][0]
    assert not HelpSession.objects.exists()


def test_a_workshop_with_only_genders_counts_them(structure, place, mediator):
    session = workshop(structure, mediator, counts={CountDimension.GENDER: {"female": 6}})
    assert session.people_count == 6


def test_a_workshop_needs_a_title_and_someone(structure, place, mediator):
    with pytest.raises(ValidationError) as excinfo:
        workshop(structure, mediator, title="  ")
    assert set(errors_of(excinfo)) == {"title", "participants"}


def test_workshop_counts_are_bounded(structure, place, mediator):
    with pytest.raises(ValidationError) as excinfo:
        workshop(structure, mediator, counts={CountDimension.AGE_BAND: {"70+": 501}})
    assert "counts_age_band" in errors_of(excinfo)
    with pytest.raises(ValidationError) as excinfo:
        workshop(structure, mediator, counts={CountDimension.AGE_BAND: {"martians": 1}})
    assert "counts_age_band" in errors_of(excinfo)


# --- From an appointment ------------------------------------------------------------------


def test_an_appointment_becomes_its_session_and_is_marked_seen(
    structure, place, mediator, structure_admin, appointment
):
    session = session_from_appointment(
        appointment=appointment, by=structure_admin, themes=[Theme.EMAIL]
    )
    appointment.refresh_from_db()
    assert appointment.status == S.SEEN
    assert appointment.history.first().history_user == structure_admin
    assert session.appointment == appointment and appointment.help_session == session
    assert session.resident == appointment.resident
    assert session.mediator == mediator  # the appointment's, not the one who typed it
    assert session.created_by == structure_admin
    assert session.place == place and session.duration_minutes == 45
    assert session.date == timezone.localtime(appointment.starts_at, PARIS).date()


def test_a_second_session_for_the_same_appointment_is_refused(mediator, appointment):
    session_from_appointment(appointment=appointment, by=mediator, themes=[Theme.EMAIL])
    with pytest.raises(ValidationError) as excinfo:
        session_from_appointment(appointment=appointment, by=mediator, themes=[Theme.SANTE])
    assert "déjà saisi" in excinfo.value.messages[0]
    assert HelpSession.objects.count() == 1


def test_an_appointment_already_marked_seen_may_be_logged(mediator, appointment):
    appointment.status = S.SEEN
    appointment.save()
    session_from_appointment(appointment=appointment, by=mediator, themes=[Theme.EMAIL])
    appointment.refresh_from_db()
    assert appointment.status == S.SEEN


@pytest.mark.parametrize("status", [S.CANCELLED_BY_RESIDENT, S.CANCELLED_BY_STAFF])
def test_a_cancelled_appointment_is_not_logged(mediator, appointment, status):
    appointment.status = status
    appointment.save()
    with pytest.raises(ValidationError):
        session_from_appointment(appointment=appointment, by=mediator, themes=[Theme.EMAIL])
    assert not HelpSession.objects.exists()


def test_an_appointment_of_a_later_day_is_not_logged_yet(place, motif, mediator):
    later = make_appointment(
        place=place,
        motif=motif,
        mediator=mediator,
        starts_at=timezone.now() + timedelta(days=3),
    )
    with pytest.raises(ValidationError) as excinfo:
        session_from_appointment(appointment=later, by=mediator, themes=[Theme.EMAIL])
    assert "pas encore eu lieu" in excinfo.value.messages[0]


def test_a_refused_session_leaves_the_appointment_as_it_was(mediator, appointment):
    with pytest.raises(ValidationError):
        session_from_appointment(appointment=appointment, by=mediator, themes=[])
    appointment.refresh_from_db()
    assert appointment.status == S.BOOKED


def test_a_workshop_seat_is_not_logged_as_an_individual_session(structure, place, mediator):
    seat = make_appointment(
        place=place,
        motif=WorkshopFactory(structure=structure),
        mediator=mediator,
        starts_at=an_hour_ago(),
    )
    with pytest.raises(ValidationError) as excinfo:
        session_from_appointment(appointment=seat, by=mediator, themes=[Theme.EMAIL])
    assert "atelier" in excinfo.value.messages[0]


def test_the_date_and_place_type_come_from_the_appointment(db):
    structure = StructureFactory()
    place = PlaceFactory(structure=structure, time_zone="Indian/Reunion")
    motif = MotifFactory(structure=structure, mode=MotifMode.PHONE, duration_minutes=20)
    agent = member(structure, Role.MEDIATOR)
    # 00:30 in La Réunion is 20:30 UTC the day before: the session is dated the local day.
    local_midnight = datetime.combine(timezone.localdate(timezone=REUNION), time(0, 30))
    starts = local_midnight.replace(tzinfo=REUNION)
    appt = make_appointment(place=place, motif=motif, mediator=agent, starts_at=starts)
    session = session_from_appointment(appointment=appt, by=agent, themes=[Theme.EMAIL])
    assert session.date == starts.date()
    assert session.place_type == PlaceType.REMOTE and session.duration_minutes == 20


# --- Edit and delete ----------------------------------------------------------------------


def test_the_author_edits_a_session_and_the_history_says_who(
    structure, place, mediator, structure_admin
):
    session = log(structure, mediator, themes=[Theme.EMAIL])
    session_update(session=session, by=mediator, themes=[Theme.SANTE], duration_minutes=60)
    session.refresh_from_db()
    assert session.duration_minutes == 60
    assert list(session.tags.values_list("code", flat=True)) == [Theme.SANTE]
    session_update(session=session, by=structure_admin, notes="Rappeler en mars")
    latest = session.history.first()
    assert latest.history_user == structure_admin and latest.notes == "Rappeler en mars"


def test_another_mediator_may_not_edit_or_delete_a_session(structure, place, mediator):
    colleague = member(structure, Role.MEDIATOR)
    session = log(structure, mediator)
    with pytest.raises(PermissionDenied):
        session_update(session=session, by=colleague, duration_minutes=15)
    with pytest.raises(PermissionDenied):
        session_delete(session=session, by=colleague)


def test_an_edit_follows_the_same_rules(structure, place, mediator):
    session = log(structure, mediator)
    with pytest.raises(ValidationError) as excinfo:
        session_update(session=session, by=mediator, procedures=[ProcedureArea.JUSTICE])
    assert "procedures" in errors_of(excinfo)
    session.refresh_from_db()
    assert not session.tags.filter(dimension=TagDimension.PROCEDURE).exists()


def test_editing_a_workshop_recomputes_its_people_count(structure, place, mediator):
    session = workshop(structure, mediator, counts={CountDimension.AGE_BAND: {"70+": 4}})
    person = ResidentFactory(structure=structure)
    session_update(
        session=session,
        by=mediator,
        participants=[person],
        counts={CountDimension.AGE_BAND: {"70+": 2}},
    )
    session.refresh_from_db()
    assert session.people_count == 3
    assert list(session.participants.all()) == [person]


def test_editing_an_anonymous_session_changes_only_the_profile(structure, place, mediator):
    session = log(structure, mediator, anonymous=AnonymousProfile(age_band="25-39"))
    session_update(session=session, by=mediator, anonymous=AnonymousProfile(age_band="40-59"))
    session.resident.refresh_from_db()
    assert session.resident.age_band == "40-59" and session.resident.is_anonymous


def test_deleting_keeps_the_deletion_in_the_history(structure, place, mediator, appointment):
    session = session_from_appointment(appointment=appointment, by=mediator, themes=[Theme.EMAIL])
    pk = session.pk
    session_delete(session=session, by=mediator)
    assert not HelpSession.objects.exists()
    deleted = HelpSession.history.filter(id=pk, history_type="-").get()
    assert deleted.history_user == mediator
    appointment.refresh_from_db()
    assert appointment.status == S.SEEN


def test_deleting_an_anonymous_session_removes_its_anonymous_resident(
    structure, place, mediator, structure_admin
):
    session = log(structure, mediator, anonymous=AnonymousProfile())
    person = session.resident
    session_delete(session=session, by=structure_admin)
    assert not Resident.objects.filter(pk=person.pk).exists()
    # A named resident stays.
    named = log(structure, mediator)
    session_delete(session=named, by=mediator)
    assert Resident.objects.filter(pk=named.resident_id).exists()


# --- Pages: from an appointment -----------------------------------------------------------


def test_the_appointment_form_is_prefilled_and_starts_on_the_first_theme(
    mediator_client, structure, appointment
):
    response = mediator_client.get(
        url("session_from_appointment", structure, appointment=appointment.pk)
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert str(appointment.resident) in body and "Dossier retraite" in body
    form = response.context["form"]
    assert form["duration_minutes"].value() == 45
    assert form["place"].value() == appointment.place_id
    assert form["mediator"].value() == appointment.mediator_id
    # Autofocus on the first theme box only.
    assert body.count("autofocus") == 1
    first = body.index('name="themes"')
    assert "autofocus" in body[first - 200 : first + 200]
    assert 'value="demarches_administratives"' in body[first - 200 : first + 200]


def test_saving_from_the_appointment_marks_it_seen_and_returns_to_the_agenda(
    mediator_client, structure, appointment, mediator
):
    # The mediator ticks one theme and keeps everything else: what the browser sends.
    page = mediator_client.get(
        url("session_from_appointment", structure, appointment=appointment.pk)
    )
    form = page.context["form"]
    data = {
        "themes": [Theme.EMAIL],
        "duration_minutes": str(form["duration_minutes"].value()),
        "date": form["date"].value().isoformat(),
        "place_type": form["place_type"].value(),
        "place": str(form["place"].value()),
        "mediator": str(form["mediator"].value()),
    }
    response = mediator_client.post(
        url("session_from_appointment", structure, appointment=appointment.pk), data
    )
    assert response.status_code == 302
    assert response["Location"].startswith(url("agenda", structure))
    appointment.refresh_from_db()
    assert appointment.status == S.SEEN
    assert appointment.help_session.created_by == mediator

    # Again: straight to the session already logged.
    again = mediator_client.get(
        url("session_from_appointment", structure, appointment=appointment.pk)
    )
    assert again.status_code == 302
    assert again["Location"] == url("session_edit", structure, session=appointment.help_session.pk)
    assert (
        mediator_client.post(
            url("session_from_appointment", structure, appointment=appointment.pk), data
        ).status_code
        == 302
    )
    assert HelpSession.objects.count() == 1


def test_a_cancelled_appointment_shows_why_it_cannot_be_logged(
    mediator_client, structure, appointment
):
    appointment.status = S.CANCELLED_BY_STAFF
    appointment.save()
    response = mediator_client.get(
        url("session_from_appointment", structure, appointment=appointment.pk)
    )
    assert response.status_code == 200
    assert "annulé" in response.content.decode()
    assert response.context["form"] is None


def test_the_agenda_offers_terminer_et_saisir_then_the_logged_session(
    mediator_client, structure, appointment, mediator
):
    agenda = url("agenda", structure) + "?mediator=tous"
    body = mediator_client.get(agenda).content.decode()
    link = url("session_from_appointment", structure, appointment=appointment.pk)
    assert "Terminer et saisir" in body and link in body
    session = session_from_appointment(appointment=appointment, by=mediator, themes=[Theme.EMAIL])
    body = mediator_client.get(agenda).content.decode()
    assert "Terminer et saisir" not in body
    assert url("session_edit", structure, session=session.pk) in body


def test_the_agenda_stays_bounded_with_the_registered_actions(
    mediator_client, structure, place, motif, mediator, django_assert_max_num_queries
):
    midnight = datetime.combine(timezone.localdate(timezone=PARIS), time(0), tzinfo=PARIS)
    for n in range(30):
        # One slot after the other (PostgreSQL refuses overlapping slots of a mediator).
        starts = midnight + timedelta(minutes=45 * n)
        appt = make_appointment(place=place, motif=motif, mediator=mediator, starts_at=starts)
        if n % 2:
            session_from_appointment(appointment=appt, by=mediator, themes=[Theme.EMAIL])
    with django_assert_max_num_queries(13):
        response = mediator_client.get(url("agenda", structure) + "?mediator=tous")
    assert response.content.decode().count("Terminer et saisir") == 15


# --- Pages: walk-ins ----------------------------------------------------------------------


def test_a_walk_in_starts_by_finding_the_resident_without_accents(
    mediator_client, structure, mediator
):
    eric = ResidentFactory(structure=structure, first_name="Éric", last_name="Le Goff")
    response = search_get(mediator_client, url("session_create", structure), "eric")
    assert response.status_code == 200
    assert f'name="resident" value="{eric.pk}"' in response.content.decode()


def test_a_known_walk_in_is_logged(mediator_client, structure, place, mediator, resident):
    target = url("session_create", structure) + f"?usager={resident.pk}"
    response = mediator_client.post(target, post_data(mediator=mediator.pk, place=place.pk))
    assert response.status_code == 302, response.context["form"].errors
    session = HelpSession.objects.get()
    assert session.resident == resident and session.created_by == mediator


def test_an_anonymous_walk_in_is_logged_through_the_page(
    mediator_client, structure, place, mediator
):
    target = url("session_create", structure) + "?anonyme=1"
    data = post_data(
        mediator=mediator.pk,
        place=place.pk,
        age_band="18-24",
        status="unemployed",
        gender="male",
        commune_insee="35238",
    )
    response = mediator_client.post(target, data)
    assert response.status_code == 302, response.context["form"].errors
    person = HelpSession.objects.get().resident
    assert person.is_anonymous and person.first_name == "" and person.commune_insee == "35238"


def test_the_form_shows_french_errors_at_the_field_and_keeps_what_was_typed(
    mediator_client, structure, place, mediator, resident
):
    target = url("session_create", structure) + f"?usager={resident.pk}"
    response = mediator_client.post(
        target,
        post_data(
            mediator=mediator.pk,
            place=place.pk,
            duration_custom="0",
            date=(today() + timedelta(days=2)).isoformat(),
            themes=[Theme.EMAIL],
            procedures=[ProcedureArea.JUSTICE],
            notes="Mot à garder",
        ),
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert "au moins une minute" in form.errors["duration_custom"][0]
    assert "futur" in form.errors["date"][0]
    assert "Démarches administratives" in form.errors["procedures"][0]
    assert "Mot à garder" in response.content.decode()
    assert not HelpSession.objects.exists()


def test_a_custom_duration_replaces_the_quick_pick(
    mediator_client, structure, place, mediator, resident
):
    target = url("session_create", structure) + f"?usager={resident.pk}"
    mediator_client.post(
        target, post_data(mediator=mediator.pk, place=place.pk, duration_custom="40")
    )
    assert HelpSession.objects.get().duration_minutes == 40


def test_a_tampered_place_or_mediator_is_a_form_error(
    mediator_client, structure, place, mediator, resident, other
):
    target = url("session_create", structure) + f"?usager={resident.pk}"
    response = mediator_client.post(
        target, post_data(mediator=other["mediator"].pk, place=other["place"].pk)
    )
    assert response.status_code == 200
    assert {"place", "mediator"} <= set(response.context["form"].errors)


# --- Pages: workshops ---------------------------------------------------------------------


def test_a_workshop_search_keeps_what_was_typed_and_then_saves(
    mediator_client, structure, place, mediator
):
    eric = ResidentFactory(structure=structure, first_name="Éric", last_name="Dupont")
    target = url("workshop_create", structure)
    data = {
        "title": "Smartphone débutants",
        "themes": [Theme.PRISE_EN_MAIN_MATERIEL],
        "duration_minutes": "90",
        "date": today().isoformat(),
        "place_type": "place",
        "place": place.pk,
        "mediator": mediator.pk,
        "q": "eric",
        "action": "search",
        "counts_age_band_5": "3",
    }
    found = mediator_client.post(target, data)
    assert found.status_code == 200
    body = found.content.decode()
    assert "Smartphone débutants" in body and "Éric Dupont" in body
    assert not HelpSession.objects.exists()

    data.update(action="save", participants=[eric.pk], counts_status_3="3")
    saved = mediator_client.post(target, data)
    assert saved.status_code == 302, saved.context["form"].errors
    session = HelpSession.objects.get()
    assert session.kind == SessionKind.COLLECTIVE and session.people_count == 4
    assert list(session.participants.all()) == [eric]


def test_workshop_counts_that_disagree_are_shown_at_their_dimension(
    mediator_client, structure, place, mediator
):
    response = mediator_client.post(
        url("workshop_create", structure),
        {
            "title": "Atelier mail",
            "themes": [Theme.EMAIL],
            "duration_minutes": "90",
            "date": today().isoformat(),
            "place_type": "place",
            "place": place.pk,
            "mediator": mediator.pk,
            "counts_age_band_5": "3",
            "counts_gender_0": "2",
            "action": "save",
        },
    )
    assert response.status_code == 200
    assert "counts_gender" in response.context["form"].errors


def test_a_workshop_participant_of_another_structure_is_refused(
    mediator_client, structure, place, mediator, other
):
    response = mediator_client.post(
        url("workshop_create", structure),
        {
            "title": "Atelier",
            "themes": [Theme.EMAIL],
            "duration_minutes": "90",
            "date": today().isoformat(),
            "place_type": "place",
            "place": place.pk,
            "mediator": mediator.pk,
            "participants": [other["resident"].pk],
            "action": "save",
        },
    )
    assert response.status_code == 200
    assert "participants" in response.context["form"].errors
    assert "Secrète" not in response.content.decode()


# --- Pages: edit, delete, list, scoping ---------------------------------------------------


def test_edit_and_delete_through_the_pages(mediator_client, structure, place, mediator):
    session = log(structure, mediator, themes=[Theme.EMAIL])
    edit = url("session_edit", structure, session=session.pk)
    page = mediator_client.get(edit)
    assert page.status_code == 200 and page.context["form"]["themes"].value() == [Theme.EMAIL]
    response = mediator_client.post(
        edit,
        post_data(
            mediator=mediator.pk, place=place.pk, themes=[Theme.SANTE], duration_minutes="60"
        ),
    )
    assert response.status_code == 302
    session.refresh_from_db()
    assert session.duration_minutes == 60
    delete = url("session_delete", structure, session=session.pk)
    assert mediator_client.get(delete).status_code == 200
    assert mediator_client.post(delete).status_code == 302
    assert not HelpSession.objects.exists()


def test_a_workshop_is_edited_with_its_participants(mediator_client, structure, place, mediator):
    person = ResidentFactory(structure=structure, first_name="Annick", last_name="Morel")
    session = WorkshopSessionFactory(
        structure=structure,
        mediator=mediator,
        place=place,
        participants=[person],
        counts={CountDimension.AGE_BAND: {"70+": 2}},
        people_count=3,
    )
    page = mediator_client.get(url("session_edit", structure, session=session.pk))
    assert page.status_code == 200
    assert "Annick Morel" in page.content.decode()
    assert page.context["form"]["counts_age_band"].value() == {"70+": 2}


def test_a_colleague_may_not_open_someone_elses_session(client, structure, place, mediator):
    session = log(structure, mediator)
    colleague = member(structure, Role.MEDIATOR)
    client.force_login(colleague)
    assert client.get(url("session_edit", structure, session=session.pk)).status_code == 403
    assert client.post(url("session_delete", structure, session=session.pk)).status_code == 403
    assert HelpSession.objects.exists()


def test_another_structures_data_is_404(mediator_client, structure, other):
    assert (
        mediator_client.get(
            url("session_from_appointment", structure, appointment=other["appointment"].pk)
        ).status_code
        == 404
    )
    assert (
        mediator_client.get(
            url("session_create", structure) + f"?usager={other['resident'].pk}"
        ).status_code
        == 404
    )
    assert mediator_client.get(url("session_create", structure) + "?usager=abc").status_code == 404
    assert mediator_client.get(url("session_create", structure) + "?rdv=x").status_code == 404
    assert (
        mediator_client.get(url("session_edit", structure, session=other["session"].pk)).status_code
        == 404
    )
    # Their own structure's pages, with another structure's ids: 404 too.
    other_structure = other["structure"]
    assert mediator_client.get(url("session_list", other_structure)).status_code == 404


def test_a_coordinator_does_not_see_named_sessions(client, structure, coordinator):
    client.force_login(coordinator)
    assert client.get(url("session_list", structure)).status_code == 403


def test_the_list_is_filtered_paginated_and_bounded(
    mediator_client, structure, place, mediator, django_assert_max_num_queries
):
    colleague = member(structure, Role.MEDIATOR)
    residents = [ResidentFactory(structure=structure) for _ in range(5)]
    for n in range(60):
        HelpSessionFactory(
            structure=structure,
            mediator=mediator if n % 2 else colleague,
            resident=residents[n % 5],
            place=place,
            date=today() - timedelta(days=n),
            themes=[Theme.EMAIL, Theme.SANTE],
        )
    WorkshopSessionFactory(structure=structure, mediator=mediator, place=place, date=today())
    with django_assert_max_num_queries(12):
        response = mediator_client.get(url("session_list", structure))
    assert response.status_code == 200
    assert len(response.context["page"].object_list) == 25
    assert response.context["page"].paginator.count == 61
    with django_assert_max_num_queries(12):
        response = mediator_client.get(
            url("session_list", structure)
            + f"?mediator={colleague.pk}&start={(today() - timedelta(days=9)).isoformat()}"
            + "&page=1"
        )
    assert response.context["page"].paginator.count == 5
    garbage = mediator_client.get(url("session_list", structure) + "?mediator=x&start=abc&page=z")
    assert garbage.status_code == 200


def test_the_session_tags_of_another_structure_are_not_listed(mediator_client, structure, other):
    response = mediator_client.get(url("session_list", structure))
    assert "Secrète" not in response.content.decode()
    assert SessionTag.objects.filter(session=other["session"]).exists()


# --- Free input never breaks the pages ----------------------------------------------------


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    notes=st.text(max_size=300),
    detail=st.text(max_size=250),
    duration=st.one_of(
        st.integers(min_value=-(10**12), max_value=10**12).map(str),
        st.text(max_size=12),
    ),
    pick=st.sampled_from(["15", "30", "", "abc", "-1", "99999"]),
)
def test_free_text_and_random_durations_never_give_a_500(
    mediator_client, structure, place, mediator, resident, notes, detail, duration, pick
):
    target = url("session_create", structure) + f"?usager={resident.pk}"
    response = mediator_client.post(
        target,
        post_data(
            mediator=mediator.pk,
            place=place.pk,
            themes=[ADMIN],
            notes=notes,
            procedure_detail=detail,
            duration_custom=duration,
            duration_minutes=pick,
        ),
    )
    assert response.status_code in (200, 302)
    if response.status_code == 302:
        session = HelpSession.objects.latest("pk")
        assert 1 <= session.duration_minutes <= 480
        assert "\x00" not in session.notes


def test_a_session_attaches_to_a_case_of_its_resident_only(structure, place, mediator, resident):
    case = CaseFactory(structure=structure, resident=resident, mediator=mediator)
    assert log(structure, mediator, resident=resident, case=case).case == case
    with pytest.raises(ValidationError) as excinfo:
        log(structure, mediator, case=case)  # another resident
    assert "case" in errors_of(excinfo)


def test_the_form_offers_the_residents_open_cases(
    mediator_client, structure, place, mediator, resident
):
    case = CaseFactory(structure=structure, resident=resident, title="Carte d'identité")
    CaseFactory(structure=structure, title="Dossier d'un autre")
    target = url("session_create", structure) + f"?usager={resident.pk}"
    body = mediator_client.get(target).content.decode()
    assert "Carte d&#x27;identité" in body and "Dossier d&#x27;un autre" not in body
    mediator_client.post(target, post_data(mediator=mediator.pk, place=place.pk, case=case.pk))
    assert HelpSession.objects.get().case == case


def test_the_form_pages_run_a_fixed_number_of_queries(
    mediator_client, structure, place, mediator, appointment, django_assert_max_num_queries
):
    resident = appointment.resident
    for _ in range(40):
        HelpSessionFactory(structure=structure, mediator=mediator, resident=resident)
        CaseFactory(structure=structure, resident=resident, mediator=mediator)
    for n in range(40):
        ResidentFactory(structure=structure, first_name="Éric", last_name=f"Nom{n}")
    with django_assert_max_num_queries(14):
        page = mediator_client.get(
            url("session_from_appointment", structure, appointment=appointment.pk)
        )
    assert page.status_code == 200
    found_url = search_url(mediator_client, url("session_create", structure), "eric")
    with django_assert_max_num_queries(14):
        assert mediator_client.get(found_url).status_code == 200
    with django_assert_max_num_queries(14):
        found = mediator_client.post(
            url("workshop_create", structure), {"q": "eric", "action": "search"}
        )
    assert found.content.decode().count('name="participants"') == 20


def test_a_mediator_of_two_structures_does_not_carry_residents_across(
    mediator_client, structure, place, mediator, other
):
    # Camille also works for the other structure: its residents stay in its own log.
    Membership.objects.create(user=mediator, structure=other["structure"], role=Role.MEDIATOR)
    with pytest.raises(ValidationError) as excinfo:
        log(structure, mediator, resident=other["resident"])
    assert "resident" in errors_of(excinfo)
    search = search_get(mediator_client, url("session_create", structure), "zoe")
    assert "Secrète" not in search.content.decode()
    target = url("session_create", structure) + f"?usager={other['resident'].pk}"
    assert mediator_client.get(target).status_code == 404
