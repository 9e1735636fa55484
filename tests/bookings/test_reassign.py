""" "À réaffecter": the upcoming appointments of someone who left the structure, given to a
colleague free at that time or cancelled with the usual message (issue #14)."""

from datetime import datetime, time, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from bookings.choices import AppointmentStatus
from bookings.models import Appointment, Notification, Slot
from bookings.selectors import appointments_to_reassign
from bookings.services import booking as services
from mediation.choices import Role
from mediation.models import Membership
from tests.bookings.factories import AbsenceFactory, MotifFactory, OpeningHoursFactory
from tests.conftest import member
from tests.factories import ResidentFactory

pytestmark = pytest.mark.django_db

S = AppointmentStatus


@pytest.fixture
def motif(structure):
    return MotifFactory(structure=structure, duration_minutes=30)


@pytest.fixture
def colleague(structure):
    return member(structure, Role.MEDIATOR, first_name="Yannick", last_name="Morvan")


def _open(place, person, motif):
    today = timezone.localdate(timezone=place.tzinfo)
    return OpeningHoursFactory(
        place=place,
        mediator=person,
        motifs=[motif],
        weekdays=[0, 1, 2, 3, 4],
        first_day=today - timedelta(days=7),
    )


@pytest.fixture
def starts_at(place):
    today = timezone.localdate(timezone=place.tzinfo)
    monday = today + timedelta(days=7 - today.weekday())
    return datetime.combine(monday, time(9), tzinfo=place.tzinfo)


@pytest.fixture
def left_behind(place, motif, mediator, colleague, starts_at):
    """An appointment booked with `mediator`, who then leaves the structure."""
    _open(place, mediator, motif)
    _open(place, colleague, motif)
    appointment = services.appointment_book(
        place=place,
        motif=motif,
        mediator=mediator,
        starts_at=starts_at,
        resident=ResidentFactory(structure=place.structure, phone="+33612345678"),
    )
    Membership.objects.filter(user=mediator, structure=place.structure).delete()
    return appointment


# --- The list -------------------------------------------------------------------------------


def test_the_appointments_of_someone_who_left_are_to_reassign(
    left_behind, structure, structure_admin, place, motif, colleague, starts_at
):
    kept = services.appointment_book(
        place=place,
        motif=motif,
        mediator=colleague,
        starts_at=starts_at + timedelta(hours=1),
        resident=ResidentFactory(structure=structure),
    )

    listed = list(appointments_to_reassign(structure_admin, structure))

    assert listed == [left_behind]
    assert kept not in listed


def test_a_deactivated_account_s_appointments_are_to_reassign(
    place, motif, mediator, structure, structure_admin, starts_at
):
    _open(place, mediator, motif)
    appointment = services.appointment_book(
        place=place,
        motif=motif,
        mediator=mediator,
        starts_at=starts_at,
        resident=ResidentFactory(structure=structure),
    )
    mediator.is_active = False
    mediator.save()

    assert list(appointments_to_reassign(structure_admin, structure)) == [appointment]


def test_cancelled_and_past_appointments_are_not_to_reassign(
    left_behind, structure, structure_admin
):
    assert not appointments_to_reassign(
        structure_admin, structure, now=left_behind.starts_at
    ).exists()
    services.appointment_cancel(appointment=left_behind, by_resident=False)
    assert not appointments_to_reassign(structure_admin, structure).exists()


# --- The service ----------------------------------------------------------------------------


def test_reassigning_gives_the_appointment_to_a_free_colleague_at_the_same_time(
    left_behind, colleague, structure_admin
):
    old_slot = left_behind.slot_id
    appointment = services.appointment_reassign(
        appointment=left_behind, mediator=colleague, by=structure_admin
    )

    appointment.refresh_from_db()
    assert appointment.mediator == colleague
    assert (appointment.starts_at, appointment.ends_at) == (
        left_behind.starts_at,
        left_behind.ends_at,
    )
    assert appointment.status == S.BOOKED and appointment.token == left_behind.token
    assert appointment.slot.mediator == colleague and appointment.slot.is_active
    assert not Slot.objects.get(pk=old_slot).is_active
    latest = appointment.history.first()
    assert latest.history_user == structure_admin
    assert latest.history_change_reason.startswith("Réaffecté")


def test_reassigning_to_a_colleague_busy_then_is_refused_at_the_field(
    left_behind, colleague, structure_admin, structure
):
    AbsenceFactory(
        structure=structure,
        mediator=colleague,
        starts_at=left_behind.starts_at - timedelta(hours=1),
        ends_at=left_behind.ends_at + timedelta(hours=1),
    )
    with pytest.raises(ValidationError) as error:
        services.appointment_reassign(
            appointment=left_behind, mediator=colleague, by=structure_admin
        )
    assert "pas libre" in error.value.message_dict["mediator"][0]
    left_behind.refresh_from_db()
    assert left_behind.slot.is_active and left_behind.mediator_id != colleague.pk


