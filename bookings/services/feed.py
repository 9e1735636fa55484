"""A mediator's calendar subscription (`CalendarFeed`): create or renew its private link, or
revoke it. The feed itself is written by `bookings.ics.mediator_feed_ics`."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from bookings.models import CalendarFeed
from mediation.models import Structure, User


def _revoke_active(*, structure: Structure, user: User, now: datetime) -> int:
    return (
        CalendarFeed.objects.select_for_update()
        .active()
        .filter(structure=structure, user=user)
        .update(revoked_at=now)
    )


@transaction.atomic
def calendar_feed_renew(
    *, structure: Structure, user: User, by: User, now: datetime | None = None
) -> CalendarFeed:
    """A new private link for `user`'s agenda at `structure`; the previous one, if any, stops
    working at once (410). Only for oneself: `by` must be `user`."""
    if by.pk != user.pk:
        raise PermissionError("A calendar subscription is renewed by its owner only.")
    now = now or timezone.now()
    _revoke_active(structure=structure, user=user, now=now)
    return CalendarFeed.objects.create(structure=structure, user=user)


@transaction.atomic
def calendar_feed_revoke(
    *, structure: Structure, user: User, by: User, now: datetime | None = None
) -> bool:
    """Stop `user`'s private link at `structure` (410 from now on). False if there was none."""
    if by.pk != user.pk:
        raise PermissionError("A calendar subscription is revoked by its owner only.")
    return bool(_revoke_active(structure=structure, user=user, now=now or timezone.now()))
