"""The desk agenda: day and week views, outcome and cancellation of appointments, and booking
for a resident who calls or stands at the desk."""

from __future__ import annotations

import re
import zoneinfo
from datetime import UTC, datetime, time, timedelta
from urllib.parse import urlencode

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bookings.choices import AppointmentStatus
from bookings.forms.agenda import format_slot_start, parse_slot_start
from bookings.holidays import closed_days
from bookings.models import Appointment
from bookings.selectors import book_resident_matches
from bookings.services import booking as services
from bookings.services.agenda import appointment_record_outcome
from mediation.choices import Role
from mediation.models import Resident
from tests.bookings.factories import MotifFactory, OpeningHoursFactory, SlotFactory
from tests.conftest import member
from tests.factories import PlaceFactory, ResidentFactory, StructureFactory
from tests.search import search_get, search_url

pytestmark = pytest.mark.django_db

S = AppointmentStatus
REUNION = zoneinfo.ZoneInfo("Indian/Reunion")
PARIS = zoneinfo.ZoneInfo("Europe/Paris")


# --- Helpers ------------------------------------------------------------------------------


def local_today(tz):
    return timezone.localdate(timezone=tz)


def at(day, hour, minute=0, tz=PARIS):
    return datetime.combine(day, time(hour, minute), tzinfo=tz)


def open_every_day(place, mediator, motifs, start=time(8, 0), end=time(19, 0)):
    return OpeningHoursFactory(
        place=place,
        mediator=mediator,
        motifs=motifs,
        weekdays=list(range(7)),
        start_time=start,
        end_time=end,
        first_day=local_today(place.tzinfo) - timedelta(days=30),
    )


def make_appointment(*, place, motif, mediator, resident=None, starts_at, status=S.BOOKED, need=""):
    """An appointment written directly (past or present times the booking service refuses)."""
    resident = resident or ResidentFactory(structure=place.structure)
    slot = SlotFactory(
        place=place,
        motif=motif,
        mediator=mediator,
        starts_at=starts_at,
        is_active=status not in (S.CANCELLED_BY_STAFF, S.CANCELLED_BY_RESIDENT),
    )
    return Appointment.objects.create(
        place=place,
        motif=motif,
        mediator=mediator,
        resident=resident,
        slot=slot,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        status=status,
        need=need,
    )


def next_open_day(place):
    """Tomorrow or later (place time zone), skipping public holidays."""
    day = local_today(place.tzinfo) + timedelta(days=1)
    while day in closed_days(place, day, day):
        day += timedelta(days=1)
    return day


def agenda_url(structure, week=False, **params):
    url = reverse("agenda_week" if week else "agenda", kwargs={"structure": structure.slug})
    return f"{url}?{urlencode(params)}" if params else url


def confirm_url(structure, resident, **params):
    url = reverse(
        "agenda_book_confirm", kwargs={"structure": structure.slug, "resident": resident.pk}
    )
    return f"{url}?{urlencode(params)}" if params else url


@pytest.fixture
def motif(structure):
    return MotifFactory(structure=structure, name="Aide CAF", duration_minutes=30)


@pytest.fixture
def hours(place, mediator, motif):
    return open_every_day(place, mediator, [motif])


@pytest.fixture
def reunion(db):
    structure = StructureFactory(name="France Services Saint-Denis", slug="fs-saint-denis")
    place = PlaceFactory(
        structure=structure,
        name="Maison France Services",
        postcode="97400",
        commune="Saint-Denis",
        insee_code="97411",
        time_zone="Indian/Reunion",
    )
    mediator = member(structure, Role.MEDIATOR, first_name="Jessica", last_name="Payet")
    motif = MotifFactory(structure=structure, name="Démarches ANTS")
    open_every_day(place, mediator, [motif])
    return {"structure": structure, "place": place, "mediator": mediator, "motif": motif}


# --- The agenda -----------------------------------------------------------------------------


