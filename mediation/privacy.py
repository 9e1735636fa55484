"""Personal data: where it is, what erasure and retention do to it, and the services that do it.

- `PERSONAL_DATA` classifies every field of every model of the project's apps (mediation,
  bookings, cases, reports). `tests/mediation/test_privacy.py` fails when a field is missing.
  Historical models (django-simple-history) follow their model: erasing a field erases it in
  the history rows too.
- `resident_anonymise(*, resident, by, reason)`: erasure on request, objection, and retention
  all go through it.
- `retention_run()`: the daily task (anonymise residents without contact for
  PRIVACY_RETENTION_DAYS, delete old appointments, messages and waiting-list entries, purge the
  access log after ACCESS_LOG_RETENTION_DAYS).
- `resident_data(*, resident)`: everything held on a resident (right of access).

This module sits on the ground floor but has to reach the rows of the floors above (sessions,
cases, appointments): it names their models as strings (`apps.get_model`), as `mediation/urls.py`
names their URL modules, and never imports them.

Decisions about the statistics kept on an anonymised resident (see docs/security.md):
age band, gender and status are coarse by construction (at most 8 values each) and are kept; the
age band is derived from the year of birth before the year is erased. The commune's INSEE code
is the one fine-grained value: it is kept only when at least PRIVACY_COMMUNE_MIN_RESIDENTS
residents of the same structure share it, otherwise emptied ("non renseignée").
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable, Iterator
from datetime import timedelta
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mediation.choices import AgeBand, age_band_for
from mediation.models import AccessLog, Resident, fold_name
from mediation.schedules import ensure_schedule

PROJECT_APPS = ("mediation", "bookings", "cases", "reports")

NOT_PERSONAL = "not_personal"
KEPT = "kept"
ERASED = "erased"
RETENTION = "retention"
KINDS = {
    NOT_PERSONAL: "no personal data",
    KEPT: "personal, kept (staff data, or a statistic coarse enough to keep)",
    ERASED: "erased or replaced when the resident is anonymised (erasure, objection, retention)",
    RETENTION: "personal, deleted with its row after the retention period",
}


@dataclasses.dataclass(frozen=True)
class Rule:
    kind: str
    # The value an erased field takes: a constant, or a callable giving one per row.
    replacement: Any = ""
    why: str = ""


N = Rule(NOT_PERSONAL)
K = Rule(KEPT)
R = Rule(RETENTION)


def erased(replacement: Any = "", why: str = "") -> Rule:
    return Rule(ERASED, replacement, why)


E = erased()
E_NULL = erased(None)


def _new_token() -> str:
    from secrets import token_urlsafe

    return token_urlsafe(32)


ANONYMOUS_NAME = "Anonyme"

# Every concrete field (and many-to-many) of every model of PROJECT_APPS.
PERSONAL_DATA: dict[str, dict[str, Rule]] = {
    # --- mediation ---------------------------------------------------------------------------
    # Staff accounts: personal data of staff, kept while the account exists (operators delete
    # or deactivate it); never about residents.
    "mediation.user": {
        "id": N,
        "password": N,
        "last_login": K,
        "is_superuser": N,
        "email": K,
        "first_name": K,
        "last_name": K,
        "phone": K,
        "is_active": N,
        "is_staff": N,
        "date_joined": K,
        "groups": N,
        "user_permissions": N,
    },
    "mediation.network": {"id": N, "name": N, "slug": N, "kind": N},
    # Organisations' contact details are not personal data.
    "mediation.structure": {
        "id": N,
        "networks": N,
        "name": N,
        "slug": N,
        "kind": N,
        "siret": N,
        "email": N,
        "phone": N,
        "cancel_cutoff_hours": N,
        "reminder_hours_before": N,
        "mediators_need_two_factor": N,
        "created_at": N,
    },
    "mediation.place": {
        "id": N,
        "structure": N,
        "name": N,
        "address": N,
        "postcode": N,
        "commune": N,
        "insee_code": N,
        "time_zone": N,
        "accessibility": N,
        "phone": N,
        "is_qpv": N,
        "is_rural": N,
        "is_active": N,
    },
    "mediation.membership": {"id": N, "user": K, "structure": N, "role": K, "created_at": K},
    "mediation.networkmembership": {"id": N, "user": K, "network": N, "created_at": K},
    "mediation.resident": {
        "id": N,
        "structure": K,
        "is_anonymous": erased(True),
        "first_name": E,
        "last_name": erased(ANONYMOUS_NAME),
        "phone": E,
        "email": E,
        "birth_year": erased(None, "turned into the age band first"),
        "age_band": K,
        "commune_insee": Rule(KEPT, why="emptied when fewer than PRIVACY_COMMUNE_MIN_RESIDENTS"),
        "gender": K,
        "status": K,
        "shared_with_network": erased(False),
        "search_name": erased(fold_name(ANONYMOUS_NAME)),
        "created_at": K,
        "last_contact_at": K,
        "anonymised_at": K,
        "report_key": N,
    },
    # Ids only, no names and no search terms; deleted after ACCESS_LOG_RETENTION_DAYS.
    "mediation.accesslog": {
        "id": N,
        "at": R,
        "user": R,
        "structure": N,
        "action": N,
        "object_type": N,
        "object_id": R,
        "term_length": N,
    },
    # --- bookings ----------------------------------------------------------------------------
    "bookings.motif": {
        "id": N,
        "structure": N,
        "name": N,
        "duration_minutes": N,
        "mode": N,
        "is_collective": N,
        "capacity": N,
        "bookable_online": N,
        "min_delay_minutes": N,
        "max_delay_days": N,
        "instructions": N,
        "is_active": N,
    },
    "bookings.openinghours": {
        "id": N,
        "place": N,
        "mediator": K,
        "weekdays": N,
        "start_time": N,
        "end_time": N,
        "every_n_weeks": N,
        "first_day": N,
        "last_day": N,
        "motifs": N,
    },
    # A staff member's absence: the form never asks for the cause.
    "bookings.absence": {
        "id": N,
        "structure": N,
        "mediator": K,
        "starts_at": K,
        "ends_at": K,
        "reason": K,
    },
    "bookings.slot": {
        "id": N,
        "place": N,
        "motif": N,
        "mediator": K,
        "starts_at": N,
        "ends_at": N,
        "capacity": N,
        "seats_taken": N,
        "is_active": N,
    },
    # Deleted PRIVACY_RETENTION_DAYS after their start (with their messages and history).
    "bookings.appointment": {
        "id": N,
        "place": N,
        "motif": N,
        "mediator": K,
        "resident": R,
        "slot": N,
        "starts_at": R,
        "ends_at": R,
        "status": R,
        "need": E,
        "token": erased(_new_token, "a new token: the old private link leads nowhere"),
        "booked_online": N,
        "created_by": K,
        "created_at": R,
        "cancelled_at": R,
        "moved_from": N,
        "report_key": N,
    },
    # Not linked to a resident record: deleted PRIVACY_RETENTION_DAYS after creation.
    "bookings.waitlistentry": {
        "id": N,
        "place": N,
        "motif": N,
        "first_name": R,
        "phone": R,
        "status": R,
        "token": R,
        "created_at": R,
        "offered_at": R,
    },
    # Deleted PRIVACY_RETENTION_DAYS after creation; the recipient is erased on anonymisation.
    "bookings.notification": {
        "id": N,
        "structure": N,
        "appointment": R,
        "waitlist_entry": R,
        "kind": R,
        "channel": R,
        "recipient": E,
        "status": R,
        "send_after": R,
        "send_before": R,
        "attempts": N,
        "sent_at": R,
        "last_error": N,
        "provider_reference": N,
        "created_at": R,
    },
    # --- cases -------------------------------------------------------------------------------
    "cases.case": {
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
    "cases.caseevent": {
        "id": N,
        "case": K,
        "at": K,
        "by": K,
        "from_status": K,
        "to_status": K,
        "comment": E,
        "next_action_on": K,
    },
    # The statistics of the activity log are kept (linked to the anonymised record); free text
    # is erased. A workshop's notes are erased when any named participant is anonymised: they
    # may name them.
    "cases.helpsession": {
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
        "participants": K,
        "report_key": N,
    },
    "cases.sessiontag": {"id": N, "session": K, "dimension": K, "code": K},
    "cases.participantcount": {"id": N, "session": N, "dimension": N, "code": N, "count": N},
    # --- reports -----------------------------------------------------------------------------
    # Archived reports are anonymised aggregates (the archive never holds exact staff views);
    # who archived one is a staff account.
    "reports.reportarchive": {
        "id": N,
        "structure": N,
        "network": N,
        "period": N,
        "format": N,
        "content": N,
        "filename": N,
        "sha256": N,
        "parameters": N,
        "created_at": N,
        "created_by": K,
    },
    # The anonymised report of a closed period, as first published (aggregates only).
    "reports.publishedreport": {
        "id": N,
        "structure": N,
        "network": N,
        "period": N,
        "report": N,
        "created_at": N,
    },
}

# How the rows of a model reach the resident they are about (lookups to the resident's id).
RESIDENT_LINKS: dict[str, tuple[str, ...]] = {
    "mediation.resident": ("pk",),
    "bookings.appointment": ("resident",),
    "bookings.notification": ("appointment__resident",),
    "cases.case": ("resident",),
    "cases.caseevent": ("case__resident",),
    "cases.helpsession": ("resident", "participants"),
    "cases.sessiontag": ("session__resident",),
}

# Rows deleted after a retention period: model → (date field, setting, default days).
ROW_RETENTION: dict[str, tuple[str, str, int]] = {
    "bookings.appointment": ("starts_at", "PRIVACY_RETENTION_DAYS", 730),
    "bookings.notification": ("created_at", "PRIVACY_RETENTION_DAYS", 730),
    "bookings.waitlistentry": ("created_at", "PRIVACY_RETENTION_DAYS", 730),
}


class AnonymisationReason(models.TextChoices):
    REQUEST = "request", _("Demande d'effacement de l'usager")
    OBJECTION = "objection", _("Opposition de l'usager")
    RETENTION = "retention", _("Durée de conservation écoulée")


BATCH_SIZE = 200


def retention_days() -> int:
    return int(getattr(settings, "PRIVACY_RETENTION_DAYS", 730))


def access_log_retention_days() -> int:
    return int(getattr(settings, "ACCESS_LOG_RETENTION_DAYS", 365))


def commune_min_residents() -> int:
    return int(getattr(settings, "PRIVACY_COMMUNE_MIN_RESIDENTS", 10))


# --- Classification ---------------------------------------------------------------------------


def classified_models() -> Iterator[type[models.Model]]:
    """The models PERSONAL_DATA must cover: every model of PROJECT_APPS but the historical ones
    (they follow their model) and auto-created many-to-many tables."""
    for label in PROJECT_APPS:
        try:
            config = apps.get_app_config(label)
        except LookupError:
            continue
        for model in config.get_models():
            if hasattr(model, "instance_type"):  # django-simple-history's Historical…
                continue
            yield model


def model_fields(model) -> list[str]:
    return [f.name for f in model._meta.concrete_fields] + [
        f.name for f in model._meta.local_many_to_many
    ]


def classification_gaps() -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """(fields not classified, classified fields that no longer exist), by model label."""
    missing: dict[str, list[str]] = {}
    stale: dict[str, list[str]] = {}
    seen = set()
    for model in classified_models():
        label = model._meta.label_lower
        seen.add(label)
        rules = PERSONAL_DATA.get(label, {})
        names = model_fields(model)
        if absent := [name for name in names if name not in rules]:
            missing[label] = absent
        if extra := [name for name in rules if name not in names]:
            stale[label] = extra
    for label in PERSONAL_DATA.keys() - seen:
        stale[label] = list(PERSONAL_DATA[label])
    for label, rules in PERSONAL_DATA.items():
        if bad := [name for name, rule in rules.items() if rule.kind not in KINDS]:
            stale.setdefault(label, []).extend(bad)
    return missing, stale


def erased_fields(label: str) -> dict[str, Rule]:
    return {
        name: rule for name, rule in PERSONAL_DATA.get(label, {}).items() if rule.kind == ERASED
    }


def _historical_model(model):
    manager = getattr(model, "history", None)
    return getattr(manager, "model", None) if manager is not None else None


def _chunks(ids: list[int], size: int = 500) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


# --- Anonymisation ----------------------------------------------------------------------------


def _erase_rows(model, ids: list[int], rules: dict[str, Rule]) -> None:
    """Erase `rules` fields of the rows `ids` and of their history rows."""
    constant = {
        name: rule.replacement for name, rule in rules.items() if not callable(rule.replacement)
    }
    per_row = {name: rule.replacement for name, rule in rules.items() if callable(rule.replacement)}
    historical = _historical_model(model)
    history_fields = {f.name for f in historical._meta.concrete_fields} if historical else set()
    for chunk in _chunks(ids):
        if constant:
            model._base_manager.filter(pk__in=chunk).update(**constant)
        for pk in chunk if per_row else ():
            model._base_manager.filter(pk=pk).update(**{n: f() for n, f in per_row.items()})
        if historical is not None:
            values = {n: v for n, v in constant.items() if n in history_fields}
            values.update({n: f() for n, f in per_row.items() if n in history_fields})
            if values:
                historical.objects.filter(id__in=chunk).update(**values)


def _linked_ids(model, lookups: Iterable[str], resident_ids: list[int]) -> list[int]:
    condition = Q()
    for lookup in lookups:
        condition |= Q(**{f"{lookup}__in": resident_ids})
    return list(model._base_manager.filter(condition).values_list("pk", flat=True).distinct())


def _merged_into(resident_id: int) -> list[int]:
    """Ids of the (deleted) residents merged into this one, directly or through others: their
    history rows hold the same person's identity (see cases.services_residents.resident_merge)."""
    historical = Resident.history.model
    found: list[int] = []
    frontier = [resident_id]
    while frontier and len(found) < 1000:
        reasons = [f"Fusionné dans l'usager n°{pk}" for pk in frontier]
        frontier = list(
            historical.objects.filter(history_change_reason__in=reasons)
            .exclude(id__in=[resident_id, *found])
            .values_list("id", flat=True)
            .distinct()
        )
        found.extend(frontier)
    return found


