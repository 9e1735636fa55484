"""Cases (dossiers): opening, the status table, attaching sessions, edits, the case page and its
timeline, and "Mes suivis"."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from cases.choices import CASE_TRANSITIONS, CLOSED_CASE_STATUSES, CaseStatus, ProcedureArea
from cases.models import Case, CaseEvent, HelpSession
from cases.selectors.cases import (
    ATTACH_CHOICES,
    FollowupFilters,
    attachable_session_list,
    attachable_sessions,
    case_timeline,
    followup_cases,
    initials,
    needing_followup,
    waiting_too_long,
)
from cases.services import cases as services
from mediation.choices import Role
from tests.cases.factories import (
    CaseFactory,
    HelpSessionFactory,
    WorkshopSessionFactory,
)
from tests.conftest import member
from tests.factories import (
    NetworkFactory,
    NetworkMembershipFactory,
    ResidentFactory,
    StructureFactory,
)
from tests.search import search_get

pytestmark = pytest.mark.django_db

S = CaseStatus
ALL_PAIRS = [(a, b) for a in S.values for b in S.values]
ALLOWED = [(a, b) for a, b in ALL_PAIRS if b in CASE_TRANSITIONS[a]]
REFUSED = [(a, b) for a, b in ALL_PAIRS if b not in CASE_TRANSITIONS[a]]


@pytest.fixture
def case(structure, resident, mediator):
    return services.case_open(
        resident=resident,
        procedure_area=ProcedureArea.PAPIERS_CITOYENNETE,
        title="Renouvellement carte d'identité",
        by=mediator,
        mediator=mediator,
        comment="Pré-demande ANTS à faire.",
    )


def case_in(status, **fields):
    """A case already in `status` (written directly: the factory skips the services)."""
    closed = timezone.now() if status in CLOSED_CASE_STATUSES else None
    return CaseFactory(status=status, closed_at=closed, **fields)


def detail_url(case):
    return reverse("case_detail", kwargs={"structure": case.structure.slug, "case": case.pk})


def transition_url(case):
    return reverse("case_transition", kwargs={"structure": case.structure.slug, "case": case.pk})


def attach_url(case):
    return reverse("case_attach", kwargs={"structure": case.structure.slug, "case": case.pk})


def followups_url(structure, **params):
    url = reverse("followups", kwargs={"structure": structure.slug})
    if params:
        from urllib.parse import urlencode

        url += "?" + urlencode(params)
    return url


# --- Opening a case -------------------------------------------------------------------------


def test_opening_a_case_records_its_first_event_and_author(case, mediator, structure):
    assert case.structure == structure and case.status == S.OPEN
    event = case.events.get()
    assert (event.from_status, event.to_status) == ("", S.OPEN)
    assert event.comment == "Pré-demande ANTS à faire." and event.by == mediator
    assert case.history.get().history_user == mediator


def test_opening_without_comment_writes_a_default_one(resident, mediator):
    case = services.case_open(
        resident=resident, procedure_area=ProcedureArea.RETRAITE, title="Retraite", by=mediator
    )
    assert case.events.get().comment == "Dossier ouvert."


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"title": "  "}, "title"),
        ({"procedure_area": "astrologie"}, "procedure_area"),
        ({"next_action_on": timezone.localdate() - timedelta(days=1)}, "next_action_on"),
    ],
)
def test_opening_refuses_bad_input_at_the_field(resident, mediator, fields, field):
    data = {"procedure_area": ProcedureArea.RETRAITE, "title": "Retraite", **fields}
    with pytest.raises(ValidationError) as error:
        services.case_open(resident=resident, by=mediator, **data)
    assert field in error.value.message_dict
    assert not Case.objects.exists()


def test_a_referent_must_belong_to_the_team(resident, mediator):
    stranger = member(StructureFactory())
    with pytest.raises(ValidationError) as error:
        services.case_open(
            resident=resident,
            procedure_area=ProcedureArea.RETRAITE,
            title="Retraite",
            by=mediator,
            mediator=stranger,
        )
    assert "ne fait pas partie de l'équipe" in error.value.message_dict["mediator"][0]


def test_an_anonymous_resident_has_no_case(structure, mediator):
    anonymous = ResidentFactory(structure=structure, is_anonymous=True, first_name="", last_name="")
    with pytest.raises(ValidationError) as error:
        services.case_open(
            resident=anonymous, procedure_area=ProcedureArea.RETRAITE, title="X", by=mediator
        )
    assert "resident" in error.value.message_dict


def test_a_resident_shared_in_the_network_may_be_followed_by_another_structure(mediator):
    network = NetworkFactory()
    home, other = StructureFactory(networks=[network]), StructureFactory(networks=[network])
    shared = ResidentFactory(structure=home, shared_with_network=True)
    private = ResidentFactory(structure=home)
    case = services.case_open(
        resident=shared,
        procedure_area=ProcedureArea.LOGEMENT,
        title="APL",
        by=mediator,
        structure=other,
    )
    assert case.structure == other
    with pytest.raises(ValidationError):
        services.case_open(
            resident=private,
            procedure_area=ProcedureArea.LOGEMENT,
            title="APL",
            by=mediator,
            structure=other,
        )


# --- The status table -----------------------------------------------------------------------


@pytest.mark.parametrize(("current", "target"), ALLOWED, ids=[f"{a}->{b}" for a, b in ALLOWED])
def test_allowed_transition_is_recorded(current, target, mediator):
    case = case_in(current)
    before = case.status_changed_at
    next_action = timezone.localdate() + timedelta(days=7)
    case = services.case_transition(
        case=case, to=target, comment="  Fait.  ", by=mediator, next_action_on=next_action
    )
    case.refresh_from_db()
    assert case.status == target and case.status_changed_at > before
    event = CaseEvent.objects.get(case=case)
    assert (event.from_status, event.to_status, event.comment, event.by) == (
        current,
        target,
        "Fait.",
        mediator,
    )
    if target in CLOSED_CASE_STATUSES:
        assert case.closed_at is not None and case.next_action_on is None
    else:
        assert case.closed_at is None and case.next_action_on == next_action
    assert case.history.first().history_user == mediator


@pytest.mark.parametrize(("current", "target"), REFUSED, ids=[f"{a}->{b}" for a, b in REFUSED])
def test_refused_transition_names_the_current_status_and_changes_nothing(current, target, mediator):
    case = case_in(current)
    rows = case.history.count()
    with pytest.raises(ValidationError) as error:
        services.case_transition(case=case, to=target, comment="Essai", by=mediator)
    message = error.value.message_dict["to"][0]
    assert f"« {S(current).label} »" in message
    case.refresh_from_db()
    assert case.status == current
    assert not CaseEvent.objects.filter(case=case).exists()
    assert case.history.count() == rows


def test_an_unknown_status_is_refused(case, mediator):
    with pytest.raises(ValidationError) as error:
        services.case_transition(case=case, to="perdu", comment="?", by=mediator)
    assert error.value.message_dict["to"] == ["Ce statut n'existe pas."]


@pytest.mark.parametrize("comment", ["", "   \n "])
def test_a_status_change_needs_a_comment(case, mediator, comment):
    # DOMAIN.md: "with a comment at each change".
    with pytest.raises(ValidationError) as error:
        services.case_transition(case=case, to=S.IN_PROGRESS, comment=comment, by=mediator)
    assert "commentaire est obligatoire" in error.value.message_dict["comment"][0]
    case.refresh_from_db()
    assert case.status == S.OPEN


def test_a_status_change_refuses_a_next_action_in_the_past(case, mediator):
    with pytest.raises(ValidationError) as error:
        services.case_transition(
            case=case,
            to=S.IN_PROGRESS,
            comment="Rappel",
            by=mediator,
            next_action_on=timezone.localdate() - timedelta(days=1),
        )
    assert "next_action_on" in error.value.message_dict


def test_a_reopened_case_is_no_longer_closed(case, mediator):
    services.case_transition(case=case, to=S.RESOLVED, comment="Carte reçue", by=mediator)
    case = services.case_transition(
        case=case, to=S.IN_PROGRESS, comment="Erreur sur la carte", by=mediator
    )
    assert case.closed_at is None and case.status == S.IN_PROGRESS


# --- Attaching sessions ---------------------------------------------------------------------


def test_a_session_of_the_resident_is_attached(case, mediator):
    session = HelpSessionFactory(structure=case.structure, resident=case.resident)
    services.case_attach_session(case=case, session=session, by=mediator)
    session.refresh_from_db()
    assert session.case == case
    assert session.history.first().history_user == mediator


def test_a_workshop_the_resident_took_part_in_is_attached(case, mediator):
    workshop = WorkshopSessionFactory(structure=case.structure, participants=[case.resident])
    services.case_attach_session(case=case, session=workshop, by=mediator)
    assert HelpSession.objects.get(pk=workshop.pk).case == case


def test_a_session_of_another_resident_is_refused(case, mediator):
    other = HelpSessionFactory(structure=case.structure)
    with pytest.raises(ValidationError) as error:
        services.case_attach_session(case=case, session=other, by=mediator)
    assert "autre usager" in error.value.message_dict["session"][0]
    other.refresh_from_db()
    assert other.case is None


def test_a_workshop_without_the_resident_is_refused(case, mediator):
    workshop = WorkshopSessionFactory(structure=case.structure)
    with pytest.raises(ValidationError):
        services.case_attach_session(case=case, session=workshop, by=mediator)


def test_a_session_of_another_structure_is_refused(case, mediator):
    other = HelpSessionFactory(structure=StructureFactory(), resident=case.resident)
    with pytest.raises(ValidationError) as error:
        services.case_attach_session(case=case, session=other, by=mediator)
    assert "autre structure" in error.value.message_dict["session"][0]


def test_a_session_belongs_to_one_case_at_most(case, mediator):
    session = HelpSessionFactory(structure=case.structure, resident=case.resident)
    services.case_attach_session(case=case, session=session, by=mediator)
    with pytest.raises(ValidationError) as again:
        services.case_attach_session(case=case, session=session, by=mediator)
    assert "déjà rattaché à ce dossier" in again.value.message_dict["session"][0]
    second = CaseFactory(structure=case.structure, resident=case.resident, title="Retraite")
    with pytest.raises(ValidationError) as other:
        services.case_attach_session(case=second, session=session, by=mediator)
    assert "« Renouvellement carte d'identité »" in other.value.message_dict["session"][0]


def test_the_sessions_offered_are_the_residents_unattached_ones_newest_first(case, mediator):
    structure, resident = case.structure, case.resident
    today = timezone.localdate()
    old = HelpSessionFactory(structure=structure, resident=resident, date=today - timedelta(days=9))
    new = HelpSessionFactory(structure=structure, resident=resident, date=today - timedelta(days=1))
    workshop = WorkshopSessionFactory(
        structure=structure, participants=[resident], date=today - timedelta(days=5)
    )
    attached = HelpSessionFactory(structure=structure, resident=resident)
    services.case_attach_session(case=case, session=attached, by=mediator)
    HelpSessionFactory(structure=structure)  # another resident
    HelpSessionFactory(structure=StructureFactory(), resident=resident)  # another structure
    offered = attachable_session_list(mediator, case)
    assert offered == [new, workshop, old]
    assert set(attachable_sessions(mediator, case)) == {new, workshop, old}


# --- Editing --------------------------------------------------------------------------------


def test_an_edit_is_saved_with_its_author_and_a_no_op_adds_no_history(case, mediator, structure):
    colleague = member(structure, Role.MEDIATOR, first_name="Yann", last_name="Riou")
    services.case_update(
        case=case,
        by=colleague,
        title="Passeport",
        procedure_area=case.procedure_area,
        mediator=colleague,
        next_action_on=None,
    )
    case.refresh_from_db()
    assert (case.title, case.mediator) == ("Passeport", colleague)
    assert case.history.first().history_user == colleague
    rows = case.history.count()
    services.case_update(
        case=case,
        by=colleague,
        title="Passeport",
        procedure_area=case.procedure_area,
        mediator=colleague,
        next_action_on=None,
    )
    assert case.history.count() == rows


def test_an_old_next_action_may_be_kept_but_not_set(case, mediator):
    past = timezone.localdate() - timedelta(days=3)
    Case.objects.filter(pk=case.pk).update(next_action_on=past)
    case.refresh_from_db()
    fields = {"procedure_area": case.procedure_area, "mediator": mediator, "by": mediator}
    services.case_update(case=case, title="Nouveau titre", next_action_on=past, **fields)
    with pytest.raises(ValidationError):
        services.case_update(
            case=case, title="Nouveau titre", next_action_on=past - timedelta(days=1), **fields
        )


# --- Timeline -------------------------------------------------------------------------------


def test_timeline_shows_sessions_status_changes_and_edits_newest_first(case, mediator, structure):
    session = HelpSessionFactory(
        structure=structure,
        resident=case.resident,
        mediator=mediator,
        date=timezone.localdate() - timedelta(days=10),
        duration_minutes=45,
        themes=["demarches_administratives"],
        procedures=["papiers_citoyennete"],
        outcome="to_follow_up",
    )
    services.case_attach_session(case=case, session=session, by=mediator)
    services.case_transition(
        case=case,
        to=S.WAITING_ADMINISTRATION,
        comment="Dossier déposé à l'ANTS",
        by=mediator,
    )
    colleague = member(structure, Role.MEDIATOR, first_name="Yann", last_name="Riou")
    case.refresh_from_db()
    services.case_update(
        case=case,
        by=mediator,
        title="Renouvellement passeport",
        procedure_area=case.procedure_area,
        mediator=colleague,
        next_action_on=None,
    )
    timeline = case_timeline(mediator, case, tz=timezone.get_current_timezone())
    assert [e.kind for e in timeline] == ["edit", "status", "opened", "session"]
    edit, status, opened, logged = timeline
    assert ("Intitulé", "Renouvellement carte d'identité", "Renouvellement passeport") in (
        edit.changes
    )
    assert ("Référent·e", mediator.get_full_name(), "Yann Riou") in edit.changes
    assert edit.by == mediator.get_full_name()
    assert status.event.comment == "Dossier déposé à l'ANTS"
    assert logged.session.theme_labels == ["Démarches administratives"]
    assert logged.session.procedure_labels == [ProcedureArea.PAPIERS_CITOYENNETE.label]


def test_a_status_change_is_not_repeated_as_an_edit(case, mediator):
    services.case_transition(
        case=case,
        to=S.IN_PROGRESS,
        comment="On avance",
        by=mediator,
        next_action_on=timezone.localdate() + timedelta(days=3),
    )
    kinds = [e.kind for e in case_timeline(mediator, case, tz=timezone.get_current_timezone())]
    assert kinds == ["status", "opened"]


def test_case_page_shows_the_timeline(mediator_client, case, mediator):
    services.case_transition(case=case, to=S.IN_PROGRESS, comment="Pièces réunies", by=mediator)
    session = HelpSessionFactory(
        structure=case.structure, resident=case.resident, mediator=mediator, duration_minutes=90
    )
    services.case_attach_session(case=case, session=session, by=mediator)
    body = mediator_client.get(detail_url(case)).content.decode()
    assert "Historique" in body
    assert body.index("Pièces réunies") < body.index("Pré-demande ANTS à faire.")
    assert "90 min" in body and "Naviguer sur internet" in body
    # Only the allowed targets are offered.
    assert 'value="in_progress"' not in body.split('id="changer-statut"')[1].split("</form>")[0]


def test_case_page_runs_a_bounded_number_of_queries(
    mediator_client, case, mediator, structure, django_assert_max_num_queries
):
    statuses = [S.IN_PROGRESS, S.WAITING_RESIDENT]
    CaseEvent.objects.bulk_create(
        CaseEvent(
            case=case,
            by=mediator,
            from_status=statuses[n % 2],
            to_status=statuses[(n + 1) % 2],
            comment=f"Étape {n}",
        )
        for n in range(300)
    )
    for n in range(300):
        HelpSessionFactory(
            structure=structure,
            resident=case.resident,
            mediator=mediator,
            case=case,
            date=timezone.localdate() - timedelta(days=n),
        )
    for _ in range(30):
        HelpSessionFactory(structure=structure, resident=case.resident, mediator=mediator)
    WorkshopSessionFactory(structure=structure, mediator=mediator, participants=[case.resident])
    for n in range(50):
        case.title = f"Titre {n}"
        case.mediator = mediator if n % 2 else member(structure)
        case._history_user = mediator
        case.save()
    # Session, user, roles, structure, case, places; the resident's sessions, workshops and
    # their tags; events, the case's sessions and their tags, history rows, the names the
    # edits mention; navigation; the access-log entry.
    with django_assert_max_num_queries(19):
        response = mediator_client.get(detail_url(case))
    body = response.content.decode()
    assert body.count('class="timeline-item') == 300 + 300 + 50 + 1
    # The most recent unattached sessions are offered, not all of them.
    assert body.count("<option value=") == ATTACH_CHOICES + 1


# --- The case page: forms -------------------------------------------------------------------


def test_a_mediator_changes_the_status_from_the_case_page(mediator_client, case):
    day = timezone.localdate() + timedelta(days=5)
    response = mediator_client.post(
        transition_url(case),
        {
            "to": S.WAITING_RESIDENT,
            "comment": "Attend son avis d'imposition",
            "next_action_on": day,
        },
    )
    assert response.status_code == 302 and response["Location"] == detail_url(case)
    case.refresh_from_db()
    assert case.status == S.WAITING_RESIDENT and case.next_action_on == day


def test_the_case_page_says_why_a_status_change_failed(mediator_client, case):
    response = mediator_client.post(transition_url(case), {"to": "", "comment": "Appelé"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "Choisissez le nouveau statut." in body and "Appelé</textarea>" in body
    response = mediator_client.post(transition_url(case), {"to": S.IN_PROGRESS, "comment": ""})
    assert "Le commentaire est obligatoire" in response.content.decode()
    response = mediator_client.post(transition_url(case), {"to": S.OPEN, "comment": "Essai"})
    assert "depuis le statut « Ouvert »" in response.content.decode()
    case.refresh_from_db()
    assert case.status == S.OPEN and case.events.count() == 1


def test_a_tampered_session_is_a_form_error(mediator_client, case):
    other = HelpSessionFactory(structure=case.structure)
    for value in (other.pk, "abc", 10**9):
        response = mediator_client.post(attach_url(case), {"session": value})
        assert response.status_code == 200
        assert "ne peut pas être rattaché" in response.content.decode()
    other.refresh_from_db()
    assert other.case is None


def test_a_session_is_attached_from_the_case_page(mediator_client, case, mediator):
    session = HelpSessionFactory(structure=case.structure, resident=case.resident)
    response = mediator_client.post(attach_url(case), {"session": session.pk})
    assert response.status_code == 302
    session.refresh_from_db()
    assert session.case == case


def test_a_case_is_opened_from_the_resident(mediator_client, structure, resident, mediator):
    url = reverse("case_create", kwargs={"structure": structure.slug}) + f"?usager={resident.pk}"
    page = mediator_client.get(url)
    assert page.status_code == 200 and str(resident) in page.content.decode()
    response = mediator_client.post(
        url, {"title": "Dossier retraite", "procedure_area": ProcedureArea.RETRAITE, "mediator": ""}
    )
    case = Case.objects.get()
    assert response.status_code == 302 and response["Location"] == detail_url(case)
    assert case.resident == resident and case.structure == structure


def test_opening_a_case_with_errors_keeps_what_was_typed(mediator_client, structure, resident):
    url = reverse("case_create", kwargs={"structure": structure.slug}) + f"?usager={resident.pk}"
    response = mediator_client.post(url, {"title": "Dossier CAF", "procedure_area": ""})
    body = response.content.decode()
    assert response.status_code == 200 and "Choisissez le domaine" in body
    assert 'value="Dossier CAF"' in body
    assert not Case.objects.exists()


def test_the_case_form_refuses_a_resident_of_another_structure(mediator_client, structure):
    stranger = ResidentFactory(structure=StructureFactory())
    url = reverse("case_create", kwargs={"structure": structure.slug})
    for value in (stranger.pk, "abc"):
        assert mediator_client.get(f"{url}?usager={value}").status_code == 404


def test_the_resident_picker_finds_by_name_without_accents(mediator_client, structure):
    ResidentFactory(structure=structure, first_name="Éric", last_name="Dupont")
    url = reverse("case_create", kwargs={"structure": structure.slug})
    body = search_get(mediator_client, url, "eric").content.decode()
    assert "Éric Dupont" in body and "?usager=" in body


def test_a_case_is_edited_from_its_page(mediator_client, case):
    url = reverse("case_edit", kwargs={"structure": case.structure.slug, "case": case.pk})
    assert mediator_client.get(url).status_code == 200
    response = mediator_client.post(
        url,
        {
            "title": "Passeport",
            "procedure_area": ProcedureArea.PAPIERS_CITOYENNETE,
            "mediator": case.mediator_id,
        },
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.title == "Passeport"


# --- Scoping --------------------------------------------------------------------------------


def test_another_structures_case_is_not_found(mediator_client, structure):
    other = CaseFactory(structure=StructureFactory())
    for name in ("case_detail", "case_edit"):
        url = reverse(name, kwargs={"structure": structure.slug, "case": other.pk})
        assert mediator_client.get(url).status_code == 404
    for name in ("case_transition", "case_attach"):
        url = reverse(name, kwargs={"structure": structure.slug, "case": other.pk})
        assert mediator_client.post(url, {"to": S.IN_PROGRESS, "comment": "x"}).status_code == 404
    other.refresh_from_db()
    assert other.status == S.OPEN


def test_the_case_page_is_for_desk_roles(client, case):
    client.force_login(member(case.structure, Role.COORDINATOR))
    assert client.get(detail_url(case)).status_code == 403


# --- Mes suivis -----------------------------------------------------------------------------


@pytest.fixture
def followed(structure, mediator):
    """One case per situation, all the mediator's unless said otherwise."""
    today = timezone.localdate()
    now = timezone.now()
    colleague = member(structure, Role.MEDIATOR, first_name="Yann", last_name="Riou")

    def make(title, **fields):
        fields.setdefault("mediator", mediator)
        resident = ResidentFactory(structure=structure, first_name="Éric", last_name=title)
        return CaseFactory(structure=structure, resident=resident, title=title, **fields)

    return {
        "late": make("Late", next_action_on=today - timedelta(days=3), status=S.IN_PROGRESS),
        "today": make("Today", next_action_on=today, procedure_area=ProcedureArea.RETRAITE),
        "later": make("Later", next_action_on=today + timedelta(days=3)),
        "waiting": make(
            "Waiting",
            status=S.WAITING_ADMINISTRATION,
            status_changed_at=now - timedelta(days=20),
        ),
        "waiting_recent": make(
            "Recent", status=S.WAITING_RESIDENT, status_changed_at=now - timedelta(days=5)
        ),
        "closed": make(
            "Closed",
            status=S.RESOLVED,
            closed_at=now,
            next_action_on=today - timedelta(days=1),
        ),
        "colleague": make(
            "Colleague", mediator=colleague, next_action_on=today - timedelta(days=1)
        ),
        "colleague_user": colleague,
    }


