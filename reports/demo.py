"""Demo data of the reports app: the last closed quarter's reports published and archived, as
the quarterly schedule does, so the archives pages are not empty (the job also archives the
quarter's months: left out here, they would make the demo seed four times slower)."""

from mediation.demo import register_demo_step


@register_demo_step
def seed_report_archives(context: dict) -> None:
    from reports import publish, services
    from reports.periods import last_closed_quarter

    period = last_closed_quarter()
    with publish.batch():
        for scope in [*context["networks"].values(), *context["structures"].values()]:
            services.report_archive(scope=scope, period=period)
