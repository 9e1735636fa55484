"""Buffers (issue #14): time a motif keeps free before and after its appointments, respected by
the offer and by staff booking (staff may override them)."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from bookings.forms.agenda import format_slot_start
from bookings.models import Appointment, Motif
from bookings.services import booking as services
from bookings.services.admin import motif_save
from bookings.slots import free_slots
from tests.bookings.factories import MotifFactory, OpeningHoursFactory
from tests.factories import ResidentFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
MONDAY = date(2027, 1, 4)


def paris(hour, minute=0):
    return datetime.combine(MONDAY, time(hour, minute)).replace(tzinfo=UTC) - timedelta(hours=1)


def local_times(slots):
    return [(s.starts_at + timedelta(hours=1)).strftime("%H:%M") for s in slots]


def offer(place, motif, **kwargs):
    start = datetime.combine(MONDAY, time(0), tzinfo=place.tzinfo)
    return free_slots(
        place=place, motif=motif, start=start, end=start + timedelta(days=1), now=NOW, **kwargs
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


@pytest.fixture
def motif(structure):
    return MotifFactory(structure=structure, duration_minutes=30, buffer_after_minutes=10)


def test_pieces_are_spaced_by_the_buffers(place, mediator, motif):
    OpeningHoursFactory(place=place, mediator=mediator, motifs=[motif])  # 09:00–12:00

    assert local_times(offer(place, motif)) == ["09:00", "09:40", "10:20", "11:00"]
    assert local_times(offer(place, motif, respect_buffers=False)) == [
        "09:00",
        "09:30",
        "10:00",
        "10:30",
        "11:00",
        "11:30",
    ]


def test_no_piece_is_offered_within_the_buffer_of_a_booked_appointment(
    structure, place, mediator, motif
):
    plain = MotifFactory(structure=structure, duration_minutes=30)
    OpeningHoursFactory(place=place, mediator=mediator, motifs=[motif, plain])
    book(place, motif, mediator, paris(9))  # 09:00–09:30, then 10 min kept free

    assert "09:30" not in local_times(offer(place, plain))
    assert local_times(offer(place, plain))[:2] == ["10:00", "10:30"]


def test_a_piece_keeps_its_own_buffer_from_the_next_appointment(structure, place, mediator):
    before = MotifFactory(structure=structure, duration_minutes=30, buffer_before_minutes=15)
    plain = MotifFactory(structure=structure, duration_minutes=30)
    OpeningHoursFactory(place=place, mediator=mediator, motifs=[before, plain])
    book(place, plain, mediator, paris(10))  # 10:00–10:30

    # Pieces every 45 min (15 + 30): 09:45 ends at 10:15, over the appointment; 10:30 needs
    # 10:15–10:30 free before it, where the appointment still is.
    assert local_times(offer(place, before)) == ["09:00", "11:15"]


def test_staff_booking_respects_buffers_unless_told_to_override(place, mediator, motif):
    OpeningHoursFactory(place=place, mediator=mediator, motifs=[motif])
    book(place, motif, mediator, paris(9))

    with pytest.raises(ValidationError):
        book(place, motif, mediator, paris(9, 30))
    appointment = book(place, motif, mediator, paris(9, 30), ignore_buffers=True)
    assert appointment.starts_at == paris(9, 30)


def test_online_booking_never_overrides_buffers(place, mediator, motif):
    OpeningHoursFactory(place=place, mediator=mediator, motifs=[motif])
    book(place, motif, mediator, paris(9))

    with pytest.raises(ValidationError):
        book(place, motif, mediator, paris(9, 30), online=True, ignore_buffers=True)


@pytest.mark.parametrize("field", ["buffer_before_minutes", "buffer_after_minutes"])
def test_a_buffer_longer_than_the_motif_is_refused_at_the_field(structure, structure_admin, field):
    motif = Motif(structure=structure, name="Aide CAF", duration_minutes=30, **{field: 45})
    with pytest.raises(ValidationError) as error:
        motif_save(motif=motif, by=structure_admin)
    assert "ne peut pas dépasser la durée" in error.value.message_dict[field][0]
    assert not Motif.objects.exists()


def test_the_motif_form_shows_the_error_and_keeps_the_values(admin_client_structure, structure):
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
            "buffer_before_minutes": 0,
            "buffer_after_minutes": 45,
        },
    )
    html = response.content.decode()
    assert response.status_code in (200, 400)
    assert "ne peut pas dépasser la durée" in html and 'value="45"' in html
    assert not Motif.objects.exists()


# --- The desk: override with a warning ------------------------------------------------------


def _desk_post(client, structure, resident, place, motif, mediator, starts_at, **extra):
    url = reverse(
        "agenda_book_confirm", kwargs={"structure": structure.slug, "resident": resident.pk}
    )
    data = {
        "place": place.pk,
        "motif": motif.pk,
        "mediator": mediator.pk,
        "starts_at": format_slot_start(starts_at),
        "need": "",
        **extra,
    }
    return client.get(url, data), client.post(f"{url}", data)


def test_the_desk_books_within_a_buffer_after_a_warning_and_a_ticked_box(
    mediator_client, structure, place, mediator
):
    motif = MotifFactory(structure=structure, duration_minutes=30, buffer_after_minutes=10)
    today = timezone.localdate(timezone=place.tzinfo)
    OpeningHoursFactory(
        place=place,
        mediator=mediator,
        motifs=[motif],
        weekdays=list(range(7)),
        first_day=today,
    )
    day = today + timedelta(days=2)
    nine = datetime.combine(day, time(9), tzinfo=place.tzinfo)
    resident = ResidentFactory(structure=structure)
    services.appointment_book(
        place=place, motif=motif, mediator=mediator, starts_at=nine, resident=resident
    )
    half_past = nine + timedelta(minutes=30)

    page, refused = _desk_post(
        mediator_client, structure, resident, place, motif, mediator, half_past
    )
    assert "empiète sur le temps libre" in page.content.decode()
    assert refused.status_code == 200 and "Cochez cette case" in refused.content.decode()
    assert Appointment.objects.count() == 1

    _page, done = _desk_post(
        mediator_client,
        structure,
        resident,
        place,
        motif,
        mediator,
        half_past,
        override_buffers="on",
    )
    assert done.status_code == 302
    assert Appointment.objects.filter(starts_at=half_past).exists()
