"""Day limits (issue #14): at most N appointments a day for a motif (all mediators together,
`Motif.max_per_day`) and for each mediator (`Motif.max_per_mediator_per_day`). The offer stops
at the limit without more queries, the booking service refuses over it (race-safe on
PostgreSQL: a lock on the motif's row), and the desk may override it after a warning."""

import threading
from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections
from django.urls import reverse
from django.utils import timezone

from bookings.choices import AppointmentStatus
from bookings.models import Appointment, Motif
from bookings.services import booking as services
from bookings.services.admin import motif_save
from bookings.slots import free_slots, next_free_slots
from tests.bookings.factories import MotifFactory, OpeningHoursFactory, PlaceFactory
from tests.bookings.test_buffers import _desk_post
from tests.factories import ResidentFactory, UserFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
MONDAY = date(2027, 1, 4)


def paris(hour, minute=0, day=MONDAY):
    return datetime.combine(day, time(hour, minute)).replace(tzinfo=UTC) - timedelta(hours=1)


def offer(place, motif, days=1, **kwargs):
    start = datetime.combine(MONDAY, time(0), tzinfo=place.tzinfo)
    return free_slots(
        place=place, motif=motif, start=start, end=start + timedelta(days=days), now=NOW, **kwargs
    )


def book(place, motif, mediator, starts_at, **kwargs):
    return services.appointment_book(
        place=place,
        motif=motif,
        mediator=mediator,
        starts_at=starts_at,
        resident=ResidentFactory(structure=place.structure),
        now=NOW,
        **kwargs,
    )


def test_a_day_at_the_motif_limit_is_no_longer_offered_for_any_mediator(structure, place):
    motif = MotifFactory(structure=structure, max_per_day=2)
    first, second = UserFactory(), UserFactory()
    for mediator in (first, second):
        OpeningHoursFactory(place=place, mediator=mediator, motifs=[motif], weekdays=[0, 1])
    book(place, motif, first, paris(9))
    assert offer(place, motif)  # one left that Monday
    book(place, motif, second, paris(10))

    slots = offer(place, motif, days=2)
    assert slots and all(s.starts_at.date() == date(2027, 1, 5) for s in slots)  # Tuesday only
    with pytest.raises(services.DayLimitReached) as error:
        book(place, motif, second, paris(11), online=True)
    assert "nombre maximum de rendez-vous" in error.value.message_dict["starts_at"][0]
    assert Appointment.objects.count() == 2


def test_a_mediator_at_their_limit_is_no_longer_offered_but_colleagues_are(structure, place):
    motif = MotifFactory(structure=structure, max_per_mediator_per_day=1)
    busy, free = UserFactory(), UserFactory()
    for mediator in (busy, free):
        OpeningHoursFactory(place=place, mediator=mediator, motifs=[motif])
    book(place, motif, busy, paris(9))

    assert {s.mediator_id for s in offer(place, motif)} == {free.pk}
    with pytest.raises(services.DayLimitReached):
        book(place, motif, busy, paris(11))
    # Residents pick a time: the colleague takes it.
    appointment = services.public_booking_make(
        place=place,
        motif=motif,
        starts_at=paris(11),
        first_name="Éric",
        last_name="Dupont",
        phone="+33612345678",
        now=NOW,
    )
    assert appointment.mediator == free


def test_a_cancelled_appointment_frees_its_place_in_the_day(structure, place, mediator):
    motif = MotifFactory(structure=structure, max_per_day=1)
    OpeningHoursFactory(place=place, mediator=mediator, motifs=[motif])
    appointment = book(place, motif, mediator, paris(9))
    assert offer(place, motif) == []
    services.appointment_cancel(appointment=appointment, by_resident=False, now=NOW, notify=False)
    assert offer(place, motif)


def test_the_limit_counts_the_place_local_day_and_other_places(structure, mediator):
    motif = MotifFactory(structure=structure, max_per_day=1)
    here, there = PlaceFactory(structure=structure), PlaceFactory(structure=structure)
    for place in (here, there):
        OpeningHoursFactory(place=place, mediator=mediator, motifs=[motif])
    book(there, motif, mediator, paris(9))
    assert offer(here, motif) == []  # the motif's limit is for the whole structure


def test_limits_cost_no_extra_query(
    structure, place, mediator, django_assert_num_queries, django_assert_max_num_queries
):
    motif = MotifFactory(structure=structure, max_per_day=3, max_per_mediator_per_day=2)
    OpeningHoursFactory(place=place, mediator=mediator, motifs=[motif], weekdays=list(range(7)))
    book(place, motif, mediator, paris(9))
    with django_assert_num_queries(4):
        slots = offer(place, motif, days=60)
    assert slots
    with django_assert_max_num_queries(8):  # two looks ahead, as without limits
        assert next_free_slots(place=place, motif=motif, now=NOW, count=5)


