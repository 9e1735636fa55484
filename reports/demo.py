"""Demo data of the reports app: the last closed quarter's reports (and its months') published
and archived, as the quarterly schedule does, so the archives pages are not empty."""

from mediation.demo import register_demo_step


@register_demo_step
def seed_report_archives(context: dict) -> None:
    from reports import publish, services
    from reports.periods import last_closed_quarter

    periods = services.archived_periods(last_closed_quarter())
    with publish.batch():
        for scope in [*context["networks"].values(), *context["structures"].values()]:
            for period in periods:
                services.report_archive(scope=scope, period=period)
