"""Demo data of the reports app: last quarter's reports archived, as the quarterly schedule
would have done on the first day of the quarter, so the archives pages are not empty."""

from mediation.demo import register_demo_step


@register_demo_step
def seed_report_archives(context: dict) -> None:
    from reports import publish, services
    from reports.periods import last_full_quarter

    period = last_full_quarter()
    with publish.batch():
        for scope in [*context["networks"].values(), *context["structures"].values()]:
            services.report_archive(scope=scope, period=period)
