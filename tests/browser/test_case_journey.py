"""A mediator opens a case for a resident, writes notes on it without changing its status,
follows it to "Résolu" and reads its timeline; "Mes suivis" by next action, with its count in
the menu."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from cases.choices import CaseStatus
from cases.models import Case
from mediation.choices import Role
from tests.browser.axe import assert_accessible
from tests.browser.conftest import DESKTOP, MOBILE
from tests.cases.factories import CaseFactory, HelpSessionFactory
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
    mediator = UserFactory(email="camille@exemple.fr", first_name="Camille", last_name="Le Goff")
    MembershipFactory(user=mediator, structure=structure, role=Role.MEDIATOR)
    resident = ResidentFactory(structure=structure, first_name="Éric", last_name="Dupont")
    # A session logged last week, before the case was opened: it is attached afterwards.
    session = HelpSessionFactory(
        structure=structure,
        place=place,
        mediator=mediator,
        resident=resident,
        date=timezone.localdate() - timedelta(days=7),
        duration_minutes=45,
        themes=["demarches_administratives"],
        procedures=["retraite"],
    )
    return structure, mediator, resident, session


@both_widths
def test_mediator_follows_a_case_to_resolution(
    page, live_server, desk, login, screenshot, viewport
):
    structure, mediator, resident, session = desk
    width = viewport["width"]
    login(page, live_server, mediator.email, PASSWORD)

    # Open a case: find the resident without accents.
    page.goto(f"{live_server.url}/s/{structure.slug}/dossiers/suivis/")
    page.get_by_role("link", name="Ouvrir un dossier").click()
    page.get_by_label("Nom de l'usager").fill("eric dupont")
    page.get_by_role("button", name="Rechercher").click()
    page.get_by_role("link", name="Ouvrir un dossier — Éric Dupont").click()
    page.get_by_label("Intitulé").fill("Ouverture droits retraite")
    page.get_by_label("Domaine de la démarche").select_option(
        label="Retraite (info-retraite, CNAV, Agirc-Arrco)"
    )
    assert_accessible(page)
    page.get_by_role("button", name="Ouvrir le dossier").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Ouverture droits retraite")
    case = Case.objects.get()
    assert case.resident == resident and case.mediator == mediator

    # Move it to "En cours" with a comment and a next-action date.
    next_week = timezone.localdate() + timedelta(days=7)
    page.get_by_label("En cours", exact=True).check()
    page.get_by_label("Commentaire").fill("Relevé de carrière demandé sur info-retraite.")
    page.get_by_label("Prochaine action le").fill(next_week.isoformat())
    page.get_by_role("button", name="Changer le statut").click()
    expect(page.get_by_text("Le dossier est maintenant « En cours ».")).to_be_visible()

    # Attach last week's session.
    page.get_by_label("Accompagnement à rattacher").select_option(index=1)
    page.get_by_role("button", name="Rattacher").click()
    expect(page.get_by_text("L'accompagnement est rattaché au dossier.")).to_be_visible()

    # A note with a document reference and a new date: the status stays "En cours". A date
    # already past is refused at the field, what was typed kept.
    note = page.locator(".case-note-form")
    note.get_by_label("Note").fill("Attestation de la CAF demandée.")
    note.get_by_label("Référence de document").fill("n° dossier CAF 1234567")
    note.get_by_label("Nouvelle date de prochaine action").fill(
        (timezone.localdate() - timedelta(days=1)).isoformat()
    )
    note.get_by_role("button", name="Ajouter au dossier").click()
    expect(page.get_by_text("La prochaine action ne peut pas être dans le passé.")).to_be_visible()
    expect(note.get_by_label("Note")).to_have_value("Attestation de la CAF demandée.")
    expect(note.get_by_label("Référence de document")).to_have_value("n° dossier CAF 1234567")
    in_two_weeks = timezone.localdate() + timedelta(days=14)
    note.get_by_label("Nouvelle date de prochaine action").fill(in_two_weeks.isoformat())
    note.get_by_role("button", name="Ajouter au dossier").click()
    expect(page.get_by_text("C'est noté dans l'historique du dossier.")).to_be_visible()
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_PROGRESS and case.next_action_on == in_two_weeks
    expect(page.locator("#resume").locator("..")).to_contain_text("n° dossier CAF 1234567")

    # "Résolu" in one step: the status and its comment, one form.
    page.get_by_label("Résolu", exact=True).check()
    page.get_by_label("Commentaire").fill("Carte reçue en mairie")
    page.get_by_role("button", name="Changer le statut").click()
    expect(page.get_by_text("Le dossier est maintenant « Résolu ».")).to_be_visible()

    case.refresh_from_db()
    session.refresh_from_db()
    assert case.status == CaseStatus.RESOLVED and case.closed_at is not None
    assert session.case == case
    assert [(e.kind, e.to_status) for e in case.events.order_by("at")] == [
        ("status", CaseStatus.OPEN),
        ("status", CaseStatus.IN_PROGRESS),
        ("note", ""),
        ("status", CaseStatus.RESOLVED),
    ]

    # The timeline, newest first: resolved, the note, in progress, opened, then last week's
    # session.
    timeline = page.locator(".timeline > li")
    expect(timeline).to_have_count(5)
    expect(timeline.nth(0)).to_contain_text("Résolu")
    expect(timeline.nth(0)).to_contain_text("par Camille Le Goff")
    expect(timeline.nth(1)).to_contain_text("Note")
    expect(timeline.nth(1)).to_contain_text("Attestation de la CAF demandée.")
    expect(timeline.nth(1)).to_contain_text("n° dossier CAF 1234567")
    expect(timeline.nth(1)).to_contain_text("par Camille Le Goff")
    expect(timeline.nth(2)).to_contain_text("Relevé de carrière demandé sur info-retraite.")
    expect(timeline.nth(3)).to_contain_text("Dossier ouvert par Camille Le Goff")
    expect(timeline.nth(4)).to_contain_text("45 min")
    expect(timeline.nth(4)).to_contain_text("Démarches administratives")
    # A closed case offers only to reopen it.
    expect(page.get_by_role("heading", name="Rouvrir le dossier")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert_accessible(page)
    screenshot(page, f"case-{width}-timeline")

    # "Mes suivis": the case is closed, so it is among neither the cases to handle nor the
    # open ones.
    page.get_by_role("link", name="Mes suivis").click()
    expect(page.get_by_text("Rien à traiter avec ces filtres")).to_be_visible()
    page.get_by_label("Dossiers").select_option(label="Tous les dossiers ouverts")
    page.get_by_role("button", name="Afficher").click()
    expect(page.get_by_text("Aucun dossier ouvert avec ces filtres.")).to_be_visible()
    assert_accessible(page)


@both_widths
def test_followups_by_next_action_with_the_count_in_the_menu(
    page, live_server, desk, login, screenshot, viewport
):
    structure, mediator, resident, _session = desk
    today = timezone.localdate()
    for title, day in [
        ("Sans date", None),
        ("Carte grise", today + timedelta(days=3)),
        ("Prime d'activité", today - timedelta(days=2)),
        ("Chèque énergie", today),
    ]:
        CaseFactory(
            structure=structure,
            resident=resident,
            mediator=mediator,
            title=title,
            next_action_on=day,
            status=CaseStatus.IN_PROGRESS,
        )
    width = viewport["width"]
    login(page, live_server, mediator.email, PASSWORD)
    page.goto(f"{live_server.url}/s/{structure.slug}/dossiers/suivis/")

    # The menu says how many cases the page lists: one late, one today.
    if width < 992:
        page.get_by_role("button", name="Ouvrir le menu").click()
    expect(page.get_by_role("link", name="Suivis 2 à traiter")).to_be_visible()
    rows = page.locator(".followups-table tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Prime d'activité")
    expect(rows.nth(0)).to_contain_text("en retard de 2 j")
    expect(rows.nth(1)).to_contain_text("Chèque énergie")

    # Every open case: the late first, those without a date last.
    page.get_by_label("Dossiers").select_option(label="Tous les dossiers ouverts")
    page.get_by_role("button", name="Afficher").click()
    expect(rows).to_have_count(4)
    for n, title in enumerate(["Prime d'activité", "Chèque énergie", "Carte grise", "Sans date"]):
        expect(rows.nth(n)).to_contain_text(title)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert_accessible(page)
    screenshot(page, f"followups-{width}")
