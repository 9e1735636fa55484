"""The coordinators' pages: the dashboard of a structure or a network, its downloads and the
archived quarterly reports. Structures through `structure_view`, networks through
`network_view` (`Network.objects.visible_to`): the one scoping mechanism, each view declaring its
action of the permissions table."""

from __future__ import annotations

from datetime import datetime

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode

from mediation.access import network_view, structure_view
from mediation.models import Network, Place
from mediation.scoping import access_object
from reports import charts, exports, publish, services
from reports.forms import ReportForm
from reports.models import ReportArchive, ReportFormat
from reports.periods import PeriodError, last_closed_quarter


def _urls(scope) -> dict:
    if isinstance(scope, Network):
        kwargs, prefix = {"network": scope.slug}, "network_report"
    else:
        kwargs, prefix = {"structure": scope.slug}, "report"
    export = {
        fmt: reverse(f"{prefix}_export", kwargs={**kwargs, "fmt": fmt}) for fmt in exports.FORMATS
    }
    return {
        "dashboard": reverse(f"{prefix}_dashboard", kwargs=kwargs),
        "archives": reverse(f"{prefix}_archives", kwargs=kwargs),
        "export": export,
        # The download buttons, in the order they are offered.
        "downloads": [
            {"format": fmt, "label": label, "hint": exports.HINTS[fmt], "url": export[fmt]}
            for fmt, label in exports.LABELS.items()
        ],
    }


def _dashboard(request, scope, *, places=None, allow_exact: bool, template_scope: dict):
    form = ReportForm(request.GET or None, places=places, allow_exact=allow_exact)
    report = None
    if not request.GET or form.is_valid():
        data = form.cleaned_data if request.GET else {}
        period = data.get("period")
        if period is None:
            period = last_closed_quarter()
        exact = data.get("exact", False)
        target = data.get("lieu") or scope
        try:
            report = publish.build(target, period, anonymised=not exact)
        except PeriodError as error:
            form.add_error("periode", str(error))
    context = {
        "form": form,
        "report": report,
        "urls": _urls(scope),
        **template_scope,
    }
    if report is not None:
        tables = {table["key"]: table for table in report["tables"]}
        trend = [tables["trend_sessions"], tables["trend_accompaniments"]]
        context.update(
            generated_at=datetime.fromisoformat(report["generated_at"]),
            figures=publish.figure_map(report),
            key_figures=[
                figure for figure in report["figures"] if figure["key"] in report["key_figures"]
            ],
            other_figures=[
                figure for figure in report["figures"] if figure["key"] not in report["key_figures"]
            ],
            trend=charts.lines(trend),
            trend_tables=trend + [tables["trend_help_minutes"]],
            breakdowns=[
                {"table": table, "chart": charts.bars(table) if table["chart"] == "bar" else None}
                for table in report["tables"]
                if table["chart"] != "line"
            ],
            export_query=urlencode({"periode": report["period"]["code"]}),
        )
    return render(request, "reports/dashboard.html", context)


@structure_view("export_structure_report")
def structure_dashboard(request, structure):
    places = Place.objects.visible_to(request.user).filter(structure=structure).order_by("name")
    return _dashboard(
        request,
        structure,
        places=places,
        allow_exact=True,
        template_scope={"structure": structure, "scope": structure, "network": None},
    )


@network_view("export_network_report")
def network_dashboard(request, network):
    return _dashboard(
        request,
        network,
        allow_exact=False,
        template_scope={"scope": network, "network": network},
    )


def _export(request, scope, fmt: str):
    if fmt not in exports.FORMATS:
        return HttpResponse(status=404)
    form = ReportForm(request.GET or None, allow_exact=False)
    if request.GET and not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(_urls(scope)["dashboard"])
    period = form.cleaned_data.get("period") if request.GET else None
    if period is None:
        period = last_closed_quarter()
    try:
        content, filename = services.report_export(
            scope=scope, period=period, fmt=fmt, by=request.user
        )
    except PeriodError as error:
        messages.error(request, str(error))
        return redirect(_urls(scope)["dashboard"])
    response = HttpResponse(content, content_type=exports.FORMATS[fmt])
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@structure_view("export_structure_report")
def structure_export(request, structure, fmt: str):
    return _export(request, structure, fmt)


@network_view("export_network_report")
def network_export(request, network, fmt: str):
    return _export(request, network, fmt)


def _archives(request, scope, template_scope: dict):
    lookup = {"network": scope} if isinstance(scope, Network) else {"structure": scope}
    archives = (
        ReportArchive.objects.visible_to(request.user)
        .filter(**lookup)
        .defer("content")
        .order_by("-period", "format")
    )
    return render(
        request,
        "reports/archives.html",
        {"archives": archives, "urls": _urls(scope), "scope": scope, **template_scope},
    )


@structure_view("export_structure_report")
def structure_archives(request, structure):
    return _archives(request, structure, {"structure": structure, "network": None})


@network_view("export_network_report")
def network_archives(request, network):
    return _archives(request, network, {"network": network})


def _download(request, archive: ReportArchive, *, excel: bool = False):
    """The archived file as it was sent; with `excel`, an archived CSV rewritten for a French
    spreadsheet (the same cells: `exports.csv_to_excel`)."""
    if excel and archive.format != ReportFormat.CSV:
        return HttpResponse(status=404)
    services.record_export(request.user, archive.scope)
    content, name = bytes(archive.content), archive.filename
    if excel:
        content = exports.csv_to_excel(content)
        name = name.removesuffix(".csv") + exports.EXCEL_SUFFIX + ".csv"
    response = HttpResponse(content, content_type=exports.FORMATS[archive.format])
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@structure_view("export_structure_report")
def structure_archive_download(request, structure, archive: int, excel: bool = False):
    archive = access_object(
        ReportArchive.objects.filter(structure=structure),
        request.user,
        "export_structure_report",
        pk=archive,
    )
    return _download(request, archive, excel=excel)


@network_view("export_network_report")
def network_archive_download(request, network, archive: int, excel: bool = False):
    archive = access_object(
        ReportArchive.objects.filter(network=network),
        request.user,
        "export_network_report",
        pk=archive,
    )
    return _download(request, archive, excel=excel)
