"""The personal data of cases, declared to the core's registry (`mediation/privacy.py`): every
field classified, how sessions, cases and their events reach the resident, what counts as a
recent contact, and what the right-of-access export shows of them. Imported by
`CasesConfig.ready()`."""

from django.utils import timezone

from cases.choices import Equipment, ProcedureArea, SessionKind, TagDimension, Theme
from cases.models import Case, CaseEvent, HelpSession, ParticipantCount, SessionTag
from mediation.privacy import (
    E,
    Export,
    K,
    N,
    erased,
    register_access_log_subject,
    register_personal_data,
)

# A session's multi-valued fields (SessionTag rows), shown with each session of the export.
TAG_SECTIONS = {
    TagDimension.THEME: ("themes", Theme),
    TagDimension.PROCEDURE: ("procedures", ProcedureArea),
    TagDimension.EQUIPMENT: ("equipment", Equipment),
}


def _session_tags(sessions) -> dict[int, dict[str, list[dict[str, str]]]]:
    """{session id: {"themes": [{code, label}], "procedures": [...], "equipment": [...]}}, in
    one query for all the sessions."""
    found = {
        session.pk: {name: [] for name, _choices in TAG_SECTIONS.values()} for session in sessions
    }
    tags = SessionTag.objects.filter(session_id__in=list(found)).order_by("session_id", "pk")
    for tag in tags.only("session_id", "dimension", "code"):
        name, choices = TAG_SECTIONS[tag.dimension]
        label = dict(choices.choices).get(tag.code, tag.code)
        found[tag.session_id][name].append({"code": tag.code, "label": str(label)})
    return found


def _group_free_text(session) -> tuple[str, ...]:
    # A workshop's free text is about the whole group, other participants included: the export
    # of one participant leaves it out.
    return ("notes", "procedure_detail") if session.kind == SessionKind.COLLECTIVE else ()


def _mark_changed(sessions) -> None:
    # Their free text is about to be erased: the read API lists them again as changed, so a
    # national tool that copied a precision replaces it.
    sessions.update(updated_at=timezone.now())


# The statistics of the activity log are kept (linked to the anonymised record); free text
# is erased. A workshop's notes are erased when any named participant is anonymised: they
# may name them.
register_personal_data(
    HelpSession,
    fields={
        "id": N,
        "structure": N,
        "place": N,
        "mediator": K,
        "kind": K,
        "date": K,
        "report_date": K,
        "duration_minutes": K,
        "place_type": K,
        "other_commune_insee": K,
        "resident": K,
        "people_count": N,
        "appointment": K,
        "case": K,
        "procedure_detail": E,
        "autonomy": K,
        "done_on_behalf": K,
        "outcome": K,
        "redirected_to": K,
        "title": N,
        "level": N,
        "notes": E,
        "created_by": K,
        "created_at": K,
        "updated_at": K,
        "uuid": N,
        "participants": K,
        "report_key": N,
    },
    links=("resident", "participants"),
    contact={"resident": ("date",), "participants": ("date",)},
    export=Export(
        "sessions",
        "Vos accompagnements",
        left_out=_group_free_text,
        hidden_in_pdf=("uuid", "report_key", "people_count"),
        extra=_session_tags,
        labels={
            "uuid": "identifiant",
            "appointment": "rendez-vous",
            "created_by": "saisi par",
            "created_at": "saisi le",
            "themes": "thèmes",
            "procedures": "démarches",
            "equipment": "matériel",
        },
    ),
    before_erase=_mark_changed,
)
register_personal_data(
    Case,
    fields={
        "id": N,
        "structure": N,
        "resident": K,
        "procedure_area": K,
        "title": erased("—", "free text: may name the person"),
        "status": K,
        "next_action_on": K,
        "mediator": K,
        "opened_at": K,
        "status_changed_at": K,
        "closed_at": K,
    },
    links=("resident",),
    contact={"resident": ("opened_at", "status_changed_at")},
    export=Export("cases", "Vos dossiers"),
)
register_personal_data(
    CaseEvent,
    fields={
        "id": N,
        "case": K,
        "at": K,
        "by": K,
        "from_status": K,
        "to_status": K,
        "kind": K,
        "comment": E,
        "next_action_on": K,
        # An identifier at an administration ("n° dossier CAF 1234567"): kept as long as the
        # case's other free text, erased with it when the resident is anonymised (erasure,
        # objection, or 2 years without contact), shown in the right-of-access export.
        "document_reference": E,
    },
    links=("case__resident",),
    contact={"case__resident": ("at",)},
    export=Export(
        "case_events",
        "Étapes de vos dossiers",
        labels={
            "case": "dossier",
            "next_action_on": "prochaine action le",
            "at": "le",
            "by": "par",
            "from_status": "statut précédent",
            "to_status": "nouveau statut",
        },
    ),
)
register_personal_data(
    SessionTag,
    fields={"id": N, "session": K, "dimension": K, "code": K},
    links=("session__resident",),
)
register_personal_data(
    ParticipantCount,
    fields={"id": N, "session": N, "dimension": N, "code": N, "count": N},
)

# Access-log entries about one of their cases are in the resident's export.
register_access_log_subject(
    "case", "dossier", lambda resident: Case._base_manager.filter(resident=resident).values("pk")
)