def _commune_kept(resident: Resident) -> str:
    code = resident.commune_insee
    if not code:
        return ""
    sharing = Resident.objects.filter(structure_id=resident.structure_id, commune_insee=code)
    return code if sharing.count() >= commune_min_residents() else ""


def _waitlist_entries_delete(resident: Resident) -> int:
    """Waiting-list entries are not linked to a record: those left with the resident's mobile
    number at their structure's places are theirs, and go (with their history and messages)."""
    if not resident.phone:
        return 0
    model = apps.get_model("bookings.waitlistentry")
    ids = list(
        model._base_manager.filter(
            place__structure_id=resident.structure_id, phone=resident.phone
        ).values_list("pk", flat=True)
    )
    if ids:
        model._base_manager.filter(pk__in=ids).delete()
        model.history.model.objects.filter(id__in=ids).delete()
    return len(ids)


@transaction.atomic
def resident_anonymise(*, resident: Resident, by, reason: str) -> Resident:
    """Erase the resident's identity and contact details, keep the statistics.

    Erased (PERSONAL_DATA, kind ERASED): name (→ "Anonyme"), phone, e-mail, year of birth (after
    turning it into the age band), the network-sharing agreement; the free text of their
    sessions (notes, procedure detail, including workshops they took part in), cases (title,
    event comments), appointments (need; the private link's token is replaced) and messages
    (recipient; pending ones are dropped), their waiting-list entries (same mobile number at the
    structure's places: deleted); the same values in the history rows of all of these,
    and in the history of residents merged into this one. The new history row of the resident
    records `by` and the reason, nothing else. Idempotent: an anonymised resident is left as it
    is. Used for erasure on request, objection and retention alike."""
    if reason not in AnonymisationReason.values:
        raise ValueError(f"Unknown anonymisation reason {reason!r}")
    resident = Resident.objects.select_for_update().get(pk=resident.pk)
    if resident.anonymised_at is not None:
        return resident
    now = timezone.now()
    resident_ids = [resident.pk]

    for label, lookups in RESIDENT_LINKS.items():
        if label == "mediation.resident":
            continue
        rules = erased_fields(label)
        if not rules:
            continue
        model = apps.get_model(label)
        ids = _linked_ids(model, lookups, resident_ids)
        if label == "bookings.notification" and ids:
            model._base_manager.filter(pk__in=ids, status="pending").update(status="dropped")
        _erase_rows(model, ids, rules)

    _waitlist_entries_delete(resident)

    # The resident: statistics first (they read the values about to be erased).
    if resident.age_band == AgeBand.NOT_GIVEN and resident.birth_year:
        resident.age_band = age_band_for(resident.birth_year, resident.last_contact_at.year)
    resident.commune_insee = _commune_kept(resident)
    rules = erased_fields("mediation.resident")
    for name, rule in rules.items():
        setattr(
            resident, name, rule.replacement() if callable(rule.replacement) else rule.replacement
        )
    resident.anonymised_at = now
    resident._history_user = by
    resident._change_reason = f"Anonymisation ({reason})"
    resident.save()

    historical = Resident.history.model
    purge = {name: getattr(resident, name) for name in rules}
    purge.update(commune_insee=resident.commune_insee, age_band=resident.age_band)
    historical.objects.filter(id=resident.pk).update(**purge)
    merged = _merged_into(resident.pk)
    if merged:
        historical.objects.filter(id__in=merged).update(**purge)
    return resident


