"""A structure admin finds the appointments of a mediator who left on the "à réaffecter" list,
and gives one to a colleague free at that time (issue #14)."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from bookings.models import Appointment
from bookings.services.booking import appointment_book
from mediation.choices import Role
from mediation.models import Membership
from tests.bookings.factories import MotifFactory, OpeningHoursFactory
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
def departure(transactional_db):
    structure = StructureFactory(name="Mairie de Guichen", slug="mairie-guichen")
    place = PlaceFactory(structure=structure, name="Espace numérique")
    motif = MotifFactory(structure=structure, name="Dossier retraite")
    admin = UserFactory(email="helene@exemple.fr", first_name="Hélène", last_name="Robin")
    MembershipFactory(user=admin, structure=structure, role=Role.STRUCTURE_ADMIN)
    leaving = UserFactory(first_name="Camille", last_name="Le Goff")
    colleague = UserFactory(first_name="Yannick", last_name="Morvan")
    today = timezone.localdate(timezone=place.tzinfo)
    for person in (leaving, colleague):
        OpeningHoursFactory(
            place=place,
            mediator=person,
            motifs=[motif],
            weekdays=[0, 1, 2, 3, 4],
            first_day=today,
        )
    monday = today + timedelta(days=7 - today.weekday())
    booked = [
        appointment_book(
            place=place,
            motif=motif,
            mediator=leaving,
            starts_at=datetime.combine(monday, time(9), tzinfo=place.tzinfo)
            + timedelta(minutes=30 * i),
            resident=ResidentFactory(structure=structure, first_name=name, last_name="Hamon"),
        )
        for i, name in enumerate(("Monique", "Gérard"))
    ]
    Membership.objects.filter(user=leaving, structure=structure).delete()
    return structure, admin, colleague, booked


@both_widths
def test_admin_reassigns_an_appointment_of_a_mediator_who_left(
    page, live_server, departure, login, screenshot, viewport
):
    structure, admin, colleague, booked = departure
    width = viewport["width"]
    login(page, live_server, admin.email, PASSWORD)
    page.goto(f"{live_server.url}/s/{structure.slug}/")

    page.get_by_role("link", name="Rendez-vous à réaffecter").click()
    expect(page.get_by_role("heading", name="Rendez-vous à réaffecter")).to_be_visible()
    expect(page.get_by_role("heading", name="Monique Hamon")).to_be_visible()
    expect(page.get_by_role("heading", name="Gérard Hamon")).to_be_visible()
    assert_accessible(page)
    screenshot(page, f"reassign-{width}-1-list")

    page.get_by_role("link", name="Réaffecter — Monique Hamon").click()
    expect(page.get_by_role("heading", name="Réaffecter un rendez-vous")).to_be_visible()
    page.get_by_label("Yannick Morvan").check()
    assert_accessible(page)
    screenshot(page, f"reassign-{width}-2-choose")
    page.get_by_role("button", name="Confier le rendez-vous").click()

    expect(page.get_by_text("est confié à Yannick Morvan")).to_be_visible()
    expect(page.get_by_role("heading", name="Gérard Hamon")).to_be_visible()
    expect(page.get_by_role("heading", name="Monique Hamon")).to_have_count(0)
    assert_accessible(page)
    screenshot(page, f"reassign-{width}-3-done")
    first = Appointment.objects.get(pk=booked[0].pk)
    assert first.mediator == colleague and first.history.first().history_user == admin