def test_reassigning_to_a_colleague_whose_time_was_just_booked_is_refused(
    left_behind, colleague, structure_admin, place, motif
):
    services.appointment_book(
        place=place,
        motif=motif,
        mediator=colleague,
        starts_at=left_behind.starts_at,
        resident=ResidentFactory(structure=place.structure),
    )
    with pytest.raises(ValidationError):
        services.appointment_reassign(
            appointment=left_behind, mediator=colleague, by=structure_admin
        )


def test_reassigning_to_someone_who_does_not_take_appointments_is_refused(
    left_behind, structure, structure_admin
):
    with pytest.raises(ValidationError) as error:
        services.appointment_reassign(
            appointment=left_behind, mediator=structure_admin, by=structure_admin
        )
    assert "mediator" in error.value.message_dict


def test_a_cancelled_appointment_cannot_be_reassigned(left_behind, colleague, structure_admin):
    services.appointment_cancel(appointment=left_behind, by_resident=False)
    with pytest.raises(ValidationError) as error:
        services.appointment_reassign(
            appointment=left_behind, mediator=colleague, by=structure_admin
        )
    assert error.value.code == "not_booked"


# --- The pages ------------------------------------------------------------------------------


def test_the_list_page_shows_them_in_bounded_queries(
    left_behind, admin_client_structure, structure, django_assert_max_num_queries
):
    url = reverse("agenda_reassign_list", kwargs={"structure": structure.slug})
    with django_assert_max_num_queries(12):
        response = admin_client_structure.get(url)
    assert response.status_code == 200
    assert str(left_behind.resident) in response.content.decode()


def test_the_structure_home_and_the_agenda_link_to_the_list_with_a_count(
    left_behind, admin_client_structure, structure
):
    list_url = reverse("agenda_reassign_list", kwargs={"structure": structure.slug})
    for page in (
        reverse("structure_home", kwargs={"structure": structure.slug}),
        reverse("agenda", kwargs={"structure": structure.slug}),
    ):
        html = admin_client_structure.get(page).content.decode()
        assert list_url in html, page


def test_no_link_when_nothing_is_to_reassign(admin_client_structure, structure):
    list_url = reverse("agenda_reassign_list", kwargs={"structure": structure.slug})
    for page in (
        reverse("structure_home", kwargs={"structure": structure.slug}),
        reverse("agenda", kwargs={"structure": structure.slug}),
    ):
        assert list_url not in admin_client_structure.get(page).content.decode()


def test_the_reassign_page_offers_the_free_colleagues_and_reassigns(
    left_behind, admin_client_structure, structure, colleague
):
    url = reverse(
        "agenda_reassign", kwargs={"structure": structure.slug, "appointment": left_behind.pk}
    )
    page = admin_client_structure.get(url)
    assert page.status_code == 200 and "Yannick Morvan" in page.content.decode()

    response = admin_client_structure.post(url, {"mediator": colleague.pk})

    assert response.status_code == 302
    left_behind.refresh_from_db()
    assert left_behind.mediator == colleague


def test_a_bad_choice_is_a_french_error_at_the_field(
    left_behind, admin_client_structure, structure, mediator
):
    url = reverse(
        "agenda_reassign", kwargs={"structure": structure.slug, "appointment": left_behind.pk}
    )
    response = admin_client_structure.post(url, {"mediator": mediator.pk})
    assert response.status_code == 400
    assert "ne prend pas de rendez-vous" in response.content.decode()
    response = admin_client_structure.post(url, {"mediator": "abc"})
    assert response.status_code == 400


def test_cancelling_from_the_list_tells_the_resident_and_comes_back(
    left_behind, admin_client_structure, structure
):
    list_url = reverse("agenda_reassign_list", kwargs={"structure": structure.slug})
    cancel = reverse(
        "agenda_appointment_cancel",
        kwargs={"structure": structure.slug, "appointment": left_behind.pk},
    )
    response = admin_client_structure.post(cancel, {"next": list_url})

    assert response.status_code == 302 and response.url == list_url
    left_behind.refresh_from_db()
    assert left_behind.status == S.CANCELLED_BY_STAFF
    assert Notification.objects.filter(appointment=left_behind, kind="cancellation").exists()
    assert not Appointment.objects.filter(status=S.BOOKED).exists()