# --- Retention --------------------------------------------------------------------------------


def residents_due_for_anonymisation(*, now=None):
    """Residents not anonymised yet whose last contact (creation, last session as the resident
    or a workshop participant, appointment, case opening, status change or event) is older than
    PRIVACY_RETENTION_DAYS. A future appointment counts as a contact."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=retention_days())
    cutoff_day = timezone.localdate(cutoff)
    residents = Resident.objects.filter(
        anonymised_at__isnull=True, last_contact_at__lt=cutoff, created_at__lt=cutoff
    )
    recent = {
        "cases.helpsession": [
            ("resident", Q(date__gte=cutoff_day)),
            ("participants", Q(date__gte=cutoff_day)),
        ],
        "bookings.appointment": [
            ("resident", Q(starts_at__gte=cutoff) | Q(created_at__gte=cutoff))
        ],
        "cases.case": [("resident", Q(opened_at__gte=cutoff) | Q(status_changed_at__gte=cutoff))],
        "cases.caseevent": [("case__resident", Q(at__gte=cutoff))],
    }
    for label, conditions in recent.items():
        try:
            model = apps.get_model(label)
        except LookupError:
            continue
        for lookup, condition in conditions:
            residents = residents.exclude(
                pk__in=model._base_manager.filter(condition, **{f"{lookup}__isnull": False}).values(
                    lookup
                )
            )
    return residents


@dataclasses.dataclass
class RetentionResult:
    residents_anonymised: int = 0
    rows_deleted: dict[str, int] = dataclasses.field(default_factory=dict)
    access_log_deleted: int = 0
    complete: bool = True
    timed_out: bool = False


def _delete_old_rows(label: str, field: str, cutoff, deadline: float) -> tuple[int, bool]:
    """Delete rows of `label` older than `cutoff`, in batches, with their history rows."""
    model = apps.get_model(label)
    historical = _historical_model(model)
    deleted = 0
    while True:
        if time.monotonic() > deadline:
            return deleted, False
        ids = list(
            model._base_manager.filter(**{f"{field}__lt": cutoff})
            .order_by("pk")
            .values_list("pk", flat=True)[:BATCH_SIZE]
        )
        if not ids:
            return deleted, True
        with transaction.atomic():
            model._base_manager.filter(pk__in=ids).delete()
            if historical is not None:
                historical.objects.filter(id__in=ids).delete()
        deleted += len(ids)


def retention_run(*, now=None, budget_seconds: float | None = None) -> RetentionResult:
    """The daily privacy task: anonymise residents without contact for PRIVACY_RETENTION_DAYS,
    delete appointments, messages and waiting-list entries older than that (with their history
    rows), and access-log entries older than ACCESS_LOG_RETENTION_DAYS. Works in batches (one
    transaction per resident or per batch of rows) so memory stays bounded and a crash loses
    nothing done; idempotent. With `budget_seconds`, stops when it is spent and says so
    (`complete=False`)."""
    now = now or timezone.now()
    deadline = time.monotonic() + budget_seconds if budget_seconds else float("inf")
    result = RetentionResult()
    failed: set[int] = set()
    while True:
        if time.monotonic() > deadline:
            result.complete, result.timed_out = False, True
            return result
        ids = list(
            residents_due_for_anonymisation(now=now)
            .exclude(pk__in=failed)
            .order_by("pk")
            .values_list("pk", flat=True)[:BATCH_SIZE]
        )
        if not ids:
            break
        for pk in ids:
            try:
                resident_anonymise(
                    resident=Resident(pk=pk), by=None, reason=AnonymisationReason.RETENTION
                )
            except Exception as exc:  # one bad row must not stop the others: retried next run
                import logging

                from mediation.logs import exception_summary

                # Not the exception's message: it may quote the row (PostgreSQL's DETAIL).
                logging.getLogger(__name__).error(
                    "Anonymisation of resident %s failed: %s", pk, exception_summary(exc)
                )
                failed.add(pk)
            else:
                result.residents_anonymised += 1
    # Messages before appointments (they would go with them anyway, faster this way).
    for label in ("bookings.notification", "bookings.waitlistentry", "bookings.appointment"):
        field, setting, default = ROW_RETENTION[label]
        cutoff = now - timedelta(days=int(getattr(settings, setting, default)))
        deleted, done = _delete_old_rows(label, field, cutoff, deadline)
        result.rows_deleted[label] = deleted
        if not done:
            result.complete, result.timed_out = False, True
            return result
    result.access_log_deleted = AccessLog.objects.purge_expired(
        before=now - timedelta(days=access_log_retention_days())
    )
    result.complete = not failed
    return result


SCHEDULE_NAME = "mediation.privacy_retention"
TASK_BUDGET_SECONDS = 90  # under the cluster's 120 s timeout


def retention_task() -> str:
    """django-q2 entry point (daily). Continues in a new task when the budget is spent."""
    result = retention_run(budget_seconds=TASK_BUDGET_SECONDS)
    if result.timed_out and not settings.Q_CLUSTER.get("sync"):
        from django_q.tasks import async_task

        async_task("mediation.privacy.retention_task")
    return (
        f"anonymised={result.residents_anonymised} "
        + " ".join(f"{k}={v}" for k, v in result.rows_deleted.items())
        + f" access_log={result.access_log_deleted} complete={result.complete}"
    )


def ensure_schedules() -> None:
    """Create or correct the daily schedule of `retention_task` (2:30 at night). Idempotent
    (post_migrate)."""
    from django_q.models import Schedule

    first = timezone.now().replace(hour=2, minute=30, second=0, microsecond=0)
    ensure_schedule(
        SCHEDULE_NAME,
        first_run=first + timedelta(days=1),
        func="mediation.privacy.retention_task",
        schedule_type=Schedule.DAILY,
        repeats=-1,
    )


# --- Right of access --------------------------------------------------------------------------

# Not shown in an export: secrets (a private link's token) and derived values.
EXPORT_HIDDEN = {"token", "search_name", "password"}

EXPORT_SECTIONS: list[tuple[str, str]] = [
    ("bookings.appointment", "appointments"),
    ("bookings.notification", "messages"),
    ("cases.helpsession", "sessions"),
    ("cases.case", "cases"),
    ("cases.caseevent", "case_events"),
]


def _plain(value):
    if isinstance(value, models.Model):
        return str(value)
    if hasattr(value, "as_e164"):
        return value.as_e164
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _row(obj, fields) -> dict:
    data = {}
    for field in fields:
        if field.name in EXPORT_HIDDEN:
            continue
        value = getattr(obj, field.name)
        if field.choices and value not in (None, ""):
            data[field.name] = {
                "code": value,
                "label": str(getattr(obj, f"get_{field.name}_display")()),
            }
        else:
            data[field.name] = _plain(value)
    return data


def _export_fields(model):
    # No many-to-many: a workshop's participants are other people.
    return list(model._meta.concrete_fields)


# A workshop's free text is about the whole group, other participants included: the export of
# one participant leaves it out.
GROUP_FREE_TEXT = {"cases.helpsession": ("notes", "procedure_detail")}


def _is_group_row(obj) -> bool:
    return getattr(obj, "kind", None) == "collective"


def resident_data(*, resident: Resident) -> dict:
    """Everything held on a resident: their record, the rows linked to them (appointments,
    messages, sessions, cases and their events) and the history of their record. Plain JSON
    values; choices carry both the code and the French label."""
    from django.utils import translation

    with translation.override("fr"):
        data: dict[str, Any] = {
            "generated_at": timezone.now().isoformat(),
            "resident": _row(resident, _export_fields(Resident)),
        }
        labels: dict[str, str] = {"resident": str(Resident._meta.verbose_name)}
        for label, key in EXPORT_SECTIONS:
            try:
                model = apps.get_model(label)
            except LookupError:
                continue
            ids = _linked_ids(model, RESIDENT_LINKS[label], [resident.pk])
            fields = _export_fields(model)
            related = [
                f.name for f in model._meta.concrete_fields if f.is_relation and f.name != "id"
            ]
            rows = model._base_manager.filter(pk__in=ids).select_related(*related).order_by("pk")
            data[key] = []
            for obj in rows:
                row = _row(obj, fields)
                if _is_group_row(obj):
                    for name in GROUP_FREE_TEXT.get(label, ()):
                        row.pop(name, None)
                data[key].append(row)
            labels[key] = str(model._meta.verbose_name_plural)
        history_fields = [
            f for f in Resident.history.model._meta.concrete_fields if f.name not in EXPORT_HIDDEN
        ]
        data["history"] = [
            _row(row, history_fields)
            for row in Resident.history.model.objects.filter(id=resident.pk)
            .select_related("history_user")
            .order_by("history_date")
        ]
        labels["history"] = "Historique de la fiche"
        data["labels"] = labels
        data["field_labels"] = _field_labels()
    return data


def _field_labels() -> dict[str, str]:
    labels = {}
    for model in [Resident, *(apps.get_model(label) for label, _key in EXPORT_SECTIONS)]:
        for field in _export_fields(model):
            labels.setdefault(field.name, str(getattr(field, "verbose_name", field.name)))
    labels.update(
        history_date="date de la modification",
        history_user="par",
        history_type="type",
        history_change_reason="motif",
        history_id="n° de version",
    )
    return labels


__all__ = [
    "PERSONAL_DATA",
    "RESIDENT_LINKS",
    "ROW_RETENTION",
    "AnonymisationReason",
    "RetentionResult",
    "classification_gaps",
    "ensure_schedules",
    "resident_anonymise",
    "resident_data",
    "residents_due_for_anonymisation",
    "retention_run",
    "retention_task",
]