def test_agenda_shows_todays_appointments_in_the_place_time_zone(client, reunion):
    place, mediator, motif = reunion["place"], reunion["mediator"], reunion["motif"]
    today = local_today(REUNION)
    resident = ResidentFactory(
        structure=place.structure, first_name="Éric", last_name="Hoarau", phone="+262692123456"
    )
    make_appointment(
        place=place,
        motif=motif,
        mediator=mediator,
        resident=resident,
        starts_at=at(today, 14, 0, REUNION),
        need="Renouveler son passeport",
    )
    # 01:30 tomorrow in Réunion is still "today" in Paris and in UTC: not today's.
    make_appointment(
        place=place,
        motif=motif,
        mediator=mediator,
        resident=ResidentFactory(structure=place.structure, last_name="Demain"),
        starts_at=at(today + timedelta(days=1), 1, 30, REUNION),
    )
    client.force_login(mediator)

    body = client.get(agenda_url(reunion["structure"])).content.decode()

    assert "Aujourd&#x27;hui" in body or "Aujourd'hui" in body
    assert "14:00" in body and "14:30" in body
    assert "0692 12 34 56" in body
    assert "Éric Hoarau" in body and "Renouveler son passeport" in body
    assert "Demain" not in body


def test_agenda_shows_motif_mediator_status_badge_and_need(
    admin_client_structure, structure, place, mediator, motif
):
    today = local_today(PARIS)
    make_appointment(
        place=place,
        motif=motif,
        mediator=mediator,
        starts_at=at(today, 10),
        status=S.NO_SHOW,
        need="Déclaration de revenus",
    )
    body = admin_client_structure.get(agenda_url(structure)).content.decode()
    assert "Aide CAF" in body and "Camille Le Goff" in body
    assert "badge text-bg-warning" in body and ">Absent<" in body and "lapin" not in body
    assert "Déclaration de revenus" in body


def test_agenda_shows_a_moved_appointment_as_moved_with_its_new_time(
    admin_client_structure, structure, place, mediator, motif
):
    today = local_today(PARIS)
    old = make_appointment(
        place=place,
        motif=motif,
        mediator=mediator,
        starts_at=at(today, 10),
        status=S.CANCELLED_BY_RESIDENT,
    )
    new = make_appointment(
        place=place,
        motif=motif,
        mediator=mediator,
        resident=old.resident,
        starts_at=at(today + timedelta(days=2), 14, 30),
    )
    new.moved_from = old
    new.save(update_fields=["moved_from"])
    body = admin_client_structure.get(agenda_url(structure)).content.decode()
    assert "badge text-bg-info" in body and ">Déplacé<" in body
    assert "Déplacé au" in body and "14:30" in body
    assert "Annulé par l&#x27;usager" not in body and "Annulé par l'usager" not in body


def test_week_view_shows_every_day_of_the_week(mediator_client, structure, place, mediator, motif):
    monday = local_today(PARIS) - timedelta(days=local_today(PARIS).weekday())
    for offset, name in ((0, "Lundinette"), (6, "Dimanchard"), (7, "Semaineprochaine")):
        make_appointment(
            place=place,
            motif=motif,
            mediator=mediator,
            resident=ResidentFactory(structure=structure, last_name=name),
            starts_at=at(monday + timedelta(days=offset), 10),
        )
    response = mediator_client.get(agenda_url(structure, week=True, day=monday.isoformat()))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Lundinette" in body and "Dimanchard" in body
    assert "Semaineprochaine" not in body
    assert body.count('<h2 class="h5 border-bottom') == 7


def test_mediator_with_opening_hours_sees_their_own_appointments_by_default(
    mediator_client, structure, place, mediator, motif, hours
):
    colleague = member(structure, Role.MEDIATOR, first_name="Yann", last_name="Collègue")
    today = local_today(PARIS)
    make_appointment(
        place=place,
        motif=motif,
        mediator=mediator,
        resident=ResidentFactory(structure=structure, last_name="Àmoi"),
        starts_at=at(today, 9),
    )
    make_appointment(
        place=place,
        motif=motif,
        mediator=colleague,
        resident=ResidentFactory(structure=structure, last_name="Àlui"),
        starts_at=at(today, 9),
    )
    own = mediator_client.get(agenda_url(structure)).content.decode()
    everyone = mediator_client.get(agenda_url(structure, mediator="tous")).content.decode()
    assert "Àmoi" in own and "Àlui" not in own
    assert "Àmoi" in everyone and "Àlui" in everyone


def test_staff_without_opening_hours_sees_everyone_by_default(
    admin_client_structure, structure, place, mediator, motif
):
    make_appointment(
        place=place,
        motif=motif,
        mediator=mediator,
        resident=ResidentFactory(structure=structure, last_name="Visible"),
        starts_at=at(local_today(PARIS), 9),
    )
    body = admin_client_structure.get(agenda_url(structure)).content.decode()
    assert "Visible" in body