def titles(response):
    return [case.title for case in response.context["page"].object_list]


def test_waiting_too_long_is_a_wait_of_more_than_two_weeks(followed):
    assert set(waiting_too_long(Case.objects.all())) == {followed["waiting"]}


def test_needing_followup_is_a_next_action_come_or_a_long_wait(followed):
    assert set(needing_followup(Case.objects.all())) == {
        followed["late"],
        followed["today"],
        followed["waiting"],
        followed["colleague"],
    }


def test_followups_show_the_mediators_own_cases_by_default(mediator_client, structure, followed):
    response = mediator_client.get(followups_url(structure))
    assert response.status_code == 200
    # Most urgent first: the oldest next-action date, then the longest wait.
    assert titles(response) == ["Late", "Today", "Waiting"]
    body = response.content.decode()
    assert "Éric Late" in body and "en retard de 3 j" in body and "attente longue" in body


def test_followups_filters(mediator_client, structure, followed):
    colleague = followed["colleague_user"]
    assert titles(mediator_client.get(followups_url(structure, mediator="tous"))) == [
        "Late",
        "Colleague",
        "Today",
        "Waiting",
    ]
    assert titles(mediator_client.get(followups_url(structure, mediator=colleague.pk))) == [
        "Colleague"
    ]
    assert titles(mediator_client.get(followups_url(structure, status=S.IN_PROGRESS))) == ["Late"]
    assert titles(
        mediator_client.get(followups_url(structure, procedure_area=ProcedureArea.RETRAITE))
    ) == ["Today"]
    assert titles(mediator_client.get(followups_url(structure, show="ouverts"))) == [
        "Late",
        "Today",
        "Later",
        "Waiting",
        "Recent",
    ]


