"""Writes of cases (dossiers): open, change status, add a note, attach a session, edit.

Every status change goes through `case_transition`, which checks `CASE_TRANSITIONS`, records a
`CaseEvent` with its comment and saves the case with its author in one transaction. A note
(`case_add_note`) is a `CaseEvent` of its own kind that never touches the status."""

from __future__ import annotations

from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.choices import (
    CASE_TRANSITIONS,
    CLOSED_CASE_STATUSES,
    NOTE_CHANGE_REASON,
    CaseEventKind,
    CaseStatus,
    ProcedureArea,
)
from cases.models import Case, CaseEvent, HelpSession
from mediation.history import save_with_author
from mediation.models import Membership, Resident, Structure, User
from mediation.permissions import roles_for


def _status_label(status: str) -> str:
    try:
        return str(CaseStatus(status).label)
    except ValueError:
        return status


def _check_referent(structure: Structure, mediator: User | None) -> dict[str, str]:
    if mediator is None:
        return {}
    if not Membership.objects.filter(
        structure=structure,
        user=mediator,
        role__in=roles_for("follow_case"),
        user__is_active=True,
    ).exists():
        return {
            "mediator": _("%(name)s ne fait pas partie de l'équipe de %(structure)s.")
            % {"name": mediator.get_full_name() or mediator.email, "structure": structure.name}
        }
    return {}


def _check_next_action(next_action_on: date | None, *, unchanged_from: date | None = None):
    if next_action_on is None or next_action_on == unchanged_from:
        return {}
    if next_action_on < timezone.localdate():
        return {"next_action_on": _("La prochaine action ne peut pas être dans le passé.")}
    return {}


def _check_title(title: str) -> dict[str, str]:
    if not (title or "").strip():
        return {
            "title": _("Donnez un intitulé au dossier (ex. : Renouvellement carte d'identité).")
        }
    return {}


def _check_area(procedure_area: str) -> dict[str, str]:
    if procedure_area not in ProcedureArea.values:
        return {"procedure_area": _("Choisissez le domaine de la démarche dans la liste.")}
    return {}


@transaction.atomic
def case_open(
    *,
    resident: Resident,
    procedure_area: str,
    title: str,
    by: User | None,
    mediator: User | None = None,
    next_action_on: date | None = None,
    comment: str = "",
    structure: Structure | None = None,
    now: datetime | None = None,
) -> Case:
    """Open a case for a followed resident, with its first event ("" → open).

    The case belongs to `structure` (by default the resident's own). A resident of another
    structure sharing a network with it may be followed only if they agreed to be shared."""
    structure = structure or resident.structure
    now = now or timezone.now()
    errors: dict[str, str] = {}
    if resident.is_anonymous:
        errors["resident"] = _("Un dossier se suit pour un usager nommé, pas pour un anonyme.")
    elif resident.structure_id != structure.pk and not (
        resident.shared_with_network and structure.shares_a_network_with(resident.structure_id)
    ):
        errors["resident"] = _("Cet usager n'est pas suivi par %(structure)s.") % {
            "structure": structure.name
        }
    errors |= _check_title(title)
    errors |= _check_area(procedure_area)
    errors |= _check_referent(structure, mediator)
    errors |= _check_next_action(next_action_on)
    if errors:
        raise ValidationError(errors)
    case = Case(
        structure=structure,
        resident=resident,
        procedure_area=procedure_area,
        title=title.strip(),
        mediator=mediator,
        next_action_on=next_action_on,
        status=CaseStatus.OPEN,
        opened_at=now,
        status_changed_at=now,
    )
    save_with_author(case, by)
    CaseEvent.objects.create(
        case=case,
        at=now,
        by=by,
        from_status="",
        to_status=CaseStatus.OPEN,
        comment=comment.strip() or _("Dossier ouvert."),
        next_action_on=next_action_on,
    )
    return case


def transition_refusal(*, case: Case, to: str) -> str | None:
    """Why `case` may not move to `to` (a French sentence naming the current status), or
    None. Shared by the service and the case page, which offers only the allowed targets."""
    current = _status_label(case.status)
    if to not in CaseStatus.values:
        return _("Ce statut n'existe pas.")
    if to == case.status:
        return _("Le dossier est déjà « %(status)s ».") % {"status": current}
    allowed = CASE_TRANSITIONS.get(case.status, set())
    if to not in allowed:
        if case.status in CLOSED_CASE_STATUSES:
            return _(
                "Le dossier est « %(current)s » : il peut seulement être rouvert (« %(reopen)s »)."
            ) % {"current": current, "reopen": CaseStatus.IN_PROGRESS.label}
        return _("Un dossier « %(current)s » ne peut pas passer à « %(target)s ».") % {
            "current": current,
            "target": _status_label(to),
        }
    return None


def allowed_targets(case: Case) -> list[tuple[str, str]]:
    """(code, label) of the statuses `case` may move to, in the reference order."""
    allowed = CASE_TRANSITIONS.get(case.status, set())
    return [(code, label) for code, label in CaseStatus.choices if code in allowed]


