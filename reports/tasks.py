"""django-q2 entry points of the reports app (the schedule is made by services.ensure_schedules)."""

from reports import services


def archive_quarter() -> dict:
    return services.archive_quarter()
