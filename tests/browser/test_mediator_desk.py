"""A mediator books a resident who calls, then marks an appointment of the day seen."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from bookings.choices import AppointmentStatus
from bookings.models import Appointment
from mediation.choices import Role
from tests.bookings.factories import MotifFactory, OpeningHoursFactory, SlotFactory
from tests.browser.axe import assert_accessible
from tests.browser.conftest import DESKTOP, MOBILE
from tests.factories import (
    MembershipFactory,
    PlaceFactory,
    ResidentFactory,
    StructureFactory,
    UserFactory,
)

PASSWORD = "mot-de-passe-de-test-42"
both_widths = pytest.mark.parametrize("viewport", [MOBILE, DESKTOP], ids=["360px", "1280px"])


@pytest.fixture
def desk(transactional_db):
    structure = StructureFactory(name="France Services de Guichen", slug="fs-guichen")
    place = PlaceFactory(structure=structure, name="France Services — accueil")
    motif = MotifFactory(structure=structure, name="Dossier CAF", min_delay_minutes=0)
    mediator = UserFactory(email="camille@exemple.fr", first_name="Camille", last_name="Le Goff")
    MembershipFactory(user=mediator, structure=structure, role=Role.MEDIATOR)
    OpeningHoursFactory(
        place=place,
        mediator=mediator,
        motifs=[motif],
        weekdays=list(range(7)),
        start_time=time(0),
        end_time=time(23, 30),
        first_day=timezone.localdate() - timedelta(days=1),
    )
    resident = ResidentFactory(
        structure=structure, first_name="Éric", last_name="Dupont", phone="+33612345678"
    )
    # An appointment at the start of today, for marking it seen.
    midnight = datetime.combine(timezone.localdate(), time(0), tzinfo=place.tzinfo)
    slot = SlotFactory(place=place, motif=motif, mediator=mediator, starts_at=midnight)
    today = Appointment.objects.create(
        place=place,
        motif=motif,
        mediator=mediator,
        slot=slot,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        resident=ResidentFactory(structure=structure, first_name="Monique", last_name="Hamon"),
    )
    return structure, place, motif, mediator, resident, today


@both_widths
def test_mediator_books_by_phone_and_marks_an_appointment_seen(
    page, live_server, desk, login, screenshot, viewport
):
    structure, place, motif, mediator, resident, today = desk
    width = viewport["width"]
    login(page, live_server, mediator.email, PASSWORD)
    page.get_by_role("link", name="Prendre un RDV").first.click()

    # Find the caller without accents or capitals.
    page.get_by_label("Nom, prénom ou téléphone").fill("eric dupont")
    page.get_by_role("button", name="Rechercher").click()
    assert_accessible(page)
    screenshot(page, f"desk-{width}-1-search")
    page.get_by_role("link", name="Choisir").first.click()

    page.locator("#id_motif").select_option(label=motif.name)
    page.get_by_role("button", name="Voir les créneaux").click()
    assert_accessible(page)
    screenshot(page, f"desk-{width}-2-slots")
    page.locator(".slot-list a").first.click()
    page.locator("#id_need").fill("Prime d'activité")
    assert_accessible(page)
    page.get_by_role("button", name="Confirmer le rendez-vous").click()
    booked = Appointment.objects.get(resident=resident)
    assert booked.status == AppointmentStatus.BOOKED and booked.created_by == mediator
    assert booked.need == "Prime d'activité"

    # The day's agenda: the morning appointment is marked seen.
    page.goto(f"{live_server.url}/s/{structure.slug}/agenda/")
    expect(page.get_by_role("heading", name="Monique Hamon")).to_be_visible()
    assert_accessible(page)
    screenshot(page, f"desk-{width}-3-agenda")
    page.get_by_role("button", name="Honoré — Monique Hamon, 00:00").click()
    expect(page.get_by_text("Honoré").first).to_be_visible()
    today.refresh_from_db()
    assert today.status == AppointmentStatus.SEEN
    assert today.history.first().history_user == mediator
