"""Personal data: where it is, what erasure and retention do to it, and the services that do it.

- The registry: each app declares its own models with `register_personal_data(model, ...)`,
  from its `privacy.py` imported in its `AppConfig.ready()` (`bookings/privacy.py`,
  `cases/privacy.py`, `reports/privacy.py`; the core's own models at the end of this module).
  A declaration classifies every field (`fields`) and says how the rows reach the resident
  (`links`), what counts as a recent contact (`contact`), which section of the right-of-access
  export they fill (`export`), when they expire (`expires`) and what else erasure does
  (`before_erase`, `owned_rows`). `tests/mediation/test_privacy.py` fails when a model or a field
  is missing, or when a model pointing at a resident is not reached through `links`.
  Historical models (django-simple-history) follow their model: erasing a field erases it in
  the history rows too, deleting a row deletes its history rows.
- `resident_anonymise(*, resident, by, reason)`: erasure on request, objection, and retention
  all go through it.
- `retention_run()`: the daily task (anonymise residents without contact for
  PRIVACY_RETENTION_DAYS, delete the rows of the models declared with `expires`, purge the
  access log after ACCESS_LOG_RETENTION_DAYS).
- `resident_data(*, resident)`: everything held on a resident (right of access).

This module sits on the ground floor and never names the models of the floors above: it walks
what they registered.

Decisions about the statistics kept on an anonymised resident (see docs/security.md):
age band, gender and status are coarse by construction (at most 8 values each) and are kept; the
age band is derived from the year of birth before the year is erased. The commune's INSEE code
is the one fine-grained value: it is kept only when at least PRIVACY_COMMUNE_MIN_RESIDENTS
residents of the same structure share it, otherwise emptied ("non renseignée").
"""

from __future__ import annotations

import contextvars
import dataclasses
import logging
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from datetime import timedelta
from functools import reduce
from operator import or_
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import connections, models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mediation.choices import AgeBand, age_band_for
from mediation.communes import commune_label
from mediation.models import (
    AccessLog,
    Membership,
    Network,
    NetworkMembership,
    Place,
    RateCounter,
    Resident,
    Structure,
    User,
    fold_name,
)
from mediation.schedules import ensure_schedule

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

ANONYMOUS_NAME = "Anonyme"


# --- The registry -----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Export:
    """A section of the right-of-access export (JSON and PDF)."""

    #: Its key in the JSON export.
    key: str
    #: Its title in the PDF, in French, addressed to the resident ("Vos rendez-vous").
    title: str
    #: (row) -> names of fields left out of this row: a workshop's free text is about the whole
    #: group, other participants included.
    left_out: Callable[[models.Model], Iterable[str]] | None = None
    #: Fields kept in the JSON but not worth a line in the PDF (internal links between rows).
    hidden_in_pdf: tuple[str, ...] = ()
    #: French labels of fields whose verbose name is missing or wrong for the resident, and of
    #: the values `extra` adds ("themes": "thèmes").
    labels: dict[str, str] = dataclasses.field(default_factory=dict)
    #: (rows) -> {pk: {name: value}}: values held elsewhere but shown with each row (a
    #: session's themes, procedures and equipment), computed for all rows at once (one query).
    extra: Callable[[list[models.Model]], dict[Any, dict[str, Any]]] | None = None
    #: (resident) -> queryset of rows that are theirs without a link to their record (a
    #: waiting-list entry with their mobile number, an access-log entry about them): exported
    #: with the linked rows.
    rows: Callable[[Resident], models.QuerySet] | None = None
    #: Sections are sorted by it (then by registration): the access log comes last.
    order: int = 50


@dataclasses.dataclass(frozen=True)
class Expiry:
    """Rows deleted (with their history rows) once `field` is older than the setting's days."""

    field: str
    setting: str = "PRIVACY_RETENTION_DAYS"
    default_days: int = 730

    def cutoff(self, now):
        return now - timedelta(days=int(getattr(settings, self.setting, self.default_days)))


