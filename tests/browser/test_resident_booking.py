"""A resident books online from a phone, opens the private link and cancels; every resident
page passes the accessibility check at 360 px and at desktop width, in French and English."""

from __future__ import annotations

from datetime import time

import pytest
from playwright.sync_api import expect

from bookings.choices import AppointmentStatus
from bookings.models import Appointment
from tests.bookings.factories import MotifFactory, OpeningHoursFactory
from tests.browser.axe import assert_accessible
from tests.browser.conftest import DESKTOP, MOBILE
from tests.browser.test_login_and_home import assert_no_horizontal_scroll
from tests.factories import PlaceFactory, StructureFactory, UserFactory

both_widths = pytest.mark.parametrize("viewport", [MOBILE, DESKTOP], ids=["360px", "1280px"])


@pytest.fixture
def desk(transactional_db):
    from django.utils import timezone

    structure = StructureFactory(
        name="Mairie de Lohéac", slug="mairie-loheac", phone="+33299000000"
    )
    place = PlaceFactory(
        structure=structure,
        name="Mairie — salle du conseil",
        accessibility="Plain-pied, accès PMR.",
    )
    motif = MotifFactory(
        structure=structure,
        name="Aide aux démarches en ligne",
        min_delay_minutes=0,
        max_delay_days=60,
        instructions="Apportez vos identifiants et une pièce d'identité.",
    )
    MotifFactory(
        structure=structure, name="Dossier retraite", duration_minutes=60, min_delay_minutes=0
    )
    OpeningHoursFactory(
        place=place,
        mediator=UserFactory(),
        motifs=[motif],
        weekdays=list(range(7)),
        start_time=time(8),
        end_time=time(19),
        first_day=timezone.localdate(),
    )
    PlaceFactory(structure=structure, name="Annexe de la Gare")
    return structure, place, motif


def book(page, live_server, desk, screenshot, prefix: str, check=True):
    structure, place, motif = desk
    page.goto(f"{live_server.url}/rdv/{structure.slug}/")
    if check:
        assert_accessible(page)
        assert_no_horizontal_scroll(page)
    screenshot(page, f"{prefix}-1-start")
    page.get_by_label(place.name, exact=False).check()
    page.get_by_label(motif.name, exact=False).check()
    page.get_by_role("button", name="Voir les créneaux libres").click()
    expect(page.get_by_role("heading", name="Choisissez un horaire")).to_be_visible()
    if check:
        assert_accessible(page)
        assert_no_horizontal_scroll(page)
    screenshot(page, f"{prefix}-2-slots")
    page.locator(".slot-button").last.click()  # days ahead: before the cancel cut-off
    expect(page.get_by_role("heading", name="Vos coordonnées")).to_be_visible()
    # A wrong number first: the message is at the field and what was typed stays.
    page.locator("#id_first_name").fill("Éric")
    page.locator("#id_last_name").fill("Dupont")
    page.locator("#id_phone").fill("12")
    page.get_by_role("button", name="Confirmer le rendez-vous").click()
    expect(page.get_by_text("Ce numéro de téléphone n'est pas valide")).to_be_visible()
    expect(page.locator("#id_last_name")).to_have_value("Dupont")
    if check:
        assert_accessible(page)
        assert_no_horizontal_scroll(page)
    screenshot(page, f"{prefix}-3-details-error")
    page.locator("#id_phone").fill("06 12 34 56 78")
    page.locator("#id_need").fill("Carte d'identité")
    page.get_by_role("button", name="Confirmer le rendez-vous").click()
    expect(page.get_by_text("Votre rendez-vous est confirmé.")).to_be_visible()
    if check:
        assert_accessible(page)
        assert_no_horizontal_scroll(page)
    screenshot(page, f"{prefix}-4-confirmed")


