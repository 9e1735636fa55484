""" "Ma journée": a mediator of two structures opens the home page, marks a resident absent, sees
a booking made meanwhile appear without reloading, and finds the walk-in button."""

from __future__ import annotations

from datetime import datetime, time

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from bookings.models import Appointment, Motif
from mediation.choices import Role
from tests.bookings.factories import MotifFactory, SlotFactory
from tests.browser.axe import assert_accessible
from tests.browser.conftest import DESKTOP, MOBILE
from tests.cases.factories import CaseFactory
from tests.factories import (
    MembershipFactory,
    PlaceFactory,
    ResidentFactory,
    StructureFactory,
    UserFactory,
)

PASSWORD = "mot-de-passe-de-test-42"
both_widths = pytest.mark.parametrize("viewport", [MOBILE, DESKTOP], ids=["360px", "1280px"])


def _book(place, motif: Motif, mediator, hour: int, minute: int, first: str, last: str):
    starts = datetime.combine(timezone.localdate(), time(hour, minute), tzinfo=place.tzinfo)
    slot = SlotFactory(place=place, motif=motif, mediator=mediator, starts_at=starts)
    return Appointment.objects.create(
        place=place,
        motif=motif,
        mediator=mediator,
        slot=slot,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        resident=ResidentFactory(
            structure=place.structure, first_name=first, last_name=last, phone="+33612345678"
        ),
    )


@pytest.fixture
def day(transactional_db):
    mediator = UserFactory(email="camille@exemple.fr", first_name="Camille", last_name="Le Goff")
    desks = []
    for name, slug, place_name in (
        ("France Services de Guichen", "fs-guichen", "France Services — accueil"),
        ("CCAS de Bain", "ccas-bain", "Espace social de Bain"),
    ):
        structure = StructureFactory(name=name, slug=slug)
        MembershipFactory(user=mediator, structure=structure, role=Role.MEDIATOR)
        place = PlaceFactory(structure=structure, name=place_name)
        motif = MotifFactory(structure=structure, name="Dossier CAF")
        desks.append((structure, place, motif))
    (guichen, guichen_place, guichen_motif), (bain, bain_place, bain_motif) = desks
    # Started at the start of the day: logged or marked absent. Later: may still be cancelled.
    _book(guichen_place, guichen_motif, mediator, 0, 0, "Monique", "Hamon")
    _book(bain_place, bain_motif, mediator, 12, 0, "Éric", "Dupont")
    _book(guichen_place, guichen_motif, mediator, 23, 30, "Paul", "Tardif")
    CaseFactory(
        structure=guichen,
        mediator=mediator,
        title="Renouvellement carte d'identité",
        next_action_on=timezone.localdate(),
    )
    return {"mediator": mediator, "place": guichen_place, "motif": guichen_motif}


@both_widths
def test_a_mediator_runs_the_day_from_the_home_page(
    page, live_server, day, login, screenshot, viewport
):
    width = viewport["width"]
    login(page, live_server, "camille@exemple.fr", PASSWORD)

    expect(page.get_by_role("heading", name="Ma journée")).to_be_visible()
    cards = page.locator(".day-appointment")
    expect(cards).to_have_count(3)
    # In time order, across both structures.
    expect(cards.nth(0)).to_contain_text("Monique Hamon")
    expect(cards.nth(1)).to_contain_text("Éric Dupont")
    expect(cards.nth(1)).to_contain_text("CCAS de Bain")
    expect(cards.nth(2)).to_contain_text("Paul Tardif")
    monique = cards.filter(has_text="Monique Hamon")
    expect(monique.get_by_role("link", name="Honoré → saisir l'accompagnement")).to_be_visible()
    expect(page.get_by_text("Renouvellement carte d'identité")).to_be_visible()
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the home page scrolls sideways by {overflow}px at {width}px"
    screenshot(page, f"my-day-{width}")
    assert_accessible(page)

    # Absent: the agenda's endpoint, back to the day with the new status.
    monique.get_by_role("button", name="Absent").click()
    expect(page.get_by_role("status")).to_contain_text("Monique Hamon")
    expect(monique.locator(".badge")).to_have_text("Absent")
    expect(monique.get_by_role("button", name="Absent")).to_have_count(0)

    # A resident books meanwhile: the list updates without reloading the page.
    page.evaluate("window.notReloaded = true")
    _book(day["place"], day["motif"], day["mediator"], 22, 30, "Lucie", "Nouvelle")
    # What the page does every 45 s, and at once when its tab comes back to the front.
    page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    expect(cards).to_have_count(4)
    expect(cards.nth(2)).to_contain_text("Lucie Nouvelle")
    assert page.evaluate("window.notReloaded") is True
    assert_accessible(page)

    # The walk-in button offers each structure's session form (one click to choose).
    page.get_by_role("link", name="Accueillir quelqu'un sans rendez-vous").click()
    expect(page.get_by_role("link", name="CCAS de Bain", exact=True)).to_be_visible()
    screenshot(page, f"my-day-{width}-walk-in")
    page.get_by_role("link", name="France Services de Guichen", exact=True).click()
    expect(page).to_have_url(f"{live_server.url}/s/fs-guichen/accompagnements/nouveau/")
