"""Writes of the reports app: exports (recorded in the access log) and archives."""

from __future__ import annotations

import logging
from datetime import date, datetime, time

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from mediation.audit import access_record
from mediation.models import AccessAction, Membership, Network, NetworkMembership, Structure
from mediation.permissions import roles_for
from mediation.schedules import ensure_schedule
from reports import exports, publish
from reports.models import ReportArchive, ReportFormat
from reports.periods import YEAR, Period, closing_day, last_closed_quarter

logger = logging.getLogger(__name__)

ARCHIVE_SCHEDULE = "reports: archive last quarter"


def record_export(user, scope) -> None:
    """The access log's record of a download (who, what, when; ids only)."""
    access_record(
        user=user,
        action=AccessAction.REPORT_EXPORT,
        structure=scope if isinstance(scope, Structure) else None,
        object_type="report_" + type(scope).__name__.lower(),
        object_id=scope.pk,
    )


def report_export(*, scope, period: Period, fmt: str, by=None) -> tuple[bytes, str]:
    """The anonymised report of `scope` (a Structure or a Network) for a whole, closed
    `period`, as `fmt` (a key of `exports.FORMATS`): (file content, file name), rendered from the
    report published for that period (`reports.frozen`). Raises PeriodError for a period that
    is not a whole month, quarter or year, or not closed yet."""
    report = publish.build(scope, period, anonymised=True)
    content = exports.render(report, fmt)
    if by is not None:
        record_export(by, scope)
    return content, exports.filename(report, fmt)


def report_archive(*, scope, period: Period, by=None) -> tuple[list[ReportArchive], bool]:
    """Archive the anonymised report of `scope` for the closed `period` in every format,
    once: an archive that exists is kept as it is (the first one sent is the one of record).
    Files are rendered from the published report (`reports.frozen`): an archive and a later
    download of the same period carry the same figures. Returns the archives and whether any
    was created now."""
    report = publish.build(scope, period, anonymised=True)
    archives, created = [], False
    for fmt in ReportFormat.values:
        lookup = {"structure": scope} if isinstance(scope, Structure) else {"network": scope}
        existing = ReportArchive.objects.filter(period=period.code, format=fmt, **lookup).first()
        if existing is not None:
            archives.append(existing)
            continue
        content = exports.render(report, fmt)
        archive = ReportArchive(
            period=period.code,
            format=fmt,
            content=content,
            filename=exports.filename(report, fmt),
            parameters={
                "period": period.code,
                "scope": report["scope"],
                "format": fmt,
                "k": report["k"],
                "anonymised": True,
                "version": report["version"],
                "generated_at": report["generated_at"],
            },
            created_by=by,
            **lookup,
        )
        try:
            with transaction.atomic():
                archive.save()
            created = True
        except IntegrityError:  # archived meanwhile by another worker
            archive = ReportArchive.objects.get(period=period.code, format=fmt, **lookup)
        archives.append(archive)
    return archives, created


def _coordinator_emails(scope) -> list[str]:
    if isinstance(scope, Structure):
        # Those who may read the structure's reports; a network's coordinators for a network.
        users = Membership.objects.filter(
            structure=scope, role__in=roles_for("export_structure_report")
        ).values_list("user__email", "user__is_active")
    else:
        users = NetworkMembership.objects.filter(network=scope).values_list(
            "user__email", "user__is_active"
        )
    return sorted({email for email, active in users if active and email})


def archives_url(scope) -> str:
    if isinstance(scope, Structure):
        path = reverse("report_archives", kwargs={"structure": scope.slug})
    else:
        path = reverse("network_report_archives", kwargs={"network": scope.slug})
    return settings.SITE_URL + path


def _notify(scope, periods: list[Period]) -> int:
    recipients = _coordinator_emails(scope)
    if not recipients:
        return 0
    quarter, others = periods[0], periods[1:]
    subject = _("Bilan d'activité %(period)s — %(scope)s") % {
        "period": quarter.label,
        "scope": scope.name,
    }
    body = _(
        "Bonjour,\n\n"
        "Le bilan d'activité anonymisé du %(period)s de « %(scope)s » est prêt, en PDF, CSV "
        "et tableur, avec ceux de %(others)s. La période est close : ces bilans sont "
        "archivés tels quels, ne changeront plus et peuvent être transmis aux financeurs :\n\n"
        "%(url)s\n\n"
        "(connexion nécessaire)\n\n"
        "— Permanence"
    ) % {
        "period": quarter.label,
        "scope": scope.name,
        "others": ", ".join(
            f"l'{period.label}" if period.kind == YEAR else period.label for period in others
        ),
        "url": archives_url(scope),
    }
    # One message per person: coordinators do not see each other's addresses.
    for email in recipients:
        send_mail(subject, body, None, [email], fail_silently=False)
    return len(recipients)