@dataclasses.dataclass(frozen=True)
class PersonalData:
    """What one model holds about people, and what erasure, retention and the export do with it.
    See `register_personal_data`."""

    model: type[models.Model]
    fields: dict[str, Rule]
    links: tuple[str, ...] = ()
    contact: dict[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)
    export: Export | None = None
    expires: Expiry | None = None
    before_erase: Callable[[models.QuerySet], Any] | None = None
    owned_rows: Callable[[Resident], models.QuerySet] | None = None

    @property
    def label(self) -> str:
        return self.model._meta.label_lower

    def erased_fields(self) -> dict[str, Rule]:
        return {name: rule for name, rule in self.fields.items() if rule.kind == ERASED}


_registry: dict[str, PersonalData] = {}


def register_personal_data(
    model: type[models.Model],
    *,
    fields: dict[str, Rule],
    links: Iterable[str] = (),
    contact: dict[str, Iterable[str]] | None = None,
    export: Export | None = None,
    expires: Expiry | None = None,
    before_erase: Callable[[models.QuerySet], Any] | None = None,
    owned_rows: Callable[[Resident], models.QuerySet] | None = None,
) -> PersonalData:
    """Declare what `model` holds about people. Every model of the project's apps is declared,
    from its own app's `privacy.py` (imported in the app's `AppConfig.ready()`).

    - `fields`: every concrete field and many-to-many of the model → N (not personal), K (kept),
      E / `erased(replacement)` (erased when the resident is anonymised), R (deleted with the
      row after the retention period).
    - `links`: lookups from a row to the resident it is about (`"resident"`,
      `"case__resident"`, `"participants"`): erasure and the export find the rows through them.
      Every field pointing at `Resident` must be one of them.
    - `contact`: lookup to the resident → date fields; a row dated after the retention cutoff
      in any of them is a recent contact and keeps the resident from anonymisation.
    - `export`: the section of the right-of-access export the linked rows fill.
    - `expires`: rows deleted after a retention period (`Expiry(field, setting, default_days)`).
    - `before_erase`: (queryset of the rows linked to a resident being anonymised) -> None,
      run before their fields are erased (pending messages are dropped).
    - `owned_rows`: (resident) -> queryset of rows that are the resident's without a link to
      their record (a waiting-list entry with their mobile number): deleted with their history
      rows on anonymisation.

    Declaring a model again replaces its declaration."""
    if export is not None and not links and export.rows is None:
        raise ValueError(f"{model._meta.label}: an export needs the links to the resident")
    entry = PersonalData(
        model=model,
        fields=dict(fields),
        links=tuple(links),
        contact={lookup: tuple(names) for lookup, names in (contact or {}).items()},
        export=export,
        expires=expires,
        before_erase=before_erase,
        owned_rows=owned_rows,
    )
    _registry[entry.label] = entry
    return entry


def registered() -> list[PersonalData]:
    """Every declaration, in the order of registration (the apps' order in INSTALLED_APPS)."""
    return list(_registry.values())


def declaration(model: type[models.Model]) -> PersonalData | None:
    return _registry.get(model._meta.label_lower)


def exported() -> list[PersonalData]:
    """The declarations that fill a section of the right-of-access export, in order."""
    return sorted(
        (entry for entry in registered() if entry.export is not None),
        key=lambda entry: entry.export.order,
    )


def _points_at(model, target) -> bool:
    return any(
        field.is_relation and field.related_model is target for field in model._meta.concrete_fields
    )


def expiring() -> list[PersonalData]:
    """The declarations with rows to delete after a retention period, in the order of deletion:
    a model pointing at another one's rows goes first (the cascade would take its rows uncounted
    and leave their history rows), otherwise the latest registered first."""
    pending = [entry for entry in reversed(registered()) if entry.expires is not None]
    ordered = []
    while pending:
        entry = next(
            (
                e
                for e in pending
                if not any(o is not e and _points_at(o.model, e.model) for o in pending)
            ),
            pending[0],  # a cycle: any order
        )
        pending.remove(entry)
        ordered.append(entry)
    return ordered


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


def project_apps() -> list[str]:
    """The labels of the project's own apps (those in the repository, not installed packages)."""
    base = Path(settings.BASE_DIR).resolve()
    return [
        config.label
        for config in apps.get_app_configs()
        if Path(config.path).resolve().parent == base
    ]


def classified_models() -> Iterator[type[models.Model]]:
    """The models that must be declared: every model of the project's apps but the historical
    ones (they follow their model) and auto-created many-to-many tables."""
    for label in project_apps():
        for model in apps.get_app_config(label).get_models():
            if hasattr(model, "instance_type"):  # django-simple-history's Historical…
                continue
            yield model


