"""Writes of the structure admin's side of bookings: motifs, opening hours, absences and the
booking rules. One transaction per action, its author recorded in the history inside it."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from math import lcm
from zoneinfo import ZoneInfo

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import ProtectedError, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from bookings.choices import AppointmentStatus, Weekday
from bookings.models import (
    Absence,
    Appointment,
    DateOverride,
    Motif,
    OpeningHours,
    RecurringAbsence,
)
from mediation.history import save_with_author
from mediation.models import Membership, Place, Structure, User
from mediation.permissions import roles_for, user_can

# Longest absence one form may record: a typo in the year must not close a year of slots.
MAX_ABSENCE = timedelta(days=366)


def _is_mediator_of(user: User, structure_id: int) -> bool:
    """Does `user` take appointments in the structure (a role of theirs there allows it)?"""
    return Membership.objects.filter(
        user=user,
        structure_id=structure_id,
        role__in=roles_for("take_appointments"),
        user__is_active=True,
    ).exists()


# --- Motifs ---------------------------------------------------------------------------------


@transaction.atomic
def motif_save(*, motif: Motif, by: User) -> Motif:
    """Create or update a motif (service offered), validated as a whole."""
    errors: dict[str, str] = {}
    motif.name = (motif.name or "").strip()
    same_name = Motif.objects.filter(structure_id=motif.structure_id, name__iexact=motif.name)
    if motif.name and same_name.exclude(pk=motif.pk).exists():
        errors["name"] = _("Un motif porte déjà ce nom dans la structure.")
    if motif.is_collective and (motif.capacity or 0) < 2:
        errors["capacity"] = _("Un atelier collectif accueille au moins 2 personnes.")
    if (
        motif.min_delay_minutes is not None
        and motif.max_delay_days
        and motif.min_delay_minutes >= motif.max_delay_days * 24 * 60
    ):
        errors["min_delay_minutes"] = _(
            "Le délai minimum doit être plus court que le délai maximum de réservation."
        )
    if errors:
        raise ValidationError(errors)
    return save_with_author(motif, by)


@transaction.atomic
def motif_set_active(*, motif: Motif, active: bool, by: User) -> Motif:
    """Stop (or resume) offering a motif. Appointments already booked for it are kept."""
    motif = Motif.objects.select_for_update().get(pk=motif.pk)
    if motif.is_active != active:
        motif.is_active = active
        save_with_author(motif, by, update_fields=["is_active"])
    return motif


@transaction.atomic
def motif_delete(*, motif: Motif, by: User) -> None:
    """Delete a motif created by mistake. One that was ever booked, or that opening hours
    accept, is kept for the history: deactivate it instead."""
    motif = Motif.objects.select_for_update().get(pk=motif.pk)
    if motif.appointments.exists() or motif.slots.exists():
        raise ValidationError(
            _(
                "Ce motif a déjà été réservé : il ne peut pas être supprimé, pour garder "
                "l'historique des rendez-vous. Désactivez-le plutôt."
            ),
            code="has_appointments",
        )
    if motif.opening_hours.exists():
        raise ValidationError(
            _(
                "Des plages d'ouverture acceptent ce motif : retirez-le d'abord de ces plages, "
                "ou désactivez-le."
            ),
            code="has_opening_hours",
        )
    motif._history_user = by
    try:
        motif.delete()
    except ProtectedError as error:  # booked between the check and the delete
        raise ValidationError(
            _("Ce motif vient d'être réservé : désactivez-le plutôt."), code="has_appointments"
        ) from error


# --- Opening hours --------------------------------------------------------------------------

# Weeks are counted from the Monday of an opening's first day: "every 2 weeks" means the week
# of the first day, then every other week after it.
_EPOCH_MONDAY = date(1970, 1, 5)


def _week_index(day: date) -> int:
    return (day - _EPOCH_MONDAY).days // 7


def _is_open_on(opening: OpeningHours, day: date) -> bool:
    if day < opening.first_day or (opening.last_day and day > opening.last_day):
        return False
    if day.weekday() not in opening.weekdays:
        return False
    return (_week_index(day) - _week_index(opening.first_day)) % opening.every_n_weeks == 0


def opening_hours_overlap(a: OpeningHours, b: OpeningHours) -> bool:
    """Whether two opening hours share at least one moment (same day, crossing times),
    recurrence every N weeks included."""
    common_days = set(a.weekdays) & set(b.weekdays)
    if not common_days or not (a.start_time < b.end_time and b.start_time < a.end_time):
        return False
    start = max(a.first_day, b.first_day)
    ends = [d for d in (a.last_day, b.last_day) if d is not None]
    # Both patterns repeat every lcm(N_a, N_b) weeks: looking that far is enough.
    horizon = start + timedelta(weeks=lcm(a.every_n_weeks, b.every_n_weeks) + 1)
    end = min([*ends, horizon])
    day = start
    while day <= end:
        if day.weekday() in common_days and _is_open_on(a, day) and _is_open_on(b, day):
            return True
        day += timedelta(days=1)
    return False


def weekdays_label(days: Iterable[int]) -> str:
    labels = [str(Weekday(d).label) for d in sorted(set(days))]
    if len(labels) <= 1:
        return "".join(labels)
    return _("%(days)s et %(last)s") % {"days": ", ".join(labels[:-1]), "last": labels[-1]}


def opening_hours_label(opening: OpeningHours) -> str:
    """ "mardi et jeudi, 09h00–12h00, à partir du 01/09/2025" (for messages)."""
    hours = f"{opening.start_time:%Hh%M}–{opening.end_time:%Hh%M}"
    if opening.last_day:
        period = _("du %(first)s au %(last)s") % {
            "first": f"{opening.first_day:%d/%m/%Y}",
            "last": f"{opening.last_day:%d/%m/%Y}",
        }
    else:
        period = _("à partir du %(first)s") % {"first": f"{opening.first_day:%d/%m/%Y}"}
    return f"{weekdays_label(opening.weekdays)}, {hours}, {period}"


def _check_no_overlap(opening: OpeningHours) -> None:
    """A mediator is in one place at a time, whichever structure the other opening hours
    belong to. Those of another structure are not described: the admin may not see them."""
    candidates = (
        OpeningHours.objects.filter(
            mediator_id=opening.mediator_id,
            start_time__lt=opening.end_time,
            end_time__gt=opening.start_time,
        )
        .filter(Q(last_day__isnull=True) | Q(last_day__gte=opening.first_day))
        .exclude(pk=opening.pk)
        .select_related("place", "mediator")
        .order_by("first_day", "start_time")
    )
    if opening.last_day:
        candidates = candidates.filter(first_day__lte=opening.last_day)
    for other in candidates:
        if not opening_hours_overlap(opening, other):
            continue
        if other.place.structure_id != opening.place.structure_id:
            raise ValidationError(
                _(
                    "Cette plage chevauche une plage d'ouverture de %(person)s dans une autre "
                    "structure : une personne ne peut pas être à deux endroits à la fois."
                )
                % {"person": other.mediator},
                code="overlap",
            )
        raise ValidationError(
            _(
                "Cette plage chevauche une autre plage de %(person)s : %(place)s, %(other)s. "
                "Modifiez les jours, les heures ou les dates de l'une des deux."
            )
            % {
                "person": other.mediator,
                "place": other.place.name,
                "other": opening_hours_label(other),
            },
            code="overlap",
        )


@transaction.atomic
def opening_hours_save(
    *, opening_hours: OpeningHours, motifs: Iterable[Motif], by: User
) -> OpeningHours:
    """Create or update opening hours with the motifs they accept.

    The place, the mediator and the motifs must belong to one structure (the mediator with the
    mediator role); at least one active motif; no overlap with the mediator's other opening
    hours."""
    motifs = list(motifs)
    place = opening_hours.place
    errors: dict[str, str] = {}
    if opening_hours.mediator_id and not _is_mediator_of(
        opening_hours.mediator, place.structure_id
    ):
        errors["mediator"] = _("Cette personne n'est pas médiateur·rice de la structure.")
    if not motifs:
        errors["motifs"] = _("Choisissez au moins un motif.")
    elif any(m.structure_id != place.structure_id or not m.is_active for m in motifs):
        errors["motifs"] = _("Choisissez des motifs actifs de la structure.")
    if errors:
        raise ValidationError(errors)
    opening_hours.weekdays = sorted(set(opening_hours.weekdays or []))
    opening_hours.full_clean()
    # Serialise the overlap check with the other writes of this mediator's opening hours.
    User.objects.select_for_update().filter(pk=opening_hours.mediator_id).first()
    _check_no_overlap(opening_hours)
    opening_hours._history_user = by
    opening_hours.save()
    opening_hours.motifs.set(motifs)
    return opening_hours


@transaction.atomic
def opening_hours_delete(*, opening_hours: OpeningHours, by: User) -> None:
    """Delete opening hours. Appointments already booked in them are kept."""
    opening_hours._history_user = by
    opening_hours.delete()


# --- Exceptional days (date overrides) --------------------------------------------------------


def date_override_label(override: DateOverride) -> str:
    """ "samedi 16/01/2027, 09h00–12h00" or "samedi 16/01/2027, fermé" (for messages)."""
    day = f"{Weekday(override.day.weekday()).label} {override.day:%d/%m/%Y}"
    if override.is_closed:
        return _("%(day)s, fermé") % {"day": day}
    return f"{day}, {override.start_time:%Hh%M}–{override.end_time:%Hh%M}"


def _date_override_conflict(override: DateOverride) -> DateOverride | None:
    """The first other exceptional day that `override` overlaps, or None.

    Same day, and: at the same place, a closure against anything of the same mediator or of
    the whole place (a whole-place closure against everything there); anywhere, an opening of
    the same mediator at crossing hours (a person is in one place at a time)."""
    same_day = DateOverride.objects.filter(day=override.day).exclude(pk=override.pk)
    here = Q(place_id=override.place_id) & (
        Q(mediator_id__isnull=True)
        | (
            Q(mediator_id=override.mediator_id)
            if override.mediator_id is not None
            else Q(mediator_id__isnull=False)
        )
    )
    if override.is_closed:
        conflicts = same_day.filter(here)
    else:
        conflicts = same_day.filter(
            (here & (Q(is_closed=True) | Q(mediator_id__isnull=True)))
            | Q(
                mediator_id=override.mediator_id,
                is_closed=False,
                start_time__lt=override.end_time,
                end_time__gt=override.start_time,
            )
        )
    return conflicts.select_related("place").order_by("start_time").first()


@transaction.atomic
def date_override_save(
    *, override: DateOverride, motifs: Iterable[Motif], by: User, today: date | None = None
) -> DateOverride:
    """Create or update an exceptional day at a place: an opening for a mediator (with the
    motifs it accepts) or a closure (of a mediator, or of the whole place), without touching
    the recurring opening hours.

    Refused, at the field: a day already past, a mediator who does not take appointments in
    the structure, an opening without motifs, and an overlap with another exceptional day
    (`_date_override_conflict`)."""
    place: Place = override.place
    motifs = [] if override.is_closed else list(motifs)
    today = today or timezone.localdate(timezone=place.tzinfo)
    errors: dict[str, str] = {}
    if override.day and override.day < today:
        errors["day"] = _("Choisissez un jour à venir.")
    if override.mediator_id and not _is_mediator_of(override.mediator, place.structure_id):
        errors["mediator"] = _("Cette personne n'est pas médiateur·rice de la structure.")
    if not override.is_closed:
        if not motifs:
            errors["motifs"] = _("Choisissez au moins un motif.")
        elif any(m.structure_id != place.structure_id or not m.is_active for m in motifs):
            errors["motifs"] = _("Choisissez des motifs actifs de la structure.")
    if errors:
        raise ValidationError(errors)
    override.reason = (override.reason or "").strip()
    override.full_clean()
    # Serialise the overlap check with the other writes of this place's and this mediator's
    # exceptional days.
    Place.objects.select_for_update().filter(pk=place.pk).first()
    if override.mediator_id:
        User.objects.select_for_update().filter(pk=override.mediator_id).first()
    other = _date_override_conflict(override)
    if other is not None:
        who = other.mediator.get_full_name() if other.mediator_id else _("tout le lieu")
        raise ValidationError(
            {
                ("day" if override.is_closed or other.is_closed else "start_time"): _(
                    "Ce jour exceptionnel chevauche un autre (%(who)s, %(place)s : %(other)s). "
                    "Modifiez ou supprimez l'autre d'abord."
                )
                % {"who": who, "place": other.place.name, "other": date_override_label(other)}
            },
            code="overlap",
        )
    override._history_user = by
    override.save()
    override.motifs.set(motifs)
    return override


@transaction.atomic
def date_override_delete(*, override: DateOverride, by: User) -> None:
    """Delete an exceptional day: the recurring hours apply again that day."""
    override._history_user = by
    override.delete()


# --- Absences -------------------------------------------------------------------------------


@transaction.atomic
def absence_create(
    *,
    structure: Structure,
    mediator: User,
    starts_at: datetime,
    ends_at: datetime,
    reason: str = "",
    by: User,
) -> Absence:
    """Record a mediator's absence: their free slots in the structure disappear.

    A mediator records their own absences; a structure admin anyone's. Appointments already
    booked in it are not cancelled: see `booked_during_absence`."""
    errors: dict[str, str] = {}
    if mediator.pk != by.pk and not user_can(by, "record_absences_of_others", structure):
        errors["mediator"] = _("Vous ne pouvez enregistrer que vos propres absences.")
    elif not _is_mediator_of(mediator, structure.pk):
        errors["mediator"] = _("Cette personne n'est pas médiateur·rice de la structure.")
    if starts_at and ends_at and ends_at > starts_at and ends_at - starts_at > MAX_ABSENCE:
        errors["ends_at"] = _("Une absence dure au plus un an : vérifiez les dates.")
    if errors:
        raise ValidationError(errors)
    absence = Absence(
        structure=structure,
        mediator=mediator,
        starts_at=starts_at,
        ends_at=ends_at,
        reason=(reason or "").strip(),
    )
    return save_with_author(absence, by)


def booked_during_absence(*, absence: Absence) -> int:
    """How many upcoming appointments of the structure fall in the absence (read only)."""
    return Appointment.objects.filter(
        place__structure_id=absence.structure_id,
        mediator_id=absence.mediator_id,
        status=AppointmentStatus.BOOKED,
        starts_at__lt=absence.ends_at,
        ends_at__gt=absence.starts_at,
    ).count()


@transaction.atomic
def absence_delete(*, absence: Absence, by: User) -> None:
    if absence.mediator_id != by.pk and not user_can(
        by, "record_absences_of_others", absence.structure_id
    ):
        raise PermissionDenied
    absence._history_user = by
    absence.delete()


# --- Recurring absences ---------------------------------------------------------------------


def recurring_absence_days(series: RecurringAbsence) -> list[date]:
    """The days of a recurring absence: its weekday, every N weeks from the week of its first
    day (as opening hours count them), within its period."""
    day = series.first_day + timedelta(days=(series.weekday - series.first_day.weekday()) % 7)
    days = []
    while day <= series.last_day:
        if (_week_index(day) - _week_index(series.first_day)) % series.every_n_weeks == 0:
            days.append(day)
        day += timedelta(weeks=1)
    return days


def _local(day: date, wall: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, wall, tzinfo=tz)


@transaction.atomic
def recurring_absence_create(
    *,
    structure: Structure,
    mediator: User,
    weekday: int,
    start_time: time,
    end_time: time,
    first_day: date,
    last_day: date,
    every_n_weeks: int = 1,
    tz: ZoneInfo,
    reason: str = "",
    by: User,
) -> RecurringAbsence:
    """Record a recurring absence ("every Wednesday afternoon", "every other Monday") for a
    period of at most a year, and write each of its occurrences as an `Absence` (local hours
    in `tz`): the free slots of those times disappear. Same rights as a single absence;
    appointments already booked are not cancelled (`booked_during_series`)."""
    errors: dict[str, str] = {}
    if mediator.pk != by.pk and not user_can(by, "record_absences_of_others", structure):
        errors["mediator"] = _("Vous ne pouvez enregistrer que vos propres absences.")
    elif not _is_mediator_of(mediator, structure.pk):
        errors["mediator"] = _("Cette personne n'est pas médiateur·rice de la structure.")
    if first_day and last_day and last_day >= first_day and last_day - first_day > MAX_ABSENCE:
        errors["last_day"] = _("Une absence récurrente dure au plus un an : vérifiez les dates.")
    if errors:
        raise ValidationError(errors)
    series = RecurringAbsence(
        structure=structure,
        mediator=mediator,
        weekday=weekday,
        start_time=start_time,
        end_time=end_time,
        every_n_weeks=every_n_weeks,
        first_day=first_day,
        last_day=last_day,
        time_zone=tz.key,
        reason=(reason or "").strip(),
    )
    series.full_clean()
    days = recurring_absence_days(series)
    if not days:
        raise ValidationError(
            {
                "weekday": _("Aucun %(day)s dans cette période : vérifiez le jour ou les dates.")
                % {"day": Weekday(weekday).label}
            }
        )
    save_with_author(series, by)
    for day in days:
        save_with_author(
            Absence(
                structure=structure,
                mediator=mediator,
                starts_at=_local(day, start_time, tz),
                ends_at=_local(day, end_time, tz),
                reason=series.reason,
                series=series,
            ),
            by,
        )
    return series


def recurring_absence_label(series: RecurringAbsence) -> str:
    """ "chaque mercredi, 14h00–18h00, du 06/01/2027 au 30/06/2027" ("un lundi sur 2")."""
    day = Weekday(series.weekday).label
    every = (
        _("chaque %(day)s") % {"day": day}
        if series.every_n_weeks == 1
        else _("un %(day)s sur %(n)d") % {"day": day, "n": series.every_n_weeks}
    )
    return _("%(every)s, %(hours)s, du %(first)s au %(last)s") % {
        "every": every,
        "hours": f"{series.start_time:%Hh%M}–{series.end_time:%Hh%M}",
        "first": f"{series.first_day:%d/%m/%Y}",
        "last": f"{series.last_day:%d/%m/%Y}",
    }


def booked_during_series(*, series: RecurringAbsence) -> int:
    """How many upcoming appointments of the structure fall in the recurring absence."""
    during = Q()
    for starts_at, ends_at in series.occurrences.values_list("starts_at", "ends_at"):
        during |= Q(starts_at__lt=ends_at, ends_at__gt=starts_at)
    return Appointment.objects.filter(
        during,
        place__structure_id=series.structure_id,
        mediator_id=series.mediator_id,
        status=AppointmentStatus.BOOKED,
    ).count()


@transaction.atomic
def recurring_absence_delete(*, series: RecurringAbsence, by: User) -> None:
    """Delete a recurring absence and its occurrences: their times are offered again."""
    if series.mediator_id != by.pk and not user_can(
        by, "record_absences_of_others", series.structure_id
    ):
        raise PermissionDenied
    for occurrence in series.occurrences.all():
        occurrence._history_user = by
        occurrence.delete()
    series._history_user = by
    series.delete()


# --- Booking rules --------------------------------------------------------------------------


@transaction.atomic
def booking_rules_update(*, structure: Structure, by: User) -> Structure:
    """Save the structure's booking rules (cancel cut-off, reminder delay, what the mediators'
    subscribed agendas show of residents, the phone numbers' countries accepted online) and
    whether its public booking page is published."""
    return save_with_author(
        structure,
        by,
        update_fields=[
            "cancel_cutoff_hours",
            "reminder_hours_before",
            "feed_detail",
            "online_phone_codes",
            "booking_published",
        ],
    )
