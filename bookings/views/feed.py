"""A mediator's subscribed agenda: the page where they get, renew or revoke its private link
(`/s/<slug>/agenda/abonnement/`, `take_appointments`), and the feed itself (`/agenda/<token>.ics`,
no session: the token is the key).

The feed is cheap for the calendars that poll it: one query builds it, the result is cached
for `FEED_CACHE_SECONDS`, and `ETag` / `Last-Modified` let a calendar get a 304 instead."""

from __future__ import annotations

import hashlib
import logging

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.http import Http404, HttpResponse, HttpResponseGone
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import get_conditional_response
from django.utils.http import http_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from bookings.ics import mediator_feed_ics
from bookings.models import CalendarFeed
from bookings.services.feed import calendar_feed_renew, calendar_feed_revoke
from mediation.access import structure_view
from mediation.permissions import user_can
from mediation.ratelimit import client_ip, hit

logger = logging.getLogger("bookings.feed")

FEED_CACHE_SECONDS = 300


def feed_urls(request, feed: CalendarFeed) -> dict:
    https = settings.SITE_URL + reverse("calendar_feed", kwargs={"token": feed.token})
    return {"https_url": https, "webcal_url": "webcal://" + https.split("://", 1)[1]}


@structure_view("take_appointments")
@require_http_methods(["GET", "POST"])
def feed_settings(request, structure):
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "renew":
            replaced = (
                CalendarFeed.objects.visible_to(request.user, "take_appointments")
                .active()
                .filter(structure=structure, user=request.user)
                .exists()
            )
            calendar_feed_renew(structure=structure, user=request.user, by=request.user)
            if replaced:
                messages.success(
                    request,
                    _(
                        "Nouveau lien créé : l'ancien ne fonctionne plus. "
                        "Abonnez votre agenda au nouveau."
                    ),
                )
            else:
                messages.success(request, _("Votre lien d'abonnement est prêt."))
        elif action == "revoke":
            calendar_feed_revoke(structure=structure, user=request.user, by=request.user)
            messages.success(request, _("Lien révoqué : votre agenda ne reçoit plus rien."))
        return redirect("agenda_feed", structure=structure.slug)
    feed = (
        CalendarFeed.objects.visible_to(request.user, "take_appointments")
        .active()
        .filter(structure=structure, user=request.user)
        .first()
    )
    context = {"structure": structure, "feed": feed}
    if feed is not None:
        context.update(feed_urls(request, feed))
    return render(request, "bookings/agenda/feed.html", context)


@require_GET
def calendar_feed(request, token: str):
    if not hit("feed-ip", client_ip(request), limit=120, window=600):
        raise Http404
    feed = CalendarFeed.objects.select_related("user", "structure").filter(token=token).first()
    if feed is None:
        logger.info("Calendar feed: unknown token")
        raise Http404
    if (
        feed.revoked_at is not None
        or not feed.user.is_active
        or not user_can(feed.user, "take_appointments", feed.structure)
    ):
        logger.info("Calendar feed %s: revoked or no longer allowed (410)", feed.pk)
        return HttpResponseGone(_("Ce lien d'agenda a été révoqué."), content_type="text/plain")
    # The structure's choice of detail is in the key: changing it shows at the next poll.
    digest = hashlib.sha256(feed.token.encode()).hexdigest()[:16]
    key = f"calendar-feed:{feed.pk}:{digest}:{feed.structure.feed_detail}"
    cached = cache.get(key)
    if cached is None:
        now = timezone.now()
        body = mediator_feed_ics(user=feed.user, structure=feed.structure, now=now)
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        cached = (body, etag, int(now.timestamp()))
        cache.set(key, cached, FEED_CACHE_SECONDS)
    body, etag, generated = cached
    not_modified = get_conditional_response(request, etag=etag, last_modified=generated)
    if not_modified is not None:
        return not_modified
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["ETag"] = etag
    response["Last-Modified"] = http_date(generated)
    response["Cache-Control"] = f"private, max-age={FEED_CACHE_SECONDS}"
    response["Content-Disposition"] = 'inline; filename="agenda.ics"'
    return response