def model_fields(model) -> list[str]:
    return [f.name for f in model._meta.concrete_fields] + [
        f.name for f in model._meta.local_many_to_many
    ]


def classification_gaps() -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """(fields not classified, classified fields that no longer exist), by model label. A model
    not declared at all has all its fields missing."""
    missing: dict[str, list[str]] = {}
    stale: dict[str, list[str]] = {}
    seen = set()
    for model in classified_models():
        label = model._meta.label_lower
        seen.add(label)
        entry = _registry.get(label)
        rules = entry.fields if entry else {}
        names = model_fields(model)
        if absent := [name for name in names if name not in rules]:
            missing[label] = absent
        if extra := [name for name in rules if name not in names]:
            stale[label] = extra
    for label in _registry.keys() - seen:
        stale[label] = list(_registry[label].fields)
    for entry in registered():
        if bad := [name for name, rule in entry.fields.items() if rule.kind not in KINDS]:
            stale.setdefault(entry.label, []).extend(bad)
    return missing, stale


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
    if not lookups:  # not linked: no row is theirs (an empty Q would take them all)
        return []
    condition = Q()
    for lookup in lookups:
        condition |= Q(**{f"{lookup}__in": resident_ids})
    return list(model._base_manager.filter(condition).values_list("pk", flat=True).distinct())


def _merged_into(resident_id: int) -> list[int]:
    """Ids of the (deleted) residents merged into this one, directly or through others: their
    history rows hold the same person's identity (see cases.services.residents.resident_merge)."""
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


def _owned_rows_delete(entry: PersonalData, resident: Resident) -> int:
    """Delete the rows `entry.owned_rows` finds for the resident (rows that are theirs without a
    link to their record), with their history rows; the cascade takes what hangs on them."""
    model = entry.model
    ids = list(entry.owned_rows(resident).values_list("pk", flat=True))
    if ids:
        model._base_manager.filter(pk__in=ids).delete()
        historical = _historical_model(model)
        if historical is not None:
            historical.objects.filter(id__in=ids).delete()
    return len(ids)


# Set while `retention_run` anonymises a batch: it flushes once at the end, not per resident.
_flush_deferred: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "erasure_flush_deferred", default=False
)


def erasure_flush(using: str = "default") -> None:
    """After an erasure has committed, leave no old bytes in SQLite's files: checkpoint the
    write-ahead log into the database and truncate it (the old values were in the database
    file's pages until the checkpoint, and the WAL keeps frames until truncated);
    `secure_delete` (set on every connection) zeroes the space the old values occupied.
    PostgreSQL: nothing to do here (docs/security.md says what VACUUM does and does not)."""
    conn = connections[using]
    if conn.vendor != "sqlite" or conn.in_atomic_block:
        return
    with conn.cursor() as cursor:
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        busy, _frames, _done = cursor.fetchone()
    if busy:  # a long reader held the WAL: the next erasure or retention run finishes the job
        logging.getLogger(__name__).warning("WAL checkpoint after erasure was incomplete (busy)")


def _flush_after_commit() -> None:
    if not _flush_deferred.get():
        transaction.on_commit(erasure_flush)