def test_followups_ignore_invalid_filters(mediator_client, structure, followed):
    response = mediator_client.get(
        followups_url(structure, mediator="9999", status="perdu", page="x")
    )
    assert response.status_code == 200
    assert titles(response) == ["Late", "Today", "Waiting"]
    assert "ne sont pas valables" in response.content.decode()


def test_a_coordinator_sees_the_structure_with_initials_only(client, structure, followed):
    client.force_login(member(structure, Role.COORDINATOR))
    response = client.get(followups_url(structure))
    assert response.status_code == 200
    assert len(titles(response)) == 4
    body = response.content.decode()
    assert "É. L." in body
    assert "Éric Late" not in body and "Late</span>" in body
    # No link to the case page, which is for desk roles.
    assert f"/dossiers/{followed['late'].pk}/" not in body


def test_a_network_coordinator_sees_the_followups_too(client, followed, structure):
    network = NetworkFactory()
    structure.networks.add(network)
    coordinator = member(StructureFactory(), Role.MEDIATOR)
    NetworkMembershipFactory(user=coordinator, network=network)
    client.force_login(coordinator)
    response = client.get(followups_url(structure))
    assert response.status_code == 200 and len(titles(response)) == 4


def test_followups_are_scoped(mediator_client, followed):
    other = StructureFactory()
    CaseFactory(structure=other, next_action_on=timezone.localdate())
    assert mediator_client.get(followups_url(other)).status_code == 404
    cases = followup_cases(
        followed["late"].mediator, other, FollowupFilters(), today=timezone.localdate()
    )
    assert not cases.exists()


def test_followups_page_and_run_a_bounded_number_of_queries(
    mediator_client, structure, mediator, django_assert_max_num_queries
):
    today = timezone.localdate()
    for n in range(60):
        CaseFactory(
            structure=structure,
            resident=ResidentFactory(structure=structure),
            mediator=mediator if n % 2 else member(structure),
            next_action_on=today - timedelta(days=n),
        )
    with django_assert_max_num_queries(12):
        response = mediator_client.get(followups_url(structure, mediator="tous"))
    assert len(titles(response)) == 25
    assert response.context["page"].paginator.count == 60
    third = mediator_client.get(followups_url(structure, mediator="tous", page=3))
    assert len(titles(third)) == 10


def test_followups_are_for_mediators_admins_and_coordinators(client, structure):
    outsider = member(StructureFactory())
    client.force_login(outsider)
    assert client.get(followups_url(structure)).status_code == 404


def test_initials():
    assert initials("Éric", "Le Goff") == "É. L."
    assert initials("", "Dupont") == "D."
    assert initials("", "") == "—"