def test_place_filter_keeps_the_chosen_place(mediator_client, structure, place, mediator, motif):
    other = PlaceFactory(structure=structure, name="Médiathèque")
    today = local_today(PARIS)
    for where, name in ((place, "Ausalon"), (other, "Alamediatheque")):
        make_appointment(
            place=where,
            motif=motif,
            mediator=mediator,
            resident=ResidentFactory(structure=structure, last_name=name),
            starts_at=at(today, 9 if where == place else 11),
        )
    body = mediator_client.get(
        agenda_url(structure, place=other.pk, mediator="tous")
    ).content.decode()
    assert "Alamediatheque" in body and "Ausalon" not in body


def test_agenda_navigates_by_day_and_by_date(mediator_client, structure, place, mediator, motif):
    day = local_today(PARIS) + timedelta(days=3)
    make_appointment(
        place=place,
        motif=motif,
        mediator=mediator,
        resident=ResidentFactory(structure=structure, last_name="Danstroisjours"),
        starts_at=at(day, 9),
    )
    body = mediator_client.get(agenda_url(structure, day=day.isoformat())).content.decode()
    assert "Danstroisjours" in body
    assert f"day={(day - timedelta(days=1)).isoformat()}" in body
    assert f"day={(day + timedelta(days=1)).isoformat()}" in body


def test_invalid_filters_fall_back_to_the_defaults(mediator_client, structure, place):
    other_place = PlaceFactory()
    response = mediator_client.get(
        agenda_url(structure, day="2024-13-45", place=other_place.pk, mediator="abc")
    )
    assert response.status_code == 200
    assert "Certains filtres ne sont pas valables" in response.content.decode()


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_dates_at_the_ends_of_the_calendar_are_refused(mediator_client, structure, day):
    for week in (False, True):
        response = mediator_client.get(agenda_url(structure, week=week, day=day))
        assert response.status_code == 200
        assert "Choisissez une date entre 2000 et 2100" in response.content.decode()


def test_agenda_runs_a_bounded_number_of_queries(
    mediator_client, structure, place, motif, django_assert_max_num_queries
):
    today = local_today(PARIS)
    mediators = [member(structure, Role.MEDIATOR) for _ in range(5)]
    for mediator in mediators:
        open_every_day(place, mediator, [motif])
        for n in range(10):
            make_appointment(
                place=place,
                motif=motif,
                mediator=mediator,
                starts_at=at(today, 8, 0) + n * timedelta(minutes=30),
            )
    assert Appointment.objects.count() == 50
    # 13: the count of appointments "à réaffecter" (its link) is one query.
    with django_assert_max_num_queries(13):
        response = mediator_client.get(agenda_url(structure, mediator="tous"))
    assert response.content.decode().count('class="card mb-2 appointment') == 50
    with django_assert_max_num_queries(13):
        mediator_client.get(agenda_url(structure, week=True, mediator="tous"))


def test_agenda_is_for_desk_roles_only(client, structure):
    client.force_login(member(structure, Role.COORDINATOR))
    assert client.get(agenda_url(structure)).status_code == 403


# --- Status of an appointment ----------------------------------------------------------------


@pytest.fixture
def started(place, motif, mediator):
    return make_appointment(
        place=place, motif=motif, mediator=mediator, starts_at=timezone.now() - timedelta(minutes=5)
    )


def test_an_appointment_that_started_can_be_marked_seen_with_its_author(started, mediator):
    appointment_record_outcome(appointment=started, status=S.SEEN, by=mediator)
    started.refresh_from_db()
    assert started.status == S.SEEN
    assert started.history.first().history_user == mediator


def test_an_appointment_later_today_can_be_marked_no_show(place, motif, mediator):
    now = at(local_today(PARIS), 9)
    appointment = make_appointment(
        place=place, motif=motif, mediator=mediator, starts_at=now + timedelta(hours=6)
    )
    appointment_record_outcome(appointment=appointment, status=S.NO_SHOW, by=mediator, now=now)
    appointment.refresh_from_db()
    assert appointment.status == S.NO_SHOW


