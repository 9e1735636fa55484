"""django-q2 schedules made from code: each app declares the schedules its tasks need and
`ensure_schedule` creates or corrects them from a post_migrate hook, so that a deployment
(or `make run`) always has them, exactly once."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction


def ensure_schedule(name: str, *, first_run: datetime | None = None, **wanted) -> None:
    """The schedule `name` with the fields `wanted` (func, schedule_type, minutes, repeats…):
    created if missing (first run at `first_run`, else as soon as the cluster runs), corrected
    if a field differs, duplicates deleted. Idempotent. `next_run` of an existing schedule is
    left alone: the cluster moves it."""
    from django_q.models import Schedule

    with transaction.atomic():
        existing = list(Schedule.objects.filter(name=name).order_by("pk"))
        if not existing:
            extra = {"next_run": first_run} if first_run is not None else {}
            Schedule.objects.create(name=name, **wanted, **extra)
            return
        keep, duplicates = existing[0], existing[1:]
        if duplicates:
            Schedule.objects.filter(pk__in=[s.pk for s in duplicates]).delete()
        changed = [field for field, value in wanted.items() if getattr(keep, field) != value]
        if changed:
            for field in changed:
                setattr(keep, field, wanted[field])
            keep.save(update_fields=changed)
