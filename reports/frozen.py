"""Closed periods do not change: the anonymised report of a closed period and scope is computed
once, stored (`PublishedReport`) and served ever after.

Why: if a closed period were recomputed at each download, a session logged late would make
two versions of the same period differ by exactly that session, and the difference would give
its whole profile (age band, commune, themes…). So:

- sessions recorded after their month is closed count in the month they were recorded
  (`HelpSession.report_date`), never in the closed one;
- the first anonymised report of a closed period and scope is stored as it was published;
  every later view, download and archive of that period and scope reads it back, whatever
  happened to the data since (late entries, edits, deletions, erasure of a resident);
- the comparison with the previous period is added when the report is served, from the
  previous period's own stored report (closed too: a period before a closed one is closed), so
  a stored report never depends on another and one stored row is read per period.

`published(obj, period)` is the one entry point (called by `publish.build`). What is stored is
computed by `publish_period_scope(obj, period)`: the one function to replace when the
publication of a period is computed otherwise (e.g. every scope of a period at once)."""

from __future__ import annotations

import json

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction

from mediation.models import Network, Structure
from reports.models import PublishedReport
from reports.periods import Period


def _lookup(obj) -> dict:
    if isinstance(obj, Structure):
        return {"structure": obj}
    if isinstance(obj, Network):
        return {"network": obj}
    raise ValueError("An anonymised report covers a structure or a network.")


def publish_period_scope(obj, period: Period) -> dict:
    """The anonymised report of `obj` (a Structure or a Network) for the closed `period`, as
    it is to be stored: without the comparison with the previous period."""
    from reports import publish

    return publish.compute_published(obj, period)


def stored(obj, period: Period) -> dict:
    """The stored report of `obj` for the closed `period`; computed and stored the first time.
    Race-safe: two workers publishing at once store one report (the unique constraint), and
    both return the stored one."""
    lookup = _lookup(obj)
    report = (
        PublishedReport.objects.filter(period=period.code, **lookup)
        .values_list("report", flat=True)
        .first()
    )
    if report is not None:
        from reports import publish

        return publish.label_communes(report)
    report = publish_period_scope(obj, period)
    try:
        with transaction.atomic():
            PublishedReport.objects.create(period=period.code, report=report, **lookup)
    except IntegrityError:  # published meanwhile by another worker: theirs is the one
        return PublishedReport.objects.get(period=period.code, **lookup).report
    # What was stored, as it reads back (the first reader sees what every later one will).
    return json.loads(json.dumps(report, cls=DjangoJSONEncoder))


def published(obj, period: Period, *, compare: bool = True) -> dict:
    """The published report of `obj` for the closed `period`, with the previous period's
    figures for comparison (`compare`), both from their stored reports. The caller checks
    that the period is whole and closed."""
    from reports import publish

    report = stored(obj, period)
    if not compare:
        return report
    before = stored(obj, period.previous())
    previous = publish.figure_map(before)
    report["previous_period"] = before["period"]
    for figure in report["figures"]:
        old = previous.get(figure["key"])
        figure["previous"] = old["display"] if old is not None else None
        figure["previous_value"] = old["value"] if old is not None else None
        figure["change"] = publish.change(figure["value"], figure["previous_value"])
    return report