def test_a_future_appointment_cannot_be_marked_seen(place, motif, mediator):
    appointment = make_appointment(
        place=place, motif=motif, mediator=mediator, starts_at=timezone.now() + timedelta(days=2)
    )
    with pytest.raises(ValidationError) as error:
        appointment_record_outcome(appointment=appointment, status=S.SEEN, by=mediator)
    assert "n'a pas encore eu lieu" in error.value.messages[0]


def test_seen_can_be_corrected_to_no_show_on_the_day(place, motif, mediator):
    now = at(local_today(PARIS), 18)
    appointment = make_appointment(
        place=place, motif=motif, mediator=mediator, starts_at=now - timedelta(hours=2)
    )
    appointment_record_outcome(appointment=appointment, status=S.SEEN, by=mediator, now=now)
    appointment_record_outcome(appointment=appointment, status=S.NO_SHOW, by=mediator, now=now)
    appointment.refresh_from_db()
    assert appointment.status == S.NO_SHOW
    assert [h.status for h in appointment.history.order_by("history_date")] == [
        S.BOOKED,
        S.SEEN,
        S.NO_SHOW,
    ]


def test_seen_cannot_be_corrected_the_next_day(place, motif, mediator):
    yesterday = local_today(PARIS) - timedelta(days=1)
    appointment = make_appointment(
        place=place, motif=motif, mediator=mediator, starts_at=at(yesterday, 10), status=S.SEEN
    )
    with pytest.raises(ValidationError) as error:
        appointment_record_outcome(appointment=appointment, status=S.NO_SHOW, by=mediator)
    assert "que le jour du rendez-vous" in error.value.messages[0]


@pytest.mark.parametrize("target", [S.SEEN, S.NO_SHOW, S.BOOKED])
def test_a_cancelled_appointment_keeps_its_status(place, motif, mediator, target):
    appointment = make_appointment(
        place=place,
        motif=motif,
        mediator=mediator,
        starts_at=timezone.now() - timedelta(hours=1),
        status=S.CANCELLED_BY_RESIDENT,
    )
    with pytest.raises(ValidationError) as error:
        appointment_record_outcome(appointment=appointment, status=target, by=mediator)
    assert "annulé" in error.value.messages[0]


@pytest.mark.parametrize("target", [S.CANCELLED_BY_STAFF, "n'importe quoi", S.BOOKED])
def test_the_outcome_buttons_refuse_other_targets(started, mediator, target):
    with pytest.raises(ValidationError):
        appointment_record_outcome(appointment=started, status=target, by=mediator)
    started.refresh_from_db()
    assert started.status == S.BOOKED


def test_agenda_marks_an_appointment_seen_and_comes_back(mediator_client, structure, started):
    back = agenda_url(structure, mediator="tous")
    response = mediator_client.post(
        reverse(
            "agenda_appointment_status",
            kwargs={"structure": structure.slug, "appointment": started.pk},
        ),
        {"status": S.SEEN, "next": back},
    )
    assert response.status_code == 302 and response["Location"] == back
    started.refresh_from_db()
    assert started.status == S.SEEN
    body = mediator_client.get(back).content.decode()
    assert "Honoré" in body


def test_agenda_offers_outcome_buttons_only_when_they_would_work(
    mediator_client, structure, started, place, motif, mediator
):
    make_appointment(
        place=place, motif=motif, mediator=mediator, starts_at=timezone.now() + timedelta(days=1)
    )
    day = started.starts_at.astimezone(PARIS).date()
    body = mediator_client.get(agenda_url(structure, day=day.isoformat())).content.decode()
    assert 'name="status" value="seen"' in body
    tomorrow = (started.starts_at + timedelta(days=1)).astimezone(PARIS).date()
    later = mediator_client.get(agenda_url(structure, day=tomorrow.isoformat())).content.decode()
    assert 'value="seen"' not in later and "Annuler" in later


def test_refused_status_change_is_a_french_message_not_an_error_page(
    mediator_client, structure, place, motif, mediator
):
    future = make_appointment(
        place=place, motif=motif, mediator=mediator, starts_at=timezone.now() + timedelta(days=3)
    )
    url = reverse(
        "agenda_appointment_status", kwargs={"structure": structure.slug, "appointment": future.pk}
    )
    response = mediator_client.post(url, {"status": S.SEEN}, follow=True)
    assert response.status_code == 200
    assert "n&#x27;a pas encore eu lieu" in response.content.decode()
    future.refresh_from_db()
    assert future.status == S.BOOKED


