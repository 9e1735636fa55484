"""A resident books a seat in a workshop from a phone (360 px): the times show the seats left,
the booking takes one, and the desk's "Ma journée" roster lists the participant."""

from __future__ import annotations

from datetime import time, timedelta

from django.utils import timezone
from playwright.sync_api import expect

from bookings.models import Appointment, Slot
from tests.bookings.factories import MotifFactory, OpeningHoursFactory
from tests.browser.axe import assert_accessible
from tests.browser.conftest import MOBILE
from tests.browser.test_login_and_home import assert_no_horizontal_scroll
from tests.factories import PlaceFactory, StructureFactory, UserFactory


def test_a_resident_books_a_workshop_seat_at_360px(page, live_server, transactional_db, screenshot):
    page.set_viewport_size(MOBILE)
    structure = StructureFactory(name="Médiathèque de Guichen", slug="mediatheque-guichen")
    place = PlaceFactory(structure=structure, name="Médiathèque — salle d'animation")
    workshop = MotifFactory(
        structure=structure,
        name="Atelier découverte du smartphone",
        duration_minutes=120,
        min_delay_minutes=0,
        max_delay_days=60,
        is_collective=True,
        capacity=8,
    )
    host = UserFactory()
    OpeningHoursFactory(
        place=place,
        mediator=host,
        motifs=[workshop],
        weekdays=[1],  # Tuesdays, 14:00-16:00: one session a week
        start_time=time(14),
        end_time=time(16),
        first_day=timezone.localdate() + timedelta(days=1),
    )

    page.goto(f"{live_server.url}/rdv/{structure.slug}/")
    page.get_by_label(workshop.name, exact=False).check()
    page.get_by_role("button", name="Voir les créneaux libres").click()
    expect(page.get_by_role("heading", name="Choisissez un horaire")).to_be_visible()
    expect(page.locator(".slot-button").first).to_contain_text("8 places")
    assert_accessible(page)
    assert_no_horizontal_scroll(page)
    screenshot(page, "workshop-360-1-sessions")
    page.locator(".slot-button").first.click()
    expect(page.get_by_role("heading", name="Vos coordonnées")).to_be_visible()
    page.locator("#id_first_name").fill("Lucie")
    page.locator("#id_last_name").fill("Morel")
    page.locator("#id_phone").fill("06 12 34 56 78")
    page.get_by_role("button", name="Confirmer le rendez-vous").click()
    expect(page.get_by_text("Votre rendez-vous est confirmé.")).to_be_visible()
    assert_accessible(page)
    assert_no_horizontal_scroll(page)
    screenshot(page, "workshop-360-2-booked")

    appointment = Appointment.objects.get()
    assert appointment.motif == workshop and appointment.mediator == host
    slot = Slot.objects.get()
    assert (slot.seats_taken, slot.capacity) == (1, 8)
    # The next resident sees one seat fewer.
    page.goto(f"{live_server.url}/rdv/{structure.slug}/")
    page.get_by_label(workshop.name, exact=False).check()
    page.get_by_role("button", name="Voir les créneaux libres").click()
    expect(page.locator(".slot-button").first).to_contain_text("7 places")
