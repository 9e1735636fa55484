"""Times as the clock on a place's wall shows them: the one way a page shows an instant.

Instants are stored in UTC; a place shows them in its own time zone (Réunion, Nouméa,
Miquelon…). A template cannot be given the place's local time as an aware datetime: Django's
`date` and `time` filters convert aware datetimes back to the site's time zone (Europe/Paris)
before formatting, so 09:00 in Nouméa would show as 23:00. Views hand templates the naive wall
time instead, from here."""

from __future__ import annotations

from datetime import datetime, tzinfo

from django.utils import timezone


def wall_time(moment: datetime | None, tz: tzinfo) -> datetime | None:
    """`moment` as the clock in `tz` reads it (naive: templates show it as it is)."""
    if moment is None:
        return None
    return timezone.localtime(moment, tz).replace(tzinfo=None)
