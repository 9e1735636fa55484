"""A structure admin opens an exceptional Saturday (without touching the recurring opening
hours), an error first shown at the field; then a resident books that Saturday from a phone
(issue #14). Every page passes the accessibility check."""

from __future__ import annotations

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from bookings.models import Appointment, DateOverride
from mediation.choices import Role
from tests.bookings.factories import MotifFactory
from tests.browser.axe import assert_accessible
from tests.browser.conftest import MOBILE, context_options
from tests.browser.test_login_and_home import assert_no_horizontal_scroll
from tests.factories import MembershipFactory, PlaceFactory, StructureFactory, UserFactory

PASSWORD = "mot-de-passe-de-test-42"


def test_an_admin_opens_an_exceptional_saturday_and_a_resident_books_it(
    page, browser, live_server, login, screenshot
):
    structure = StructureFactory(name="France Services de Guichen", slug="fs-guichen")
    place = PlaceFactory(structure=structure, name="Médiathèque de Guichen")
    motif = MotifFactory(
        structure=structure, name="Aide aux démarches en ligne", min_delay_minutes=0
    )
    admin = UserFactory(email="dominique@exemple.fr", password=PASSWORD)
    MembershipFactory(user=admin, structure=structure, role=Role.STRUCTURE_ADMIN)
    mediator = UserFactory(first_name="Camille", last_name="Le Goff")
    MembershipFactory(user=mediator, structure=structure, role=Role.MEDIATOR)
    today = timezone.localdate(timezone=place.tzinfo)
    saturday = today + timedelta(days=(5 - today.weekday()) % 7 or 7)

    login(page, live_server, admin.email, PASSWORD)
    page.goto(live_server.url + reverse("opening_hours_list", kwargs={"structure": structure.slug}))
    page.get_by_role("link", name="Jours exceptionnels", exact=False).first.click()
    expect(page.get_by_role("heading", name="Jours exceptionnels")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Ajouter un jour exceptionnel").click()
    page.locator("#id_day").fill(saturday.isoformat())
    page.get_by_label("Ouvert : ouverture exceptionnelle ou autres horaires").check()
    page.locator("#id_mediator").select_option(label="Camille Le Goff")
    page.get_by_label("Heure de début").fill("10:00")
    page.get_by_label("Heure de fin").fill("09:00")
    page.get_by_label(motif.name).check()
    page.get_by_role("button", name="Enregistrer").click()

    expect(page.get_by_text("L'heure de fin doit être après l'heure de début.")).to_be_visible()
    expect(page.get_by_label("Heure de début")).to_have_value("10:00")
    assert not DateOverride.objects.exists()
    assert_accessible(page)
    screenshot(page, "exceptional-saturday-error")

    page.get_by_label("Heure de fin").fill("12:00")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_text("Le jour exceptionnel est enregistré")).to_be_visible()
    expect(page.get_by_role("rowheader", name="Samedi", exact=False)).to_be_visible()
    assert_accessible(page)
    screenshot(page, "exceptional-saturday-list")
    assert DateOverride.objects.get().mediator == mediator

    # A resident, on a phone, without an account: only that Saturday is offered.
    context = browser.new_context(**context_options(MOBILE))
    context.set_default_timeout(10_000)
    resident = context.new_page()
    try:
        resident.goto(f"{live_server.url}/rdv/{structure.slug}/")
        resident.get_by_label(motif.name, exact=False).check()
        resident.get_by_role("button", name="Voir les créneaux libres").click()
        expect(resident.get_by_role("heading", name="Choisissez un horaire")).to_be_visible()
        expect(resident.get_by_text("samedi", exact=False).first).to_be_visible()
        assert resident.locator(".slot-button").count() == 4  # 10:00–12:00, 30 minutes each
        assert_accessible(resident)
        assert_no_horizontal_scroll(resident)
        screenshot(resident, "exceptional-saturday-slots-360")
        resident.locator(".slot-button").first.click()
        resident.locator("#id_first_name").fill("Éric")
        resident.locator("#id_last_name").fill("Dupont")
        resident.locator("#id_phone").fill("06 12 34 56 78")
        resident.get_by_role("button", name="Confirmer le rendez-vous").click()
        expect(resident.get_by_text("Votre rendez-vous est confirmé.")).to_be_visible()
        assert_accessible(resident)
        screenshot(resident, "exceptional-saturday-booked-360")
    finally:
        context.close()
    appointment = Appointment.objects.get()
    assert appointment.mediator == mediator
    local = timezone.localtime(appointment.starts_at, place.tzinfo)
    assert (local.date(), local.hour, local.minute) == (saturday, 10, 0)