def test_the_desk_may_override_a_limit_after_a_warning(mediator_client, structure, place, mediator):
    motif = MotifFactory(structure=structure, max_per_day=1)
    today = timezone.localdate(timezone=place.tzinfo)
    OpeningHoursFactory(
        place=place, mediator=mediator, motifs=[motif], weekdays=list(range(7)), first_day=today
    )
    nine = datetime.combine(today + timedelta(days=2), time(9), tzinfo=place.tzinfo)
    resident = ResidentFactory(structure=structure)
    services.appointment_book(
        place=place, motif=motif, mediator=mediator, starts_at=nine, resident=resident
    )
    ten = nine + timedelta(hours=1)

    page, refused = _desk_post(mediator_client, structure, resident, place, motif, mediator, ten)
    assert "nombre maximum de rendez-vous" in page.content.decode()
    assert refused.status_code == 200 and "Cochez cette case" in refused.content.decode()
    assert Appointment.objects.count() == 1

    _page, done = _desk_post(
        mediator_client, structure, resident, place, motif, mediator, ten, override_limits="on"
    )
    assert done.status_code == 302
    assert Appointment.objects.filter(starts_at=ten).exists()


@pytest.mark.parametrize("field", ["max_per_day", "max_per_mediator_per_day"])
def test_a_limit_of_zero_is_refused_at_the_field(admin_client_structure, structure, field):
    url = reverse("motif_create", kwargs={"structure": structure.slug})
    response = admin_client_structure.post(
        url,
        {
            "name": "Aide CAF",
            "duration_minutes": 30,
            "mode": "on_site",
            "bookable_online": "on",
            "min_delay_hours": 2,
            "max_delay_days": 90,
            field: 0,
        },
    )
    html = response.content.decode()
    assert response.status_code in (200, 400)
    assert "laissez vide pour ne pas limiter" in html and 'value="0"' in html
    assert not Motif.objects.exists()


def test_a_limit_of_zero_is_refused_by_the_service_too(structure, structure_admin):
    motif = Motif(structure=structure, name="Aide CAF", duration_minutes=30, max_per_day=0)
    with pytest.raises(ValidationError) as error:
        motif_save(motif=motif, by=structure_admin)
    assert "max_per_day" in error.value.message_dict
    assert not Motif.objects.exists()


def test_an_empty_limit_means_no_limit(admin_client_structure, structure):
    url = reverse("motif_create", kwargs={"structure": structure.slug})
    admin_client_structure.post(
        url,
        {
            "name": "Aide CAF",
            "duration_minutes": 30,
            "mode": "on_site",
            "bookable_online": "on",
            "min_delay_hours": 2,
            "max_delay_days": 90,
            "max_per_day": "",
            "max_per_mediator_per_day": "4",
        },
    )
    motif = Motif.objects.get()
    assert (motif.max_per_day, motif.max_per_mediator_per_day) == (None, 4)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("workers", [8])
def test_concurrent_bookings_never_pass_a_limit_of_one(workers):
    """Threads book different times of one motif limited to 1 a day, with different
    mediators (so no slot constraint meets them): exactly one wins. On PostgreSQL the lock on
    the motif's row decides; on SQLite the IMMEDIATE transactions serialise."""
    place = PlaceFactory()
    motif = MotifFactory(structure=place.structure, max_per_day=1, duration_minutes=20)
    mediators = [UserFactory() for _ in range(workers)]
    for mediator in mediators:
        OpeningHoursFactory(place=place, mediator=mediator, motifs=[motif])
    residents = [ResidentFactory(structure=place.structure) for _ in range(workers)]
    barrier = threading.Barrier(workers)
    outcomes = []

    def attempt(index):
        try:
            barrier.wait()
            services.appointment_book(
                place=place,
                motif=Motif.objects.get(pk=motif.pk),
                mediator=mediators[index],
                starts_at=paris(9) + timedelta(minutes=20 * index),
                resident=residents[index],
                now=NOW,
                notify=False,
            )
            outcomes.append("booked")
        except services.DayLimitReached:
            outcomes.append("full")
        except services.SlotTaken:
            outcomes.append("taken")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("booked") == 1, (connection.vendor, outcomes)
    assert len(outcomes) == workers
    assert Appointment.objects.filter(status=AppointmentStatus.BOOKED).count() == 1