@transaction.atomic
def resident_anonymise(*, resident: Resident, by, reason: str) -> Resident:
    """Erase the resident's identity and contact details, keep the statistics.

    Erased (the fields declared E in the registry): name (→ "Anonyme"), phone, e-mail, year of
    birth (after turning it into the age band), the network-sharing agreement; in the rows linked
    to the resident (`links`), at the time of writing: the free text of their sessions (notes,
    procedure detail, including workshops they took part in), cases (title, event comments),
    appointments (need; the private link's token is replaced) and messages (recipient; pending
    ones are dropped, `before_erase`); rows that are theirs without a link (`owned_rows`: their
    waiting-list entries, same mobile number at the structure's places) are deleted; the same
    values in the history rows of all of these,
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

    for entry in registered():
        rules = entry.erased_fields()
        if entry.model is Resident or not entry.links or not rules:
            continue
        ids = _linked_ids(entry.model, entry.links, resident_ids)
        if entry.before_erase is not None and ids:
            entry.before_erase(entry.model._base_manager.filter(pk__in=ids))
        _erase_rows(entry.model, ids, rules)

    for entry in registered():
        if entry.owned_rows is not None:
            _owned_rows_delete(entry, resident)

    # The resident: statistics first (they read the values about to be erased).
    if resident.age_band == AgeBand.NOT_GIVEN and resident.birth_year:
        resident.age_band = age_band_for(resident.birth_year, resident.last_contact_at.year)
    resident.commune_insee = _commune_kept(resident)
    rules = _registry[Resident._meta.label_lower].erased_fields()
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
    _flush_after_commit()
    return resident


# --- Retention --------------------------------------------------------------------------------


def _since(model, name: str, cutoff, cutoff_day) -> Q:
    """`name` is on or after the cutoff: its instant for a date-time, its local day for a date."""
    field = model._meta.get_field(name)
    bound = cutoff if isinstance(field, models.DateTimeField) else cutoff_day
    return Q(**{f"{name}__gte": bound})


def residents_due_for_anonymisation(*, now=None):
    """Residents not anonymised yet whose last contact (creation, last session as the resident
    or a workshop participant, appointment, case opening, status change or event: what the apps
    declare as `contact`) is older than PRIVACY_RETENTION_DAYS. A future appointment counts as
    a contact."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=retention_days())
    cutoff_day = timezone.localdate(cutoff)
    residents = Resident.objects.filter(
        anonymised_at__isnull=True, last_contact_at__lt=cutoff, created_at__lt=cutoff
    )
    for entry in registered():
        for lookup, names in entry.contact.items():
            condition = reduce(
                or_, (_since(entry.model, name, cutoff, cutoff_day) for name in names)
            )
            recent = entry.model._base_manager.filter(condition, **{f"{lookup}__isnull": False})
            residents = residents.exclude(pk__in=recent.values(lookup))
    return residents


@dataclasses.dataclass
class RetentionResult:
    residents_anonymised: int = 0
    rows_deleted: dict[str, int] = dataclasses.field(default_factory=dict)
    access_log_deleted: int = 0
    complete: bool = True
    timed_out: bool = False


