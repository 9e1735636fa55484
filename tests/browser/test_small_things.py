"""Small things people tripped on (issue 16): moving an appointment shows its current time and
asks before moving; a structure with one place does not ask where, and the chosen cards stay
highlighted; scrollable tables take the keyboard focus; the favicon. At 360 and 1280 px, with
axe (0 serious or critical)."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone
from playwright.sync_api import expect

from bookings.choices import AppointmentStatus
from bookings.models import Appointment
from bookings.services import booking as services
from bookings.slots import next_free_slots
from mediation.choices import Role
from tests.bookings.factories import AbsenceFactory, MotifFactory, OpeningHoursFactory
from tests.browser.axe import assert_accessible
from tests.browser.conftest import DESKTOP, MOBILE
from tests.browser.test_login_and_home import assert_no_horizontal_scroll
from tests.cases.factories import HelpSessionFactory
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
def one_place(transactional_db):
    structure = StructureFactory(name="Mairie de Lohéac", slug="mairie-loheac")
    place = PlaceFactory(structure=structure, name="Mairie — salle du conseil")
    motif = MotifFactory(
        structure=structure, name="Aide aux démarches en ligne", min_delay_minutes=0
    )
    other = MotifFactory(structure=structure, name="Dossier retraite", min_delay_minutes=0)
    mediator = UserFactory(email="camille@exemple.fr", password=PASSWORD)
    OpeningHoursFactory(
        place=place,
        mediator=mediator,
        motifs=[motif, other],
        weekdays=list(range(7)),
        start_time=time(8),
        end_time=time(19),
        first_day=timezone.localdate(),
    )
    return structure, place, motif, mediator


def check(page):
    assert_accessible(page)
    assert_no_horizontal_scroll(page)


@both_widths
def test_moving_shows_the_current_time_and_asks_before_moving(
    page, live_server, one_place, viewport, screenshot
):
    _structure, place, motif, _mediator = one_place
    width = viewport["width"]
    later = next_free_slots(
        place=place, motif=motif, count=1, now=timezone.now() + timedelta(days=3)
    )[0]
    appointment = services.public_booking_make(
        place=place,
        motif=motif,
        starts_at=later.starts_at,
        first_name="Léa",
        last_name="Martin",
        phone="+33612345678",
    )
    current = timezone.localtime(appointment.starts_at, place.tzinfo)

    page.goto(f"{live_server.url}/rdv/a/{appointment.token}/")
    page.get_by_role("link", name="Changer d'horaire").click()
    expect(page.get_by_role("heading", name="Déplacer mon rendez-vous")).to_be_visible()
    expect(page.locator("#current-appointment")).to_contain_text("Votre rendez-vous actuel")
    expect(page.locator("#current-appointment")).to_contain_text(current.strftime("%H:%M"))
    check(page)
    screenshot(page, f"move-{width}-1-times")

    page.locator(".slot-button").nth(1).click()
    expect(page.get_by_role("heading", name="Confirmer le déplacement ?")).to_be_visible()
    expect(page.get_by_text("Rendez-vous actuel", exact=True)).to_be_visible()
    expect(page.get_by_text("Nouveau rendez-vous", exact=True)).to_be_visible()
    check(page)
    screenshot(page, f"move-{width}-2-confirm")
    assert Appointment.objects.get().starts_at == appointment.starts_at  # nothing moved yet

    # Another time: the one picked comes back highlighted.
    page.get_by_role("link", name="Choisir un autre horaire").click()
    chosen = page.locator('.slot-button[aria-current="true"]')
    expect(chosen).to_have_count(1)
    expect(chosen).to_contain_text("✓")
    check(page)
    screenshot(page, f"move-{width}-3-back")
    page.locator(".slot-button").nth(2).click()
    expect(page.get_by_role("heading", name="Confirmer le déplacement ?")).to_be_visible()
    page.get_by_role("button", name="Confirmer le déplacement").click()
    expect(page.get_by_text("Votre rendez-vous est confirmé.")).to_be_visible()
    check(page)
    new = Appointment.objects.get(status=AppointmentStatus.BOOKED)
    assert new.moved_from_id == appointment.pk and new.starts_at != appointment.starts_at


@both_widths
def test_one_place_is_not_asked_and_the_chosen_cards_stay_highlighted(
    page, live_server, one_place, viewport, screenshot
):
    structure, place, motif, _mediator = one_place
    width = viewport["width"]
    page.goto(f"{live_server.url}/rdv/{structure.slug}/")
    expect(page.get_by_role("heading", name="Où ?")).to_be_visible()
    expect(page.get_by_text(place.name)).to_be_visible()
    expect(page.locator('input[type="radio"][name="lieu"]')).to_have_count(0)
    page.get_by_label(motif.name, exact=False).check()
    chosen = page.locator(".choice-card:has(input:checked)")
    expect(chosen).to_have_count(1)
    # Not by colour alone: the card says it is chosen.
    assert "Choisi" in chosen.evaluate("e => getComputedStyle(e, '::after').content")
    check(page)
    screenshot(page, f"one-place-{width}-1-start")

    page.get_by_role("button", name="Voir les créneaux libres").click()
    expect(page.get_by_role("heading", name="Choisissez un horaire")).to_be_visible()
    expect(page.get_by_text("Votre choix")).to_be_visible()
    # Back to change: the start page, the motif still ticked (no loop back to the times).
    page.get_by_role("link", name="Modifier ce choix").click()
    expect(page.get_by_label(motif.name, exact=False)).to_be_checked()
    page.get_by_role("button", name="Voir les créneaux libres").click()
    expect(page.get_by_role("heading", name="Choisissez un horaire")).to_be_visible()
    page.locator(".slot-button").nth(1).click()
    expect(page.get_by_role("heading", name="Vos coordonnées")).to_be_visible()
    page.get_by_role("link", name="Modifier ce choix").click()
    chosen = page.locator('.slot-button[aria-current="true"]')
    expect(chosen).to_have_count(1)
    expect(chosen).to_contain_text("votre choix")
    check(page)
    screenshot(page, f"one-place-{width}-2-back-to-times")


@pytest.fixture
def admin_desk(one_place):
    structure, place, motif, mediator = one_place
    admin = UserFactory(email="admin@exemple.fr", password=PASSWORD)
    MembershipFactory(user=admin, structure=structure, role=Role.STRUCTURE_ADMIN)
    MembershipFactory(user=admin, structure=structure, role=Role.MEDIATOR)
    # The mediator is already a member: OpeningHoursFactory makes the person of the hours one.
    resident = ResidentFactory(structure=structure, first_name="Éric", last_name="Dupont")
    HelpSessionFactory(structure=structure, place=place, mediator=admin, resident=resident)
    AbsenceFactory(mediator=admin)
    return structure, admin, resident


@both_widths
def test_scrollable_tables_take_the_keyboard_focus(page, live_server, login, admin_desk, viewport):
    structure, admin, resident = admin_desk
    login(page, live_server, admin.email, PASSWORD)
    base = f"{live_server.url}/s/{structure.slug}"
    pages = [
        "/lieux/",
        "/equipe/",
        "/rdv/motifs/",
        "/rdv/plages/",
        "/rdv/absences/",
        "/messages/",
        "/journal/",
        "/accompagnements/",
        f"/usagers/{resident.pk}/",
        "/bilans/archives/",
        "/api/",
    ]
    axe = Axe()
    seen = 0
    for path in pages:
        response = page.goto(base + path)
        assert response.ok, path
        regions = page.locator(".table-responsive")
        for index in range(regions.count()):
            region = regions.nth(index)
            seen += 1
            assert region.get_attribute("tabindex") == "0", path
            assert region.get_attribute("aria-label") or region.get_attribute("aria-labelledby")
        results = axe.run(
            page,
            options={
                "runOnly": {"type": "rule", "values": ["scrollable-region-focusable"]},
                "resultTypes": ["violations"],
            },
        )
        assert results.response["violations"] == [], path
        assert_accessible(page)
    assert seen >= 8
    # The focus reaches a table region by keyboard.
    page.goto(base + "/lieux/")
    region = page.locator(".table-responsive").first
    region.focus()
    expect(region).to_be_focused()


def test_the_favicon_is_served(page, live_server):
    response = page.request.get(f"{live_server.url}/favicon.ico")
    assert response.ok and response.headers["content-type"].startswith("image/")
    page.goto(f"{live_server.url}/compte/connexion/")
    href = page.locator('link[rel="icon"][type="image/svg+xml"]').get_attribute("href")
    assert page.request.get(live_server.url + href).ok