def archived_periods(quarter: Period) -> list[Period]:
    """What the quarterly job archives as files (PDF, CSV, XLSX) for a closed `quarter`: the
    quarter, and the year when it is the fourth quarter (closed with it)."""
    year = [Period.of_year(quarter.start.year)] if quarter.start.month == 10 else []
    return [quarter, *year]


def published_periods(quarter: Period) -> list[Period]:
    """What the quarterly job publishes without archiving files: the quarter's three months
    (their figures are stored and never change; a download renders them from the stored
    report). Rendering every month of every scope would cost the job four times as long at
    national scale (bench/national.py)."""
    return [Period.of_month(quarter.start.year, quarter.start.month + n) for n in range(3)]


def archive_quarter(*, today: date | None = None) -> dict:
    """The quarterly job: for the last closed quarter, the anonymised reports of every
    structure and network for the quarter (and its year after the fourth quarter), published
    (`reports.frozen`), archived and the coordinators told, and for its months, published.
    Idempotent (a rerun archives nothing twice and sends no e-mail for archives that existed).
    Counts are of (scope, period) pairs."""
    quarter = last_closed_quarter(today)
    periods = archived_periods(quarter)
    counts = {"archived": 0, "published": 0, "emails": 0, "failed": 0}
    scopes = list(Network.objects.order_by("pk")) + list(Structure.objects.order_by("pk"))
    with publish.batch():
        for scope in scopes:
            for month in published_periods(quarter):
                _publish_one(scope, month, counts)
            created = [period for period in periods if _archive_one(scope, period, counts)]
            if created:
                counts["emails"] += _notify(scope, periods)
    logger.info("Quarterly reports %s: %s", quarter.code, counts)
    _pin_schedule()
    return counts


def _publish_one(scope, period: Period, counts: dict) -> None:
    try:
        publish.build(scope, period, compare=False)
    except Exception:  # one scope's failure must not stop the others
        logger.exception(
            "Report publication failed for %s %s %s", type(scope).__name__, scope.pk, period.code
        )
        counts["failed"] += 1
        return
    counts["published"] += 1


def _pin_schedule() -> None:
    """Keep the schedule on its day of the quarter at 6:00: django-q2 adds three months to
    the time it ran, which drifts after a late run (a cluster restarted the day after)."""
    from django_q.models import Schedule

    Schedule.objects.filter(name=ARCHIVE_SCHEDULE).update(next_run=next_archive_run())


def _archive_one(scope, period: Period, counts: dict) -> bool:
    """Archive one period of one scope; whether anything was archived now."""
    try:
        _archives, created = report_archive(scope=scope, period=period)
    except Exception:  # one scope's failure must not stop the others
        logger.exception(
            "Report archive failed for %s %s %s", type(scope).__name__, scope.pk, period.code
        )
        counts["failed"] += 1
        return False
    counts["archived"] += created
    return created


def next_archive_run(now: datetime | None = None) -> datetime:
    """When the quarterly job runs next: REPORTS_GRACE_DAYS days after the start of a
    quarter (the day the quarter before is closed, 6 January with 5 days), at 6:00."""
    now = timezone.localtime(now)
    quarter = Period.of_quarter(now.year, (now.month - 1) // 3 + 1)
    while True:
        run = timezone.make_aware(datetime.combine(closing_day(quarter.previous()), time(6, 0)))
        if run > now:
            return run
        quarter = Period.of_quarter(quarter.end.year, (quarter.end.month - 1) // 3 + 1)


def ensure_schedules() -> None:
    """The django-q2 schedule of `archive_quarter`: every quarter, REPORTS_GRACE_DAYS days
    after its first day, at 6:00. Idempotent: run from the reports app's post_migrate hook."""
    from django_q.models import Schedule

    ensure_schedule(
        ARCHIVE_SCHEDULE,
        first_run=next_archive_run(),
        func="reports.tasks.archive_quarter",
        schedule_type=Schedule.QUARTERLY,
        repeats=-1,
    )