def _delete_old_rows(model, field: str, cutoff, deadline: float) -> tuple[int, bool]:
    """Delete rows of `model` older than `cutoff`, in batches, with their history rows."""
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
    delete the rows of the models declared with `expires` (appointments, messages and
    waiting-list entries older than that) with their history rows, and access-log entries older
    than ACCESS_LOG_RETENTION_DAYS. Works in batches (one transaction per resident or per batch
    of rows) so memory stays bounded and a crash loses nothing done; idempotent. With
    `budget_seconds`, stops when it is spent and says so (`complete=False`). Then, on SQLite,
    one `erasure_flush` for everything it erased or deleted."""
    token = _flush_deferred.set(True)
    try:
        return _retention_run(now=now, budget_seconds=budget_seconds)
    finally:
        _flush_deferred.reset(token)
        erasure_flush()


def _retention_run(*, now, budget_seconds) -> RetentionResult:
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
                from mediation.logs import exception_summary

                # Not the exception's message: it may quote the row (PostgreSQL's DETAIL).
                logging.getLogger(__name__).error(
                    "Anonymisation of resident %s failed: %s", pk, exception_summary(exc)
                )
                failed.add(pk)
            else:
                result.residents_anonymised += 1
    # Messages before appointments (they would go with them anyway, faster this way): see
    # `expiring()` for the order.
    for entry in expiring():
        cutoff = entry.expires.cutoff(now)
        deleted, done = _delete_old_rows(entry.model, entry.expires.field, cutoff, deadline)
        result.rows_deleted[entry.label] = deleted
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


def _plain(value):
    if isinstance(value, models.Model | uuid.UUID):
        return str(value)
    if hasattr(value, "as_e164"):
        return value.as_e164
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


#: Fields that hold a commune's INSEE code, in every app's models.
COMMUNE_FIELDS = {"insee_code", "commune_insee", "other_commune_insee"}


def _row(obj, fields) -> dict:
    data = {}
    for field in fields:
        if field.name in EXPORT_HIDDEN:
            continue
        value = getattr(obj, field.name)
        if field.name in COMMUNE_FIELDS and value:
            # A commune by its name too, like a choice: "Guichen (35126)".
            data[field.name] = {"code": value, "label": commune_label(value)}
        elif field.choices and value not in (None, ""):
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


def resident_data(*, resident: Resident) -> dict:
    """Everything held on a resident: their record, the rows linked to them (the sections the
    apps declare with `export`: appointments, messages, sessions, cases and their events) and
    the history of their record. Plain JSON values; choices carry both the code and the French
    label."""
    from django.utils import translation

    with translation.override("fr"):
        data: dict[str, Any] = {
            "generated_at": timezone.now().isoformat(),
            "resident": _row(resident, _export_fields(Resident)),
        }
        labels: dict[str, str] = {"resident": str(Resident._meta.verbose_name)}
        for entry in exported():
            model, key, export = entry.model, entry.export.key, entry.export
            condition = Q(pk__in=_linked_ids(model, entry.links, [resident.pk]))
            if export.rows is not None:
                condition |= Q(pk__in=export.rows(resident).values("pk"))
            fields = _export_fields(model)
            related = [
                f.name for f in model._meta.concrete_fields if f.is_relation and f.name != "id"
            ]
            rows = list(
                model._base_manager.filter(condition).select_related(*related).order_by("pk")
            )
            extra = export.extra(rows) if export.extra and rows else {}
            data[key] = []
            for obj in rows:
                row = _row(obj, fields)
                row.update(extra.get(obj.pk, {}))
                for name in export.left_out(obj) if export.left_out else ():
                    row.pop(name, None)
                data[key].append(row)
            labels[key] = export.title
        history_fields = [
            f for f in Resident.history.model._meta.concrete_fields if f.name not in EXPORT_HIDDEN
        ]
        data["history"] = [
            _row(row, history_fields)
            for row in Resident.history.model.objects.filter(id=resident.pk)
            .select_related("history_user")
            .order_by("history_date")
        ]
        labels["history"] = "Historique des modifications de votre fiche"
        data["labels"] = labels
        data["field_labels"] = field_labels()
    return data


#: French labels of the record's own fields and of its history rows, where the verbose name is
#: missing (Django's default is the field's name, in English).
RESIDENT_LABELS = {"id": "n°", "search_name": "nom pour la recherche"}
HISTORY_LABELS = {
    **RESIDENT_LABELS,
    "history_date": "date de la modification",
    "history_user": "par",
    "history_type": "type",
    "history_change_reason": "motif",
    "history_id": "n° de version",
}


def field_labels() -> dict[str, dict[str, str]]:
    """The French label of every field of every section of the export, by section: the field's
    verbose name unless the section's `Export.labels` gives one."""
    sections = [
        ("resident", Resident, RESIDENT_LABELS),
        *((e.export.key, e.model, e.export.labels) for e in exported()),
        ("history", Resident.history.model, HISTORY_LABELS),
    ]
    result = {}
    for key, model, overrides in sections:
        labels = {
            field.name: str(getattr(field, "verbose_name", field.name))
            for field in _export_fields(model)
            if field.name not in EXPORT_HIDDEN
        }
        labels.update({"id": "n°", **overrides})
        result[key] = labels
    return result


def untranslated_field_labels() -> list[str]:
    """Fields of the export labelled with Django's default (the field's English name): each
    needs a verbose name or a label in its section's `Export.labels`."""
    french_already = {"date", "notes", "motif", "segments", "structure", "type", "action"}
    return [
        f"{key}.{name}"
        for key, labels in field_labels().items()
        for name, label in labels.items()
        if label == name.replace("_", " ") and label not in french_already
    ]


# --- The core's own models --------------------------------------------------------------------
# The apps above declare theirs in their own `privacy.py` (bookings, cases, reports).