def test_status_change_is_post_only(mediator_client, structure, started):
    url = reverse(
        "agenda_appointment_status", kwargs={"structure": structure.slug, "appointment": started.pk}
    )
    assert mediator_client.get(url).status_code == 405


def test_appointment_of_another_structure_is_not_found(mediator_client, structure):
    other_place = PlaceFactory()
    other_motif = MotifFactory(structure=other_place.structure)
    foreign = make_appointment(
        place=other_place,
        motif=other_motif,
        mediator=member(other_place.structure),
        starts_at=timezone.now() - timedelta(minutes=1),
    )
    for name in ("agenda_appointment_status", "agenda_appointment_cancel"):
        url = reverse(name, kwargs={"structure": structure.slug, "appointment": foreign.pk})
        assert mediator_client.post(url, {"status": S.SEEN}).status_code == 404
    foreign.refresh_from_db()
    assert foreign.status == S.BOOKED


def test_next_must_stay_on_the_site(mediator_client, structure, started):
    url = reverse(
        "agenda_appointment_status", kwargs={"structure": structure.slug, "appointment": started.pk}
    )
    response = mediator_client.post(url, {"status": S.SEEN, "next": "https://evil.example/"})
    assert response["Location"].startswith("/s/")


@pytest.mark.parametrize("target", ["agenda", "1e309", "\u202e", "javascript:alert(1)", "//evil"])
def test_a_next_that_is_not_a_path_goes_back_to_the_agenda(
    mediator_client, structure, started, target
):
    for name in ("agenda_appointment_status", "agenda_appointment_cancel"):
        url = reverse(name, kwargs={"structure": structure.slug, "appointment": started.pk})
        response = mediator_client.post(url, {"status": S.NO_SHOW, "next": target})
        assert response.status_code == 302
        assert response["Location"].startswith(f"/s/{structure.slug}/agenda/")


# --- Cancellation -------------------------------------------------------------------------


def test_cancel_by_staff_frees_the_slot_for_another_booking(
    mediator_client, structure, place, motif, mediator, hours
):
    starts_at = at(next_open_day(place), 10)
    appointment = services.appointment_book(
        place=place,
        motif=motif,
        mediator=mediator,
        starts_at=starts_at,
        resident=ResidentFactory(structure=structure),
    )
    url = reverse(
        "agenda_appointment_cancel",
        kwargs={"structure": structure.slug, "appointment": appointment.pk},
    )
    page = mediator_client.get(url).content.decode()
    assert "Annuler le rendez-vous et prévenir l" in page

    response = mediator_client.post(url)

    assert response.status_code == 302
    appointment.refresh_from_db()
    assert appointment.status == S.CANCELLED_BY_STAFF
    assert appointment.history.first().history_user == mediator
    again = services.appointment_book(
        place=place,
        motif=motif,
        mediator=mediator,
        starts_at=starts_at,
        resident=ResidentFactory(structure=structure),
    )
    assert again.starts_at == starts_at


def test_cancelling_twice_says_why_in_french(mediator_client, structure, place, motif, mediator):
    appointment = make_appointment(
        place=place,
        motif=motif,
        mediator=mediator,
        starts_at=timezone.now() + timedelta(days=1),
        status=S.CANCELLED_BY_RESIDENT,
    )
    url = reverse(
        "agenda_appointment_cancel",
        kwargs={"structure": structure.slug, "appointment": appointment.pk},
    )
    response = mediator_client.post(url, follow=True)
    assert "ne peut pas être annulé" in response.content.decode()


# --- Finding or creating the resident -------------------------------------------------------


def book_url(structure):
    return reverse("agenda_book", kwargs={"structure": structure.slug})


def book_search(client, structure, query):
    return search_get(client, book_url(structure), query)


@pytest.mark.parametrize("query", ["eric", "ERIC", "éric le goff", "le go", "Eric Le-Goff"])
def test_name_search_ignores_accents_and_case(mediator_client, structure, query):
    ResidentFactory(structure=structure, first_name="Éric", last_name="Le Goff")
    ResidentFactory(structure=structure, first_name="Marie", last_name="Durand")
    body = book_search(mediator_client, structure, query).content.decode()
    assert "Éric Le Goff" in body and "Marie Durand" not in body


