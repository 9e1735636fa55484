"""Reads of the session form at the desk: the themes a mediator uses most, and the place a new
session most likely took place at. Scoped (`visible_to(user, "log_session")`), a fixed number
of queries whatever the history."""

from __future__ import annotations

from datetime import date as date_type
from datetime import datetime, time, timedelta

from django.db.models import Count

from bookings.models import Appointment, OpeningHours
from cases.choices import TagDimension
from cases.models import HelpSession, SessionTag
from mediation.models import Place, Structure, User

#: How many of the mediator's latest sessions say which themes they use most.
THEME_HISTORY = 200


def most_used_themes(user: User, structure: Structure) -> list[str]:
    """The theme codes `user` ticked in their latest `THEME_HISTORY` sessions of `structure`,
    most used first (ties by code). One query, bounded by the subquery's LIMIT whatever the
    history."""
    latest = (
        HelpSession.objects.visible_to(user, "log_session")
        .filter(structure=structure, mediator=user)
        .order_by("-date", "-pk")
        .values("pk")[:THEME_HISTORY]
    )
    return list(
        SessionTag.objects.filter(dimension=TagDimension.THEME, session__in=latest)
        .values("code")
        .annotate(n=Count("pk"))
        .order_by("-n", "code")
        .values_list("code", flat=True)
    )


def _local_day_bounds(day: date_type, place: Place) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), tzinfo=place.tzinfo)
    return start, start + timedelta(days=1)


def todays_place(user: User, structure: Structure, places: list[Place], today: date_type):
    """Where `user` works today among `places` (the structure's active places): the place of
    their appointments of the day, else of their opening hours of the day, else None. Two
    queries at most."""
    if not places:
        return None
    by_pk = {p.pk: p for p in places}
    # The widest window the day may take in any of the places' time zones.
    starts = [_local_day_bounds(today, p) for p in places]
    window_start = min(s for s, _e in starts)
    window_end = max(e for _s, e in starts)
    appointment_place = (
        Appointment.objects.visible_to(user, "log_session")
        .filter(
            mediator=user,
            place_id__in=list(by_pk),
            starts_at__gte=window_start,
            starts_at__lt=window_end,
        )
        .order_by("starts_at")
        .values_list("place_id", flat=True)
        .first()
    )
    if appointment_place is not None:
        return by_pk[appointment_place]
    hours = (
        OpeningHours.objects.visible_to(user, "log_session")
        .filter(mediator=user, place_id__in=list(by_pk), first_day__lte=today)
        .order_by("start_time", "pk")
        .values_list("place_id", "weekdays", "last_day")
    )
    for place_id, weekdays, last_day in hours:
        if (last_day is None or last_day >= today) and today.weekday() in (weekdays or []):
            return by_pk[place_id]
    return None


def last_used_place(user: User, places: list[Place]):
    """The place of `user`'s latest session among `places`, or None. One query."""
    usual = (
        HelpSession.objects.visible_to(user, "log_session")
        .filter(mediator=user, place__in=[p.pk for p in places])
        .order_by("-date", "-pk")
        .values_list("place_id", flat=True)
        .first()
    )
    return next((p for p in places if p.pk == usual), None) if usual else None