# Staff accounts: personal data of staff, kept while the account exists (operators delete
# or deactivate it); never about residents.
register_personal_data(
    User,
    fields={
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
        # A pseudonymous identifier of the staff member (the read API's `mediateur_id`).
        "uuid": K,
    },
)
register_personal_data(Network, fields={"id": N, "name": N, "slug": N, "kind": N})
# Organisations' contact details are not personal data.
register_personal_data(
    Structure,
    fields={
        "id": N,
        "networks": N,
        "name": N,
        "slug": N,
        "kind": N,
        "siret": N,
        "rna": N,
        "ridet": N,
        "email": N,
        "phone": N,
        "cancel_cutoff_hours": N,
        "reminder_hours_before": N,
        "booking_published": N,
        "feed_detail": N,
        "mediators_need_two_factor": N,
        "created_at": N,
        "uuid": N,
        "api_shares_precisions": N,
        "online_phone_codes": N,
    },
)
register_personal_data(
    Place,
    fields={
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
        "uuid": N,
        # The national places schema's: a place's public details, published when asked.
        "address_complement": N,
        "latitude": N,
        "longitude": N,
        "emails": N,
        "website": N,
        "services": N,
        "publics": N,
        "specific_support": N,
        "fees": N,
        "national_programmes": N,
        "access_terms": N,
        "support_modes": N,
        "is_roaming": N,
        "summary": N,
        "description": N,
        "acceslibre_url": N,
        "is_published": N,
    },
)
register_personal_data(
    Membership, fields={"id": N, "user": K, "structure": N, "role": K, "created_at": K}
)
register_personal_data(
    NetworkMembership, fields={"id": N, "user": K, "network": N, "created_at": K}
)
# The subject itself: `resident_anonymise` erases its E fields (and its history rows'), the
# export opens with it.
register_personal_data(
    Resident,
    fields={
        "id": N,
        "structure": K,
        "is_anonymous": erased(True),
        "first_name": E,
        "last_name": erased(ANONYMOUS_NAME),
        "phone": E,
        "phone_confirmed_at": erased(None),
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
)
# --- Access-log entries about a resident ------------------------------------------------------
# An entry names its object by type and id ("resident", "case"): the entries about a resident
# are those about their record and about the objects of theirs that the apps above declare with
# `register_access_log_subject` (cases/privacy.py: their cases).

_access_log_subjects: dict[str, tuple[str, Callable[[Resident], Any] | None]] = {}


def register_access_log_subject(
    object_type: str, label: str, ids: Callable[[Resident], Any] | None = None
) -> None:
    """Access-log entries with this `object_type` are about the resident when their object id is
    in `ids(resident)` (a queryset of ids, or a list); `label` names the type in French in the
    export. Without `ids`, the type is only labelled (a report is about no one)."""
    _access_log_subjects[object_type] = (label, ids)


register_access_log_subject("resident", "fiche usager", lambda resident: [resident.pk])


def _access_log_about(resident: Resident) -> models.QuerySet:
    condition = Q(pk__in=[])
    for object_type, (_label, ids) in _access_log_subjects.items():
        if ids is not None:
            condition |= Q(object_type=object_type, object_id__in=ids(resident))
    return AccessLog._base_manager.filter(condition)


def _access_log_types(entries) -> dict[Any, dict[str, Any]]:
    labels = {object_type: label for object_type, (label, _ids) in _access_log_subjects.items()}
    return {
        entry.pk: {
            "object_type": {
                "code": entry.object_type,
                "label": labels.get(entry.object_type, entry.object_type),
            }
        }
        for entry in entries
        if entry.object_type
    }


# Ids only, no names and no search terms; deleted after ACCESS_LOG_RETENTION_DAYS (by
# `retention_run`, through `AccessLog.objects.purge_expired`: the log refuses other deletes).
# The entries about a resident are in their export (who opened their record or case, when).
register_personal_data(
    AccessLog,
    fields={
        "id": N,
        "at": R,
        "user": R,
        "structure": N,
        "action": N,
        "object_type": N,
        "object_id": R,
        "term_length": N,
    },
    export=Export(
        "access_log",
        "Consultations de vos données",
        labels={"user": "par", "object_type": "objet", "object_id": "n° de l'objet"},
        hidden_in_pdf=("object_id", "term_length"),
        extra=_access_log_types,
        rows=_access_log_about,
        order=90,
    ),
)

# Rate-limit counters (mediation.ratelimit): a hashed key, a count and an expiry.
register_personal_data(RateCounter, fields={"key": N, "count": N, "expires_at": N})


__all__ = [
    "AnonymisationReason",
    "Export",
    "Expiry",
    "PersonalData",
    "RetentionResult",
    "classification_gaps",
    "ensure_schedules",
    "register_access_log_subject",
    "register_personal_data",
    "registered",
    "resident_anonymise",
    "resident_data",
    "residents_due_for_anonymisation",
    "retention_run",
    "retention_task",
]
