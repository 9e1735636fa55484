"""Writes of the activity log: logging a help session (individual or a workshop), from an
appointment or for a walk-in, editing and deleting it.

Every rule of a session lives here (`session_validate`), so a form, a command or an import get
the same French messages, keyed by the field they belong to:

- duration from 1 minute to 8 hours; the date not in the future (in the place's time zone),
  and, for a session being logged (not an edit), not more than a year back (`MAX_DAYS_BACK`);
- at least one theme; procedure areas only with the "demarches_administratives" theme;
- `redirected_to` given if and only if the outcome is "redirected";
- place type "other" needs a commune (INSEE code), "place" needs one of the structure's places;
- an individual session helps one resident (named, or an anonymous profile); a workshop has a
  title and at least one participant.

How many people a session counts (`people_count`, the "accompagnements" of the reports):

- individual session: 1;
- workshop: the named participants, plus the anonymous participants. The anonymous
  participants are counted in up to three ways (by age band, by status, by gender); each way
  is a split of the *same* people, so the totals of the ways that are filled in must be equal,
  and that common total is added once. A way left empty (every count 0 or blank) is ignored:
  a workshop may give only age bands. Named participants are never part of the counts.

The day a session counts in reports (`report_date`, `session_report_date`): its date, unless
the month of that date is already closed when the session is recorded (REPORTS_GRACE_DAYS days
after the month's end, the rule of `reports.periods.is_closed`): then the day it is recorded.
A closed period's published figures never change, and a late entry is counted in the month it
was entered. `session_update` applies the same rule when the date changes; an edit of other
fields keeps the report_date.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date as date_type
from datetime import datetime, time, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from bookings.choices import AppointmentStatus, MotifMode
from bookings.models import Appointment
from bookings.services.booking import appointment_set_status, status_refusal
from cases.choices import (
    MAX_DURATION_MINUTES,
    Autonomy,
    CountDimension,
    Equipment,
    Outcome,
    PlaceType,
    ProcedureArea,
    RedirectedTo,
    SessionKind,
    TagDimension,
    Theme,
    WorkshopLevel,
)
from cases.models import Case, HelpSession, ParticipantCount, SessionTag
from mediation.choices import AgeBand, Gender, ResidentStatus
from mediation.models import Place, Resident, Structure, User, fold_name, insee_validator
from mediation.permissions import user_can
from mediation.selectors import own_residents
from mediation.services import resident_create

#: The codes of each anonymous count dimension, in the order forms show them.
COUNT_CODES: dict[str, list[str]] = {
    CountDimension.AGE_BAND: list(AgeBand.values),
    CountDimension.STATUS: list(ResidentStatus.values),
    CountDimension.GENDER: list(Gender.values),
}
MAX_COUNT = 500
#: How far back a new session may be dated (an older one is almost always a typing mistake,
#: and its period's reports are long published).
MAX_DAYS_BACK = 365
#: How each motif mode is logged.
PLACE_TYPE_OF_MODE = {
    MotifMode.ON_SITE: PlaceType.PLACE,
    MotifMode.PHONE: PlaceType.REMOTE,
    MotifMode.VIDEO: PlaceType.REMOTE,
    MotifMode.HOME: PlaceType.HOME,
}

#: The fields `session_update` may change, as `session_log` takes them.
EDITABLE_FIELDS = (
    "mediator",
    "date",
    "duration_minutes",
    "place",
    "place_type",
    "other_commune_insee",
    "themes",
    "procedures",
    "equipment",
    "procedure_detail",
    "autonomy",
    "done_on_behalf",
    "outcome",
    "redirected_to",
    "title",
    "level",
    "notes",
    "case",
    "participants",
    "counts",
    "anonymous",
)


#: Free fields `session_validate` has no rule for.
UNCHECKED_FIELDS = ("procedure_detail", "done_on_behalf", "notes")


@dataclass(frozen=True)
class AnonymousProfile:
    """All that is kept of a resident helped anonymously."""

    age_band: str = AgeBand.NOT_GIVEN
    status: str = ResidentStatus.NOT_GIVEN
    gender: str = Gender.NOT_GIVEN
    commune_insee: str = ""


# --- Rules ----------------------------------------------------------------------------------


def local_today(place: Place | None, now: datetime | None = None) -> date_type:
    """Today where the session happened: the place's time zone, else the site's."""
    tz = place.tzinfo if place is not None else zoneinfo.ZoneInfo(settings.TIME_ZONE)
    return timezone.localdate(now or timezone.now(), timezone=tz)


def session_report_date(*, day: date_type, now: datetime | None = None) -> date_type:
    """The day a session of `day` recorded at `now` counts in reports: `day`, or the day it is
    recorded (reports' calendar, settings.TIME_ZONE) when the month of `day` is already closed.

    The closing rule is `reports.periods.is_closed` (reports sit above cases: it is repeated
    here, on the setting they share)."""
    today = timezone.localdate(now or timezone.now())
    following = date_type(day.year + day.month // 12, day.month % 12 + 1, 1)
    closing = following + timedelta(days=int(getattr(settings, "REPORTS_GRACE_DAYS", 5)))
    return today if closing <= today else day


def anonymous_total(counts: Mapping[str, Mapping[str, int]] | None) -> tuple[int, dict]:
    """(the number of anonymous participants, {dimension: error}) — see the module docstring.

    The first dimension filled in (age band, then status, then gender) sets the total; every
    other filled dimension whose total differs gets an error."""
    errors: dict[str, str] = {}
    totals = {
        dimension: sum(int(n or 0) for n in (counts or {}).get(dimension, {}).values())
        for dimension in COUNT_CODES
    }
    filled = [(d, t) for d, t in totals.items() if t]
    if not filled:
        return 0, errors
    reference, total = filled[0]
    labels = dict(CountDimension.choices)
    for dimension, other in filled[1:]:
        if other != total:
            errors[f"counts_{dimension}"] = _(
                "Le total par %(this)s (%(other)s) diffère du total par %(first)s (%(total)s) : "
                "ce sont les mêmes participants, les totaux doivent être égaux. Corrigez-les, "
                "ou laissez cette répartition vide."
            ) % {
                "this": str(labels[dimension]).lower(),
                "other": other,
                "first": str(labels[reference]).lower(),
                "total": total,
            }
    return total, errors


def _add(errors: dict[str, list[str]], field: str, message: str) -> None:
    errors.setdefault(field, []).append(message)


def session_validate(
    *,
    structure: Structure,
    kind: str,
    mediator: User | None,
    date: date_type | None,
    duration_minutes: int | None,
    place: Place | None,
    place_type: str,
    other_commune_insee: str,
    resident: Resident | None,
    anonymous: AnonymousProfile | None,
    participants: Iterable[Resident],
    counts: Mapping[str, Mapping[str, int]] | None,
    themes: Iterable[str],
    procedures: Iterable[str],
    equipment: Iterable[str],
    autonomy: str,
    outcome: str,
    redirected_to: str,
    title: str,
    level: str,
    case: Case | None,
    now: datetime | None = None,
    new: bool = False,
) -> int:
    """Check a session before it is written; return its `people_count`. `new`: a session
    being logged, which may not be dated more than `MAX_DAYS_BACK` days back (an edit may keep
    an older date).

    Raises one ValidationError holding every problem, each under its field's name."""
    errors: dict[str, list[str]] = {}
    themes, procedures, equipment = set(themes), set(procedures), set(equipment)

    if kind not in SessionKind.values:
        _add(errors, "kind", _("Ce type d'accompagnement n'existe pas."))
    if mediator is None or not user_can(mediator, "log_session", structure):
        _add(errors, "mediator", _("Choisissez une personne de l'équipe de la structure."))

    if duration_minutes is None:
        _add(errors, "duration_minutes", _("Indiquez la durée."))
    elif duration_minutes < 1:
        _add(errors, "duration_minutes", _("La durée doit être d'au moins une minute."))
    elif duration_minutes > MAX_DURATION_MINUTES:
        _add(
            errors,
            "duration_minutes",
            _(
                "La durée ne peut pas dépasser 8 heures (480 minutes) : saisissez une séance par "
                "jour."
            ),
        )

    if place is not None and place.structure_id != structure.pk:
        _add(errors, "place", _("Ce lieu n'appartient pas à la structure."))
    if date is None:
        _add(errors, "date", _("Indiquez la date."))
    elif date > local_today(place, now):
        _add(
            errors,
            "date",
            _("La date est dans le futur : on saisit un accompagnement une fois qu'il a eu lieu."),
        )
    elif date.year < 2000:
        _add(errors, "date", _("Choisissez une date à partir de l'an 2000."))
    elif new and date < local_today(place, now) - timedelta(days=MAX_DAYS_BACK):
        _add(
            errors,
            "date",
            _(
                "La date remonte à plus d'un an : vérifiez-la (un accompagnement se saisit "
                "dans l'année)."
            ),
        )

    if place_type not in PlaceType.values:
        _add(errors, "place_type", _("Choisissez où l'accompagnement a eu lieu."))
    elif place_type == PlaceType.PLACE and place is None:
        _add(errors, "place", _("Choisissez le lieu d'activité."))
    if place_type == PlaceType.OTHER and not other_commune_insee:
        _add(
            errors,
            "other_commune_insee",
            _("Pour un autre lieu, indiquez la commune (son nom ou son code postal)."),
        )
    elif other_commune_insee:
        try:
            insee_validator(other_commune_insee)
        except ValidationError as error:
            errors.setdefault("other_commune_insee", []).extend(error.messages)

    if not themes:
        _add(errors, "themes", _("Cochez au moins un thème."))
    elif themes - set(Theme.values):
        _add(errors, "themes", _("Un des thèmes cochés n'existe pas."))
    if procedures - set(ProcedureArea.values):
        _add(errors, "procedures", _("Une des démarches cochées n'existe pas."))
    elif procedures and Theme.DEMARCHES_ADMINISTRATIVES not in themes:
        _add(
            errors,
            "procedures",
            _(
                "Les démarches ne se précisent qu'avec le thème « Démarches administratives » : "
                "cochez ce thème, ou décochez les démarches."
            ),
        )
    if equipment - set(Equipment.values):
        _add(errors, "equipment", _("Un des matériels cochés n'existe pas."))
    if Equipment.NONE in equipment and len(equipment) > 1:
        _add(errors, "equipment", _("« Aucun matériel » ne se coche pas avec un autre matériel."))

    if autonomy and autonomy not in Autonomy.values:
        _add(errors, "autonomy", _("Ce niveau d'autonomie n'existe pas."))
    if outcome and outcome not in Outcome.values:
        _add(errors, "outcome", _("Ce résultat n'existe pas."))
    if redirected_to and redirected_to not in RedirectedTo.values:
        _add(errors, "redirected_to", _("Cette orientation n'existe pas."))
    elif outcome == Outcome.REDIRECTED and not redirected_to:
        _add(errors, "redirected_to", _("Indiquez vers qui la personne a été orientée."))
    elif redirected_to and outcome != Outcome.REDIRECTED:
        _add(
            errors,
            "redirected_to",
            _(
                "Une orientation ne s'indique qu'avec le résultat « Orienté » : choisissez ce "
                "résultat, ou retirez l'orientation."
            ),
        )

    if case is not None and case.structure_id != structure.pk:
        _add(errors, "case", _("Ce dossier n'appartient pas à la structure."))

    participants = list(participants)
    people_count = 1
    if kind == SessionKind.INDIVIDUAL:
        if (resident is None) == (anonymous is None):
            _add(errors, "resident", _("Choisissez l'usager accompagné, ou la saisie anonyme."))
        if case is not None and resident is not None and case.resident_id != resident.pk:
            _add(errors, "case", _("Ce dossier est celui d'un autre usager."))
        if anonymous is not None:
            _validate_anonymous(anonymous, errors)
    elif kind == SessionKind.COLLECTIVE:
        if not title.strip():
            _add(errors, "title", _("Donnez un titre à l'atelier."))
        if level and level not in WorkshopLevel.values:
            _add(errors, "level", _("Ce niveau n'existe pas."))
        for dimension, by_code in (counts or {}).items():
            field = f"counts_{dimension}"
            if dimension not in COUNT_CODES or set(by_code) - set(COUNT_CODES[dimension]):
                _add(errors, field, _("Cette répartition n'existe pas."))
            elif any(not 0 <= int(n or 0) <= MAX_COUNT for n in by_code.values()):
                _add(errors, field, _("Chaque nombre va de 0 à 500."))
        if not any(f"counts_{d}" in errors for d in COUNT_CODES):
            total, count_errors = anonymous_total(counts)
            for field, message in count_errors.items():
                _add(errors, field, message)
            people_count = len({p.pk for p in participants}) + total
            if not count_errors and people_count == 0:
                _add(
                    errors,
                    "participants",
                    _("Indiquez au moins un participant : nommé, ou compté ci-dessous."),
                )
    if errors:
        raise ValidationError(errors)
    return people_count


def _validate_anonymous(profile: AnonymousProfile, errors) -> None:
    if profile.age_band not in AgeBand.values:
        _add(errors, "age_band", _("Cette tranche d'âge n'existe pas."))
    if profile.status not in ResidentStatus.values:
        _add(errors, "status", _("Cette situation n'existe pas."))
    if profile.gender not in Gender.values:
        _add(errors, "gender", _("Ce genre n'existe pas."))
    if profile.commune_insee:
        try:
            insee_validator(profile.commune_insee)
        except ValidationError as error:
            errors.setdefault("commune_insee", []).extend(error.messages)


# --- Writing --------------------------------------------------------------------------------


def _write_tags(session: HelpSession, *, themes, procedures, equipment) -> None:
    SessionTag.objects.filter(session=session).delete()
    rows = [
        SessionTag(session=session, dimension=dimension, code=code)
        for dimension, codes in (
            (TagDimension.THEME, themes),
            (TagDimension.PROCEDURE, procedures),
            (TagDimension.EQUIPMENT, equipment),
        )
        for code in sorted(set(codes))
    ]
    SessionTag.objects.bulk_create(rows)


def _write_counts(session: HelpSession, counts) -> None:
    ParticipantCount.objects.filter(session=session).delete()
    ParticipantCount.objects.bulk_create(
        ParticipantCount(session=session, dimension=dimension, code=code, count=int(n))
        for dimension, by_code in (counts or {}).items()
        for code, n in by_code.items()
        if n
    )


def _contact_moment(session_date: date_type, place: Place | None, now: datetime) -> datetime:
    """When the resident was last seen: now for a session of today, else noon that day."""
    if session_date >= local_today(place, now):
        return now
    tz = place.tzinfo if place is not None else zoneinfo.ZoneInfo(settings.TIME_ZONE)
    return datetime.combine(session_date, time(12), tzinfo=tz)


def _touch_residents(resident_ids: Iterable[int], moment: datetime) -> None:
    # Forward only: logging an old session must not make a recent contact look older.
    # A bookkeeping field (it drives retention): no history row for it.
    Resident.objects.filter(pk__in=list(resident_ids), last_contact_at__lt=moment).update(
        last_contact_at=moment
    )


def residents_for(user: User, structure: Structure):
    """The residents `user` may help at `structure`: the structure's own, and those of the
    structures sharing a network with it who agreed to be shared. (A mediator working for two
    structures does not carry one structure's residents into the other's log.)"""
    return Resident.objects.visible_to(user, "log_session").at_desk_of(structure)


def _check_visible(
    by: User, structure: Structure, residents, participants, current_ids=frozenset()
) -> None:
    """The residents a session names must be ones `by` may help at `structure`
    (`residents_for`): a tampered id is refused, never logged. Those already on the session
    stay (a resident who stopped sharing does not block an edit)."""
    wanted = {r.pk for r in residents} | {p.pk for p in participants}
    wanted -= set(current_ids)
    if not wanted:
        return
    seen = set(residents_for(by, structure).filter(pk__in=wanted).values_list("pk", flat=True))
    if seen != wanted:
        field = "resident" if any(r.pk not in seen for r in residents) else "participants"
        raise ValidationError({field: _("Cet usager n'existe pas dans vos fiches.")})


def _anonymous_resident(
    *, structure: Structure, profile: AnonymousProfile, by: User | None, now: datetime
) -> Resident:
    resident = Resident(
        structure=structure,
        is_anonymous=True,
        age_band=profile.age_band,
        status=profile.status,
        gender=profile.gender,
        commune_insee=profile.commune_insee,
        created_at=now,
        last_contact_at=now,
    )
    resident._history_user = by
    resident.full_clean()
    resident.save()
    return resident


@transaction.atomic
def session_log(
    *,
    structure: Structure,
    by: User,
    mediator: User | None = None,
    kind: str = SessionKind.INDIVIDUAL,
    date: date_type | None = None,
    duration_minutes: int | None = None,
    place: Place | None = None,
    place_type: str = PlaceType.PLACE,
    other_commune_insee: str = "",
    resident: Resident | None = None,
    anonymous: AnonymousProfile | None = None,
    participants: Iterable[Resident] = (),
    counts: Mapping[str, Mapping[str, int]] | None = None,
    themes: Iterable[str] = (),
    procedures: Iterable[str] = (),
    equipment: Iterable[str] = (),
    procedure_detail: str = "",
    autonomy: str = "",
    done_on_behalf: bool = False,
    outcome: str = "",
    redirected_to: str = "",
    title: str = "",
    level: str = "",
    notes: str = "",
    case: Case | None = None,
    appointment: Appointment | None = None,
    now: datetime | None = None,
) -> HelpSession:
    """Log a help session of `structure`, written by `by` for `mediator` (default: `by`).

    Individual: `resident` (a known resident the caller may see) or `anonymous` (a new
    anonymous Resident is created, keeping only the profile). Workshop (`kind="collective"`):
    `title`, `participants` and/or `counts` ({dimension: {code: number}}). Creates the
    SessionTag and ParticipantCount rows, sets `people_count` (module docstring), moves the
    residents' `last_contact_at` forward, and records `by` as the author in the history.
    Use `session_from_appointment` for an appointment. Raises ValidationError (per field)."""
    now = now or timezone.now()
    mediator = mediator or by
    themes, procedures, equipment = list(themes), list(procedures), list(equipment)
    participants = list(participants) if kind == SessionKind.COLLECTIVE else []
    counts = counts if kind == SessionKind.COLLECTIVE else None
    people_count = session_validate(
        structure=structure,
        kind=kind,
        mediator=mediator,
        date=date,
        duration_minutes=duration_minutes,
        place=place,
        place_type=place_type,
        other_commune_insee=other_commune_insee,
        resident=resident,
        anonymous=anonymous,
        participants=participants,
        counts=counts,
        themes=themes,
        procedures=procedures,
        equipment=equipment,
        autonomy=autonomy,
        outcome=outcome,
        redirected_to=redirected_to,
        title=title,
        level=level,
        case=case,
        now=now,
        new=True,
    )
    _check_visible(by, structure, [resident] if resident is not None else [], participants)
    if anonymous is not None:
        resident = _anonymous_resident(structure=structure, profile=anonymous, by=by, now=now)
    session = HelpSession(
        structure=structure,
        place=place,
        mediator=mediator,
        kind=kind,
        date=date,
        duration_minutes=duration_minutes,
        place_type=place_type,
        other_commune_insee=other_commune_insee if place_type == PlaceType.OTHER else "",
        resident=resident if kind == SessionKind.INDIVIDUAL else None,
        people_count=people_count,
        appointment=appointment,
        case=case,
        procedure_detail=procedure_detail.strip(),
        autonomy=autonomy,
        done_on_behalf=done_on_behalf,
        outcome=outcome,
        redirected_to=redirected_to,
        title=title.strip() if kind == SessionKind.COLLECTIVE else "",
        level=level if kind == SessionKind.COLLECTIVE else "",
        notes=notes.strip(),
        created_by=by,
        created_at=now,
        updated_at=now,
        report_date=session_report_date(day=date, now=now),
    )
    session._history_user = by
    session.full_clean(exclude=["appointment"])
    try:
        with transaction.atomic():
            session.save()
    except IntegrityError as error:
        # The one-to-one on the appointment: a colleague logged it at the same moment.
        if appointment is not None:
            raise ValidationError(_("Cet accompagnement est déjà saisi.")) from error
        raise
    _write_tags(session, themes=themes, procedures=procedures, equipment=equipment)
    if kind == SessionKind.COLLECTIVE:
        if participants:
            session.participants.set(participants)
        _write_counts(session, counts)
    ids = [p.pk for p in participants] + ([resident.pk] if resident is not None else [])
    _touch_residents(ids, _contact_moment(date, place, now))
    return session


# --- A walk-in not yet known -----------------------------------------------------------------


@dataclass(frozen=True)
class NewPerson:
    """A resident typed on the session form: the minimum to find them again. `phone` is
    already read (E.164 text, `mediation.phones`)."""

    first_name: str
    last_name: str
    phone: str = ""
    birth_year: int | None = None
    commune_insee: str = ""


class PossibleDuplicate(ValidationError):
    """The person typed may already have a record: `candidates` (the structure's records with
    the same name and the same phone or year of birth). Nothing was written."""

    def __init__(self, candidates: list[Resident]):
        super().__init__(
            {
                "new_last_name": _(
                    "Est-ce la même personne ? Une fiche porte déjà ce nom avec le même "
                    "téléphone ou la même année de naissance : choisissez-la, ou confirmez "
                    "qu'il s'agit d'une autre personne."
                )
            }
        )
        self.candidates = candidates


def resident_same_person(
    *, structure: Structure, by: User, person: NewPerson, limit: int = 5
) -> list[Resident]:
    """The structure's own followed records that are probably `person`: the same name
    (accents, case and hyphens ignored: `fold_name`) and the same phone number or the same year
    of birth. Without a phone and a year, a namesake is not enough to ask. One query."""
    name = fold_name(person.first_name, person.last_name)
    same = Q(pk__in=[])
    if person.phone:
        same |= Q(phone=person.phone)
    if person.birth_year:
        same |= Q(birth_year=person.birth_year)
    if not name or not (person.phone or person.birth_year):
        return []
    return list(
        own_residents(by, structure)
        .followed()
        .filter(same, search_name=name)
        .order_by("last_name", "first_name", "pk")[:limit]
    )


@transaction.atomic
def session_log_new_resident(
    *,
    structure: Structure,
    by: User,
    person: NewPerson,
    confirm_new: bool = False,
    now: datetime | None = None,
    **fields,
) -> HelpSession:
    """Create the record of a walk-in not yet known and log their session, together: if the
    session is refused, no record is left behind.

    Before creating, the duplicate guard: when the structure already has a record with the
    same name and the same phone or year of birth (`resident_same_person`), raise
    `PossibleDuplicate` ("Est-ce la même personne ?") unless `confirm_new`. The record is made
    by `mediation.services.resident_create`, the one way a named resident is created; `fields`
    are those of `session_log`."""
    now = now or timezone.now()
    if not confirm_new:
        candidates = resident_same_person(structure=structure, by=by, person=person)
        if candidates:
            raise PossibleDuplicate(candidates)
    try:
        resident = resident_create(
            structure=structure,
            by=by,
            first_name=person.first_name,
            last_name=person.last_name,
            phone=person.phone,
            birth_year=person.birth_year,
            commune_insee=person.commune_insee,
            now=now,
        )
    except ValidationError as error:
        raise ValidationError(_prefixed(error, "new_")) from error
    return session_log(structure=structure, by=by, resident=resident, now=now, **fields)


def _prefixed(error: ValidationError, prefix: str) -> dict:
    """The record's errors under the session form's names (`first_name` → `new_first_name`)."""
    if not hasattr(error, "error_dict"):
        return {"new_last_name": error.messages}
    return {
        (f"{prefix}{field}" if field != "__all__" else field): [
            message for item in items for message in item.messages
        ]
        for field, items in error.error_dict.items()
    }


# --- From an appointment --------------------------------------------------------------------


def appointment_session_refusal(
    *, appointment: Appointment, now: datetime | None = None
) -> str | None:
    """Why no session can be logged from `appointment` now (a French sentence), or None.

    Shared by the service, the form page and the agenda's "Terminer et saisir" button."""
    if appointment.motif.is_collective:
        return _(
            "Un atelier collectif se saisit une fois pour tout le groupe, avec « Saisir "
            "l'atelier »."
        )
    if appointment.status == AppointmentStatus.SEEN:
        return None
    return status_refusal(appointment=appointment, to=AppointmentStatus.SEEN, now=now)


def appointment_session_initial(appointment: Appointment) -> dict:
    """What a session logged from `appointment` starts with: its resident, mediator, place,
    day (in the place's time zone), the motif's duration and where it happened (from the
    motif's mode). No theme: the motif says nothing reliable about it."""
    place = appointment.place
    return {
        "resident": appointment.resident,
        "mediator": appointment.mediator,
        "place": place,
        "date": timezone.localtime(appointment.starts_at, place.tzinfo).date(),
        "duration_minutes": appointment.motif.duration_minutes,
        "place_type": PLACE_TYPE_OF_MODE.get(appointment.motif.mode, PlaceType.PLACE),
    }


@transaction.atomic
def session_from_appointment(
    *, appointment: Appointment, by: User, now: datetime | None = None, **fields
) -> HelpSession:
    """Log the session of `appointment` and mark the appointment seen ("Honoré"), together.

    Starts from `appointment_session_initial`; `fields` (as `session_log` takes them) override
    it, except the resident, who is the appointment's. Refused when the appointment already
    has its session, is cancelled, is a workshop seat, or has not happened yet
    (`appointment_session_refusal`)."""
    now = now or timezone.now()
    # Lock the appointment: two mediators clicking at once log it once.
    appointment = (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("place__structure", "motif", "resident", "mediator")
        .get(pk=appointment.pk)
    )
    if HelpSession.objects.filter(appointment=appointment).exists():
        raise ValidationError(_("L'accompagnement de ce rendez-vous est déjà saisi."))
    refusal = appointment_session_refusal(appointment=appointment, now=now)
    if refusal is not None:
        raise ValidationError(refusal)
    data = appointment_session_initial(appointment)
    data.update({k: v for k, v in fields.items() if k not in ("resident", "anonymous", "kind")})
    session = session_log(
        structure=appointment.place.structure,
        by=by,
        kind=SessionKind.INDIVIDUAL,
        appointment=appointment,
        now=now,
        **data,
    )
    if appointment.status != AppointmentStatus.SEEN:
        appointment_set_status(appointment=appointment, to=AppointmentStatus.SEEN, by=by, now=now)
    return session


# --- A workshop from its roster --------------------------------------------------------------


def workshop_roster(appointment: Appointment) -> list[Appointment]:
    """The roster of the workshop `appointment` belongs to: the appointments of its slot that
    were not cancelled, by the residents' names. One query."""
    return list(
        Appointment.objects.filter(slot_id=appointment.slot_id)
        .exclude(
            status__in=(
                AppointmentStatus.CANCELLED_BY_RESIDENT,
                AppointmentStatus.CANCELLED_BY_STAFF,
            )
        )
        .select_related("resident")
        .order_by("resident__last_name", "resident__first_name", "pk")
    )


def roster_refusal(*, appointment: Appointment, now: datetime | None = None) -> str | None:
    """Why the workshop of `appointment` cannot be logged from its roster now, or None."""
    if not appointment.motif.is_collective:
        return _("Ce rendez-vous n'est pas un atelier collectif.")
    if appointment.status == AppointmentStatus.SEEN:
        return None
    return status_refusal(appointment=appointment, to=AppointmentStatus.SEEN, now=now)


def roster_initial(appointment: Appointment, roster: list[Appointment]) -> dict:
    """What a workshop logged from its roster starts with: the motif as its title, the
    slot's day, place, mediator and the motif's duration, every person of the roster ticked."""
    return {
        **appointment_session_initial(appointment),
        "title": appointment.motif.name,
        "participants": [a.resident for a in roster],
    }


@transaction.atomic
def workshop_from_roster(
    *, appointment: Appointment, by: User, now: datetime | None = None, **fields
) -> HelpSession:
    """Log the workshop of `appointment`'s slot once for the whole group, and mark "Honoré"
    the appointments of the participants ticked (those left out keep their status: the
    mediator marks them absent from the agenda). The session points to the roster's first
    appointment, so the slot's workshop is logged once. `fields` as `session_log` takes them
    (`participants`, `counts`, themes…)."""
    now = now or timezone.now()
    appointment = (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("place__structure", "motif")
        .get(pk=appointment.pk)
    )
    roster = workshop_roster(appointment)
    if HelpSession.objects.filter(appointment__slot_id=appointment.slot_id).exists():
        raise ValidationError(_("L'atelier de ce créneau est déjà saisi."))
    refusal = roster_refusal(appointment=appointment, now=now)
    if refusal is not None:
        raise ValidationError(refusal)
    data = {k: v for k, v in fields.items() if k not in ("resident", "anonymous", "kind")}
    session = session_log(
        structure=appointment.place.structure,
        by=by,
        kind=SessionKind.COLLECTIVE,
        appointment=roster[0] if roster else appointment,
        now=now,
        **data,
    )
    present = {p.pk for p in data.get("participants", ())}
    for seat in roster:
        if (
            seat.resident_id in present
            and seat.status == AppointmentStatus.BOOKED
            and status_refusal(appointment=seat, to=AppointmentStatus.SEEN, now=now) is None
        ):
            appointment_set_status(appointment=seat, to=AppointmentStatus.SEEN, by=by, now=now)
    return session


# --- Edit and delete ------------------------------------------------------------------------


def can_change_session(user: User, session: HelpSession) -> bool:
    """Its author or its mediator (if they still log sessions there), or someone who may
    change the sessions of others (an admin of its structure)."""
    if user.pk in (session.created_by_id, session.mediator_id):
        return user_can(user, "log_session", session.structure_id)
    return user_can(user, "change_others_sessions", session.structure_id)


@transaction.atomic
def session_update(
    *, session: HelpSession, by: User, now: datetime | None = None, **fields
) -> HelpSession:
    """Change a logged session (fields as `session_log` takes them; those not given keep
    their value). The kind, the resident and the appointment do not change; an anonymous
    resident's profile may (`anonymous`). Same rules as `session_log`; history author `by`."""
    if not can_change_session(by, session):
        raise PermissionDenied
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"session_update() cannot change {sorted(unknown)}")
    now = now or timezone.now()
    session = HelpSession.objects.select_for_update().get(pk=session.pk)
    current = session_current_values(session)
    data = {**current, **fields}
    resident = session.resident
    anonymous = data.pop("anonymous")
    if resident is not None and not resident.is_anonymous:
        anonymous = None
    people_count = session_validate(
        structure=session.structure,
        kind=session.kind,
        resident=None if anonymous is not None else resident,
        anonymous=anonymous,
        now=now,
        **{k: v for k, v in data.items() if k not in UNCHECKED_FIELDS},
    )
    _check_visible(
        by,
        session.structure,
        [],
        data["participants"],
        current_ids={p.pk for p in current["participants"]},
    )
    for name in (
        "mediator",
        "date",
        "duration_minutes",
        "place",
        "place_type",
        "autonomy",
        "done_on_behalf",
        "outcome",
        "redirected_to",
        "level",
        "case",
    ):
        setattr(session, name, data[name])
    if session.date != current["date"]:
        session.report_date = session_report_date(day=session.date, now=now)
    session.other_commune_insee = (
        data["other_commune_insee"] if data["place_type"] == PlaceType.OTHER else ""
    )
    session.procedure_detail = data["procedure_detail"].strip()
    session.title = data["title"].strip()
    session.notes = data["notes"].strip()
    session.people_count = people_count
    session.updated_at = now  # the national tools read the log by it (api.selectors)
    session._history_user = by
    session.full_clean(exclude=["appointment"])
    session.save()
    _write_tags(
        session, themes=data["themes"], procedures=data["procedures"], equipment=data["equipment"]
    )
    if session.kind == SessionKind.COLLECTIVE:
        session.participants.set(data["participants"])
        _write_counts(session, data["counts"])
    if anonymous is not None and resident is not None:
        for name in ("age_band", "status", "gender", "commune_insee"):
            setattr(resident, name, getattr(anonymous, name))
        resident._history_user = by
        resident.full_clean()
        resident.save()
    added = {p.pk for p in data["participants"]} - {p.pk for p in current["participants"]}
    _touch_residents(added, _contact_moment(session.date, session.place, now))
    return session