@transaction.atomic
def case_transition(
    *,
    case: Case,
    to: str,
    comment: str,
    by: User | None,
    next_action_on: date | None = None,
    now: datetime | None = None,
) -> Case:
    """Move `case` to the status `to`, with a comment (required) and the next-action date.

    The one function for status changes: checked against `CASE_TRANSITIONS`, recorded as a
    CaseEvent (who, when, from, to), the case saved with its author. `next_action_on` replaces
    the case's date (None clears it); closing a case clears it. Refusals are ValidationErrors at
    the field: `to`, `comment`, `next_action_on`. A comment at each change is a rule of the
    domain (DOMAIN.md, "Cases"); the page still changes the status in one step (one form)."""
    now = now or timezone.now()
    case = Case.objects.select_for_update().get(pk=case.pk)
    errors: dict[str, str] = {}
    refusal = transition_refusal(case=case, to=to)
    if refusal is not None:
        errors["to"] = refusal
    comment = (comment or "").strip()
    if not comment:
        errors["comment"] = _(
            "Le commentaire est obligatoire : dites en quelques mots ce qui a changé."
        )
    closing = to in CLOSED_CASE_STATUSES
    if not closing:
        errors |= _check_next_action(next_action_on, unchanged_from=case.next_action_on)
    if errors:
        raise ValidationError(errors)
    previous = case.status
    case.status = to
    case.status_changed_at = now
    case.closed_at = now if closing else None
    case.next_action_on = None if closing else next_action_on
    save_with_author(case, by)
    CaseEvent.objects.create(
        case=case,
        at=now,
        by=by,
        from_status=previous,
        to_status=to,
        comment=comment,
        next_action_on=case.next_action_on,
    )
    return case


#: The longest document reference kept (CaseEvent.document_reference).
DOCUMENT_REFERENCE_MAX = 100


@transaction.atomic
def case_add_note(
    *,
    case: Case,
    note: str,
    by: User | None,
    next_action_on: date | None = None,
    document_reference: str = "",
    now: datetime | None = None,
) -> CaseEvent:
    """Write on a case without changing its status: a note, a new next-action date, a
    document reference ("n° dossier CAF 1234567"), any of them.

    Recorded as a CaseEvent of kind "note" with its author; a new date replaces the case's
    (the case saved with its author: its history row). `next_action_on=None` keeps the case's
    date (clearing it is an edit of the case, `case_update`). Refusals are ValidationErrors at
    the field: `note` when there is nothing to record, `next_action_on` for a day already past
    or a closed case, `document_reference` when too long."""
    now = now or timezone.now()
    case = Case.objects.select_for_update().get(pk=case.pk)
    note = (note or "").strip()
    document_reference = " ".join((document_reference or "").split())
    errors: dict[str, str] = {}
    if next_action_on is not None and next_action_on != case.next_action_on:
        if case.status in CLOSED_CASE_STATUSES:
            errors["next_action_on"] = _(
                "Le dossier est « %(status)s » : rouvrez-le pour prévoir une action."
            ) % {"status": _status_label(case.status)}
        else:
            errors |= _check_next_action(next_action_on)
    elif next_action_on is not None:
        next_action_on = None  # the date it already has: nothing to change
    if len(document_reference) > DOCUMENT_REFERENCE_MAX:
        errors["document_reference"] = _(
            "La référence est trop longue (%(max)s caractères au plus)."
        ) % {"max": DOCUMENT_REFERENCE_MAX}
    if not errors and not (note or document_reference or next_action_on):
        errors["note"] = _(
            "Écrivez une note, une référence de document ou une nouvelle date de prochaine action."
        )
    if errors:
        raise ValidationError(errors)
    if next_action_on is not None:
        case.next_action_on = next_action_on
        # The timeline shows the date on the note, not again as an edit.
        save_with_author(case, by, reason=NOTE_CHANGE_REASON)
    return CaseEvent.objects.create(
        case=case,
        kind=CaseEventKind.NOTE,
        at=now,
        by=by,
        comment=note,
        next_action_on=next_action_on,
        document_reference=document_reference,
    )


def _takes_part(session: HelpSession, resident_id: int) -> bool:
    if session.resident_id == resident_id:
        return True
    return session.participants.filter(pk=resident_id).exists()


@transaction.atomic
def case_attach_session(*, case: Case, session: HelpSession, by: User | None) -> HelpSession:
    """Attach a session to a case: the same structure, and the case's resident was the one
    helped (or took part in the workshop). A session belongs to one case at most."""
    session = HelpSession.objects.select_for_update().get(pk=session.pk)
    if session.structure_id != case.structure_id:
        raise ValidationError(
            {"session": _("Cet accompagnement a été saisi par une autre structure.")}
        )
    if not _takes_part(session, case.resident_id):
        raise ValidationError(
            {"session": _("Cet accompagnement concerne un autre usager que celui du dossier.")}
        )
    if session.case_id == case.pk:
        raise ValidationError({"session": _("Cet accompagnement est déjà rattaché à ce dossier.")})
    if session.case_id is not None:
        raise ValidationError(
            {
                "session": _("Cet accompagnement est déjà rattaché au dossier « %(title)s ».")
                % {"title": session.case.title}
            }
        )
    session.case = case
    if by is not None:
        session._history_user = by
    session.save(update_fields=["case"])
    return session


@transaction.atomic
def case_update(
    *,
    case: Case,
    by: User | None,
    title: str,
    procedure_area: str,
    mediator: User | None,
    next_action_on: date | None,
) -> Case:
    """Edit what is not a status: title, procedure area, referent, next-action date. The
    history row (author, before, after) is the trace shown on the case's timeline."""
    case = Case.objects.select_for_update().select_related("structure").get(pk=case.pk)
    errors = _check_title(title) | _check_area(procedure_area)
    if mediator is not None and mediator.pk != case.mediator_id:
        errors |= _check_referent(case.structure, mediator)
    errors |= _check_next_action(next_action_on, unchanged_from=case.next_action_on)
    if errors:
        raise ValidationError(errors)
    new = {
        "title": title.strip(),
        "procedure_area": procedure_area,
        "mediator_id": mediator.pk if mediator else None,
        "next_action_on": next_action_on,
    }
    if all(getattr(case, field) == value for field, value in new.items()):
        return case  # no empty line in the history
    for field, value in new.items():
        setattr(case, field, value)
    return save_with_author(case, by)