@both_widths
def test_resident_books_opens_the_private_link_and_cancels(
    page, live_server, desk, viewport, screenshot
):
    width = viewport["width"]
    book(page, live_server, desk, screenshot, f"resident-{width}")
    appointment = Appointment.objects.get()
    assert appointment.status == AppointmentStatus.BOOKED
    assert appointment.resident.phone.as_e164 == "+33612345678"
    expect(page.get_by_text("Apportez vos identifiants")).to_be_visible()

    # The private link, opened later (as from the SMS), cancels after a confirmation.
    page.goto(f"{live_server.url}/rdv/a/{appointment.token}/")
    page.get_by_role("link", name="Annuler le rendez-vous").click()
    expect(page.get_by_role("heading", name="Annuler le rendez-vous ?")).to_be_visible()
    assert_accessible(page)
    assert_no_horizontal_scroll(page)
    screenshot(page, f"resident-{width}-5-cancel-question")
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.BOOKED
    page.get_by_role("button", name="Oui, annuler").click()
    expect(page.get_by_text("Annulé par l'usager")).to_be_visible()
    expect(page.get_by_role("link", name="Prendre un nouveau rendez-vous")).to_be_visible()
    assert_accessible(page)
    screenshot(page, f"resident-{width}-6-cancelled")
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CANCELLED_BY_RESIDENT


def test_resident_pages_read_in_english(page, live_server, desk, screenshot):
    structure, _place, _motif = desk
    page.goto(f"{live_server.url}/rdv/{structure.slug}/")
    page.get_by_role("link", name="English").click()
    expect(
        page.get_by_role("heading", name="Book an appointment with a digital mediator")
    ).to_be_visible()
    assert page.locator("html").get_attribute("lang") == "en"
    assert_accessible(page)
    screenshot(page, "resident-english-start")
    page.get_by_role("link", name="Français").click()
    expect(
        page.get_by_role("heading", name="Prendre rendez-vous avec un·e médiateur·rice numérique")
    ).to_be_visible()


def test_the_confirmation_reaches_the_outbox_that_staff_can_read(
    page, live_server, desk, screenshot, login
):
    from mediation.choices import Role
    from tests.factories import MembershipFactory

    structure, _place, _motif = desk
    book(page, live_server, desk, screenshot, "outbox", check=False)
    appointment = Appointment.objects.get()
    mediator = UserFactory(email="camille@exemple.fr")
    mediator.set_password("mot-de-passe-de-test-42")
    mediator.save()
    MembershipFactory(user=mediator, structure=structure, role=Role.MEDIATOR)
    page.context.clear_cookies()
    login(page, live_server, mediator.email, "mot-de-passe-de-test-42")
    page.goto(f"{live_server.url}/s/{structure.slug}/messages/")
    expect(page.get_by_text(f"/rdv/a/{appointment.token}/").first).to_be_visible()
    assert_accessible(page)
    screenshot(page, "outbox-staff")


@both_widths
def test_waiting_list_move_and_privacy_pages_are_accessible(
    page, live_server, desk, viewport, screenshot
):
    from django.utils import timezone

    from bookings.services import booking as services
    from bookings.slots import next_free_slots

    structure, place, motif = desk
    width = viewport["width"]
    base = f"{live_server.url}/rdv/{structure.slug}"
    page.goto(f"{base}/liste-attente/?lieu={place.pk}&motif={motif.pk}")
    expect(page.get_by_role("heading", name="Être prévenu·e d'un créneau libre")).to_be_visible()
    assert_accessible(page)
    assert_no_horizontal_scroll(page)
    screenshot(page, f"resident-{width}-waitlist")
    page.goto(f"{live_server.url}/rdv/confidentialite/")
    assert_accessible(page)
    later = next_free_slots(
        place=place, motif=motif, count=1, now=timezone.now() + timezone.timedelta(days=3)
    )[0]
    appointment = services.public_booking_make(
        place=place,
        motif=motif,
        starts_at=later.starts_at,
        first_name="Léa",
        last_name="Martin",
        phone="+33612345678",
    )
    page.goto(f"{live_server.url}/rdv/a/{appointment.token}/deplacer/")
    expect(page.get_by_role("heading", name="Déplacer mon rendez-vous")).to_be_visible()
    assert_accessible(page)
    assert_no_horizontal_scroll(page)
    screenshot(page, f"resident-{width}-move")