def session_current_values(session: HelpSession) -> dict:
    """A session's values as `session_log` takes them (to prefill an edit form)."""
    tags: dict[str, list[str]] = {d: [] for d in TagDimension.values}
    for dimension, code in session.tags.values_list("dimension", "code"):
        tags.setdefault(dimension, []).append(code)
    counts: dict[str, dict[str, int]] = {}
    for dimension, code, n in session.participant_counts.values_list("dimension", "code", "count"):
        counts.setdefault(dimension, {})[code] = n
    resident = session.resident
    anonymous = None
    if resident is not None and resident.is_anonymous:
        anonymous = AnonymousProfile(
            age_band=resident.age_band,
            status=resident.status,
            gender=resident.gender,
            commune_insee=resident.commune_insee,
        )
    return {
        "mediator": session.mediator,
        "date": session.date,
        "duration_minutes": session.duration_minutes,
        "place": session.place,
        "place_type": session.place_type,
        "other_commune_insee": session.other_commune_insee,
        "themes": tags[TagDimension.THEME],
        "procedures": tags[TagDimension.PROCEDURE],
        "equipment": tags[TagDimension.EQUIPMENT],
        "procedure_detail": session.procedure_detail,
        "autonomy": session.autonomy,
        "done_on_behalf": session.done_on_behalf,
        "outcome": session.outcome,
        "redirected_to": session.redirected_to,
        "title": session.title,
        "level": session.level,
        "notes": session.notes,
        "case": session.case,
        "participants": list(session.participants.all())
        if session.kind == SessionKind.COLLECTIVE
        else [],
        "counts": counts,
        "anonymous": anonymous,
    }


@transaction.atomic
def session_delete(*, session: HelpSession, by: User) -> None:
    """Delete a logged session (its author, its mediator or a structure admin). The history
    keeps the deletion and its author. The appointment keeps its "Honoré" status (it did take
    place); the anonymous resident created for a walk-in goes with the session when nothing
    else refers to it."""
    if not can_change_session(by, session):
        raise PermissionDenied
    resident = session.resident
    session._history_user = by
    session.delete()
    if (
        resident is not None
        and resident.is_anonymous
        and not resident.sessions.exists()
        and not resident.workshop_sessions.exists()
        and not resident.appointments.exists()
        and not resident.cases.exists()
    ):
        resident._history_user = by
        resident.delete()