def test_exact_last_names_come_first_and_the_count_is_the_total(mediator_client, structure):
    ResidentFactory(structure=structure, first_name="Anne", last_name="Guérin-Hamon")
    for n in range(21):
        ResidentFactory(structure=structure, first_name=f"Prénom{n:02d}", last_name="Hamon")
    body = book_search(mediator_client, structure, "hamon").content.decode()

    assert "Les 20 premiers sur 22 usagers trouvés" in body
    assert "Guérin-Hamon" not in body  # the 21 exact matches come first


@pytest.mark.parametrize(
    "query",
    ["06 12 34 56 78", "+33612345678", "0612345678", "06.12.34.56.78", "0033 6 12 34 56 78"],
)
def test_phone_search_accepts_any_usual_format(mediator_client, structure, query):
    ResidentFactory(structure=structure, last_name="Autelephone", phone="+33612345678")
    ResidentFactory(structure=structure, last_name="Autrenumero", phone="+33698765432")
    body = book_search(mediator_client, structure, query).content.decode()
    assert "Autelephone" in body and "Autrenumero" not in body
    assert "06 12 34 56 78" in body


def test_phone_search_reads_local_numbers_of_an_overseas_desk(client, reunion):
    ResidentFactory(structure=reunion["structure"], last_name="Grondin", phone="+262692123456")
    client.force_login(reunion["mediator"])
    body = book_search(client, reunion["structure"], "0692 12 34 56").content.decode()
    assert "Grondin" in body


def test_search_by_the_last_digits(mediator_client, structure):
    ResidentFactory(structure=structure, last_name="Chiffres", phone="+33612345678")
    body = book_search(mediator_client, structure, "56 78").content.decode()
    assert "Chiffres" in body


def test_search_never_shows_residents_of_another_structure(mediator_client, structure):
    ResidentFactory(first_name="Éric", last_name="Ailleurs", phone="+33612345678")
    for query in ("eric", "06 12 34 56 78"):
        body = book_search(mediator_client, structure, query).content.decode()
        assert "Ailleurs" not in body


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(query=st.text(max_size=120))
def test_resident_search_takes_any_text(mediator, structure, resident, query):
    # Read-only: the function-scoped fixtures are not changed between examples.
    results, total = book_resident_matches(mediator, structure, query, regions=["FR", "RE"])
    assert isinstance(results, list) and total >= len(results)


def test_desk_creates_a_resident_and_goes_to_step_2(mediator_client, structure, mediator):
    response = mediator_client.post(
        book_url(structure),
        {"first_name": " Zoé ", "last_name": "Martin", "phone": "06 12 34 56 78", "email": ""},
    )
    resident = Resident.objects.get(last_name="Martin")
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "agenda_book_slot", kwargs={"structure": structure.slug, "resident": resident.pk}
    )
    assert resident.first_name == "Zoé" and str(resident.phone) == "+33612345678"
    assert resident.structure == structure
    assert resident.history.first().history_user == mediator


def test_an_overseas_desk_stores_local_numbers_with_their_country_code(client, reunion):
    client.force_login(reunion["mediator"])
    client.post(
        book_url(reunion["structure"]),
        {"first_name": "Jean", "last_name": "Payet", "phone": "0692 12 34 56"},
    )
    assert str(Resident.objects.get(last_name="Payet").phone) == "+262692123456"


def test_invalid_phone_is_refused_in_french_and_the_form_keeps_what_was_typed(
    mediator_client, structure
):
    response = mediator_client.post(
        book_url(structure), {"first_name": "Zoé", "last_name": "Martin", "phone": "12"}
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "Ce numéro de téléphone n&#x27;est pas valide" in body
    assert 'value="Zoé"' in body and 'value="Martin"' in body
    assert not Resident.objects.filter(last_name="Martin").exists()


def test_a_known_phone_number_points_to_the_existing_resident(mediator_client, structure):
    known = ResidentFactory(structure=structure, last_name="Dejala", phone="+33612345678")
    response = mediator_client.post(
        book_url(structure), {"first_name": "Zoé", "last_name": "Martin", "phone": "0612345678"}
    )
    body = response.content.decode()
    assert "déjà celui de" in body
    assert (
        reverse("agenda_book_slot", kwargs={"structure": structure.slug, "resident": known.pk})
        in body
    )
    assert Resident.objects.filter(structure=structure).count() == 1


# --- Booking a slot -------------------------------------------------------------------------


def test_step_2_lists_free_slots_of_staff_only_motifs_in_the_place_time_zone(client, reunion):
    structure, place = reunion["structure"], reunion["place"]
    staff_only = MotifFactory(structure=structure, name="Dossier retraite", bookable_online=False)
    open_every_day(place, reunion["mediator"], [staff_only], start=time(9, 0), end=time(10, 0))
    reunion["place"].opening_hours.exclude(motifs=staff_only).delete()
    resident = ResidentFactory(structure=structure)
    client.force_login(reunion["mediator"])
    url = reverse("agenda_book_slot", kwargs={"structure": structure.slug, "resident": resident.pk})
    page = client.get(url).content.decode()
    assert "Dossier retraite" in page

    body = client.get(f"{url}?place={place.pk}&motif={staff_only.pk}").content.decode()

    assert "Créneaux libres du" in body
    assert "09:00" in body and "09:30" in body
    assert "13:00" not in body  # 09:00 in Réunion is 05:00 / 06:00 in Paris, never 13:00
    assert f"resident={resident.pk}" not in body  # the resident is in the path, not the query
    assert f"/prendre-rdv/{resident.pk}/confirmer/?" in body


def test_step_2_refuses_a_motif_of_another_structure(mediator_client, structure, place, resident):
    foreign = MotifFactory()
    url = reverse("agenda_book_slot", kwargs={"structure": structure.slug, "resident": resident.pk})
    response = mediator_client.get(f"{url}?place={place.pk}&motif={foreign.pk}")
    assert response.status_code == 200
    assert "Ce motif n&#x27;est pas proposé par cette structure" in response.content.decode()


@pytest.fixture
def chosen(structure, place, motif, mediator, hours, resident):
    starts_at = at(next_open_day(place), 10)
    return {
        "place": place.pk,
        "motif": motif.pk,
        "mediator": mediator.pk,
        "starts_at": format_slot_start(starts_at),
        "_starts_at": starts_at,
        "_resident": resident,
    }


def form_data(chosen, **changes):
    data = {k: v for k, v in chosen.items() if not k.startswith("_")}
    data.update(changes)
    return data


def test_desk_booking_happy_path(mediator_client, structure, mediator, chosen):
    resident = chosen["_resident"]
    url = confirm_url(structure, resident)
    page = mediator_client.get(confirm_url(structure, resident, **form_data(chosen)))
    assert "Confirmer le rendez-vous" in page.content.decode()
    assert "10:00" in page.content.decode()

    response = mediator_client.post(url, form_data(chosen, need="Carte grise"))

    appointment = Appointment.objects.get()
    assert response.status_code == 302
    assert response["Location"].startswith(agenda_url(structure))
    assert appointment.resident == resident and appointment.starts_at == chosen["_starts_at"]
    assert appointment.need == "Carte grise" and not appointment.booked_online
    assert appointment.created_by == mediator
    assert appointment.history.first().history_user == mediator
    agenda = mediator_client.get(response["Location"]).content.decode()
    assert "Rendez-vous pris pour" in agenda and "Carte grise" in agenda


def test_slot_taken_meanwhile_shows_the_message_and_the_next_free_slots(
    mediator_client, structure, place, motif, mediator, chosen
):
    services.appointment_book(
        place=place,
        motif=motif,
        mediator=mediator,
        starts_at=chosen["_starts_at"],
        resident=ResidentFactory(structure=structure),
    )
    resident = chosen["_resident"]

    response = mediator_client.post(
        confirm_url(structure, resident), form_data(chosen, need="Impôts")
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert "Ce créneau vient d&#x27;être pris" in body
    assert "Prochains créneaux libres" in body
    assert "10:30" in body  # the next one, same resident and motif
    assert f"/prendre-rdv/{resident.pk}/confirmer/?place={place.pk}&amp;motif={motif.pk}" in body
    # The need typed follows the next slot's link through the session, not in the URL.
    assert "need=" not in body and "Imp%C3%B4ts" not in body
    link = re.search(r'href="([^"]*/confirmer/\?[^"]*&amp;r=[\w-]+)"', body).group(1)
    next_page = mediator_client.get(link.replace("&amp;", "&")).content.decode()
    assert "Impôts" in next_page
    assert Appointment.objects.count() == 1


def test_a_slot_already_taken_is_said_on_arrival(
    mediator_client, structure, place, motif, mediator, chosen
):
    services.appointment_book(
        place=place,
        motif=motif,
        mediator=mediator,
        starts_at=chosen["_starts_at"],
        resident=ResidentFactory(structure=structure),
    )
    body = mediator_client.get(
        confirm_url(structure, chosen["_resident"], **form_data(chosen))
    ).content.decode()
    assert "Ce créneau vient d&#x27;être pris" in body
    assert 'type="submit" class="btn btn-primary">Confirmer' not in body


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"starts_at": "pas une date"}, "Cet horaire n&#x27;est pas valable"),
        ({"starts_at": "2027-01-04T09:00:00"}, "Cet horaire n&#x27;est pas valable"),
        ({"starts_at": "9999-12-31T23:59:59+00:00"}, "Cet horaire n&#x27;est pas valable"),
        ({"starts_at": ""}, "Ce créneau n&#x27;est plus valable"),
        ({"place": "abc"}, "Ce lieu n&#x27;existe pas dans cette structure"),
        ({"mediator": "-1"}, "ne tient pas de permanence dans cette structure"),
    ],
)
def test_forged_fields_are_form_errors(mediator_client, structure, chosen, changes, message):
    response = mediator_client.post(
        confirm_url(structure, chosen["_resident"]), form_data(chosen, **changes)
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Appointment.objects.exists()


def test_a_time_that_is_not_offered_is_refused(mediator_client, structure, chosen):
    odd = chosen["_starts_at"] + timedelta(minutes=7)
    response = mediator_client.post(
        confirm_url(structure, chosen["_resident"]),
        form_data(chosen, starts_at=format_slot_start(odd)),
    )
    assert response.status_code == 200
    assert "Ce créneau n&#x27;est pas proposé" in response.content.decode()
    assert not Appointment.objects.exists()


def test_place_and_motif_of_another_structure_are_refused(mediator_client, structure, chosen):
    foreign_place = PlaceFactory()
    foreign_motif = MotifFactory(structure=foreign_place.structure)
    response = mediator_client.post(
        confirm_url(structure, chosen["_resident"]),
        form_data(chosen, place=foreign_place.pk, motif=foreign_motif.pk),
    )
    body = response.content.decode()
    assert "Ce lieu n&#x27;existe pas dans cette structure" in body
    assert "Ce motif n&#x27;est pas proposé par cette structure" in body
    assert not Appointment.objects.exists()


def test_resident_of_another_structure_is_not_found(mediator_client, structure, chosen):
    stranger = ResidentFactory()
    for url in (
        reverse("agenda_book_slot", kwargs={"structure": structure.slug, "resident": stranger.pk}),
        confirm_url(structure, stranger),
    ):
        assert mediator_client.get(url).status_code == 404
    response = mediator_client.post(confirm_url(structure, stranger), form_data(chosen))
    assert response.status_code == 404
    assert not Appointment.objects.exists()


def test_slot_start_parser_only_accepts_aware_datetimes():
    assert parse_slot_start("2027-01-04T08:00:00+00:00") == datetime(2027, 1, 4, 8, tzinfo=UTC)
    assert parse_slot_start("2027-01-04T12:00:00+04:00") == datetime(2027, 1, 4, 8, tzinfo=UTC)
    for value in (None, "", "2027-01-04T08:00:00", "x" * 30, "2027-02-30T08:00:00+00:00", 12):
        assert parse_slot_start(value) is None


def test_booking_pages_run_a_bounded_number_of_queries(
    mediator_client, structure, place, motif, chosen, django_assert_max_num_queries
):
    for _ in range(30):
        ResidentFactory(structure=structure, first_name="Éric")
    resident = chosen["_resident"]
    found_url = search_url(mediator_client, book_url(structure), "eric")
    with django_assert_max_num_queries(10):
        mediator_client.get(found_url)
    slot_url = reverse(
        "agenda_book_slot", kwargs={"structure": structure.slug, "resident": resident.pk}
    )
    # 16, and the second-factor check; one more since the engine reads exceptional days.
    with django_assert_max_num_queries(18):
        mediator_client.get(f"{slot_url}?place={place.pk}&motif={motif.pk}")
    with django_assert_max_num_queries(17):
        mediator_client.get(confirm_url(structure, resident, **form_data(chosen)))
