"""Residents' public booking pages: no account, four screens at most.

These pages read public information only (a structure's name, places and the services it offers
online); a resident reaches their appointment only through its private link (a 256-bit token).
Nothing here goes through staff scoping, on purpose: there is no staff user."""

from __future__ import annotations

from collections import OrderedDict
from datetime import UTC, datetime, timedelta

from csp.decorators import csp_replace
from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_GET, require_http_methods

from bookings.choices import AppointmentStatus, MessageKind
from bookings.forms.public import PublicDetailsForm, WaitlistForm
from bookings.models import Appointment, Motif, WaitlistEntry
from bookings.services import booking as services
from bookings.slots import free_slots
from mediation.clock import wall_time
from mediation.models import Place, Structure
from mediation.phones import phone_regions
from mediation.ratelimit import client_ip, hit

SLOT_PAGE_DAYS = 14
#: A time in a query string further than this from now is a forged one.
FARTHEST_TIME = timedelta(days=10 * 366)
# A phone screen shows a few days at once; "Voir les créneaux suivants" pages on.
DAYS_PER_PAGE = 4


def _structure(slug: str) -> Structure:
    return get_object_or_404(Structure, slug=slug)


def _draft(request, structure: Structure):
    """A structure whose booking page is a draft (`Structure.booking_published`): every
    booking screen says so, politely, and offers or takes nothing. Private links of
    appointments already booked keep working (see, cancel), except moving."""
    return render(
        request,
        "bookings/public/draft.html",
        {
            "structure": structure,
            "contact_phone": structure.phone,
            "contact_email": structure.email,
        },
    )


def _choice(structure: Structure, params) -> tuple[Place, Motif]:
    """The place and motif named by the query string, checked against the structure."""
    try:
        place_id, motif_id = int(params.get("lieu", "")), int(params.get("motif", ""))
    except ValueError as error:
        raise Http404 from error
    place = get_object_or_404(Place, pk=place_id, structure=structure, is_active=True)
    motif = get_object_or_404(Motif.objects.bookable_online(), pk=motif_id, structure=structure)
    return place, motif


def _parse_start(value: str | None) -> datetime | None:
    try:
        parsed = parse_datetime(value or "")
        if parsed is None or timezone.is_naive(parsed):
            return None
        parsed = parsed.astimezone(UTC)
    except (ValueError, OverflowError):  # not a time, or one out of range once in UTC
        return None
    # No page needs a time years away; near year 9999 the pages' date arithmetic overflows.
    if abs(parsed - timezone.now()) > FARTHEST_TIME:
        return None
    return parsed


def _grouped_times(slots, tz):
    """Free slots grouped by local day, one entry per start time (residents pick a time, not a
    mediator)."""
    days: OrderedDict = OrderedDict()
    seen = set()
    for slot in slots:
        if slot.starts_at in seen:
            continue
        seen.add(slot.starts_at)
        local = wall_time(slot.starts_at, tz)
        days.setdefault(local.date(), []).append({"local": local, "slot": slot})
    return days


def start(request, structure: str):
    """Screen 1: where and what for."""
    structure = _structure(structure)
    if not structure.booking_published:
        return _draft(request, structure)
    places = list(Place.objects.filter(structure=structure, is_active=True).order_by("name"))
    motifs = list(Motif.objects.bookable_online().filter(structure=structure).order_by("name"))
    errors = {}
    # A radio group left empty sends nothing: the hidden "envoi" tells a submitted form with
    # nothing chosen from a first visit.
    if "lieu" in request.GET or "motif" in request.GET or "envoi" in request.GET:
        try:
            place, motif = _choice(structure, request.GET)
        except Http404:
            if not request.GET.get("lieu"):
                errors["lieu"] = _("Choisissez un lieu.")
            if not request.GET.get("motif"):
                errors["motif"] = _("Choisissez ce pour quoi vous venez.")
            if not errors:
                errors["motif"] = _("Ce choix n'est plus proposé : choisissez à nouveau.")
        else:
            query = urlencode({"lieu": place.pk, "motif": motif.pk})
            return redirect(
                reverse("public_slots", kwargs={"structure": structure.slug}) + f"?{query}"
            )
    return render(
        request,
        "bookings/public/start.html",
        {
            "structure": structure,
            "places": places,
            "motifs": motifs,
            "errors": errors,
            # "lieu_choisi": a link to one place (the national places files' `prise_rdv`)
            # ticks it, without the check of a submitted form.
            "selected_place": request.GET.get("lieu")
            or request.GET.get("lieu_choisi")
            or (str(places[0].pk) if len(places) == 1 else ""),
            # "motif_choisi": coming back from a later step ("Modifier ce choix") ticks the
            # motif chosen before, like "lieu_choisi", without sending the form on (no loop).
            "selected_motif": request.GET.get("motif")
            or request.GET.get("motif_choisi", "")
            or (str(motifs[0].pk) if len(motifs) == 1 else ""),
            # With one place there is nothing to choose: the place question is skipped, the
            # place is shown and sent along.
            "only_place": places[0] if len(places) == 1 else None,
        },
        status=400 if errors else 200,
    )


def _change_query(place, motif) -> str:
    """The start page's query that ticks the choices already made (coming back to change)."""
    return urlencode({"lieu_choisi": place.pk, "motif_choisi": motif.pk})


def _slots_context(
    structure,
    place,
    motif,
    *,
    after: datetime | None = None,
    now=None,
    chosen: datetime | None = None,
):
    now = now or timezone.now()
    window_start = max(after or now, now)
    window_end = window_start + timedelta(days=SLOT_PAGE_DAYS)
    slots = free_slots(place=place, motif=motif, start=window_start, end=window_end, now=now)
    days = _grouped_times(slots, place.tzinfo)
    next_start = window_end
    if len(days) > DAYS_PER_PAGE:
        shown = list(days)[:DAYS_PER_PAGE]
        days = OrderedDict((day, days[day]) for day in shown)
        next_start = datetime.combine(
            shown[-1] + timedelta(days=1), datetime.min.time(), tzinfo=place.tzinfo
        ).astimezone(UTC)
    latest = now + timedelta(days=motif.max_delay_days)
    if chosen is not None and after is None and next_start <= chosen < latest:
        # Coming back to a time chosen further than the first page: start from its day.
        day = timezone.localtime(chosen, place.tzinfo).date()
        after = datetime.combine(day, datetime.min.time(), tzinfo=place.tzinfo).astimezone(UTC)
        return _slots_context(structure, place, motif, after=after, now=now, chosen=chosen)
    for times in days.values():
        for entry in times:
            entry["chosen"] = entry["slot"].starts_at == chosen
    return {
        "structure": structure,
        "place": place,
        "motif": motif,
        "days": days,
        "next_page": next_start.isoformat() if next_start < latest else None,
        "base_query": urlencode({"lieu": place.pk, "motif": motif.pk}),
        "change_query": _change_query(place, motif),
        # The time chosen before, when coming back from the next step: highlighted.
        "chosen": chosen,
    }


def slots(request, structure: str):
    """Screen 2: the next free times, a few days a page."""
    structure = _structure(structure)
    if not structure.booking_published:
        return _draft(request, structure)
    place, motif = _choice(structure, request.GET)
    after = _parse_start(request.GET.get("apres"))
    chosen = _parse_start(request.GET.get("choisi"))
    context = _slots_context(structure, place, motif, after=after, chosen=chosen)
    return render(request, "bookings/public/slots.html", context)


@require_http_methods(["GET", "POST"])
def details(request, structure: str):
    """Screen 3: who, and what they need; then the booking."""
    structure = _structure(structure)
    if not structure.booking_published:
        return _draft(request, structure)
    place, motif = _choice(structure, request.GET)
    starts_at = _parse_start(request.GET.get("debut"))
    if starts_at is None:
        raise Http404
    form = PublicDetailsForm(
        request.POST or None,
        regions=phone_regions([place]),
        phone_codes=structure.online_phone_codes,
    )
    context = {
        "structure": structure,
        "place": place,
        "motif": motif,
        "local_start": wall_time(starts_at, place.tzinfo),
        "form": form,
        "back_query": urlencode(
            {"lieu": place.pk, "motif": motif.pk, "choisi": starts_at.isoformat()}
        ),
        "change_query": _change_query(place, motif),
    }
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if data["website"]:
            form.add_error(None, _("Votre demande n'a pas pu être enregistrée."))
        elif not hit("booking-ip", client_ip(request), limit=20, window=3600):
            form.add_error(
                None,
                _(
                    "Trop de demandes depuis cette connexion. Réessayez dans "
                    "une heure, ou appelez la structure."
                ),
            )
        elif not hit("booking-phone", str(data["phone"]), limit=5, window=24 * 3600):
            form.add_error(
                "phone",
                _("Trop de rendez-vous demandés pour ce numéro aujourd'hui. Appelez la structure."),
            )
        else:
            try:
                appointment = services.public_booking_make(
                    place=place,
                    motif=motif,
                    starts_at=starts_at,
                    first_name=data["first_name"],
                    last_name=data["last_name"],
                    phone=data["phone"],
                    email=data["email"],
                    need=data["need"],
                    # The pages' language (PublicLanguageMiddleware): the messages' too.
                    language=request.LANGUAGE_CODE,
                )
            except services.SlotTaken as error:
                context = _slots_context(structure, place, motif)
                context["taken_message"] = error.messages[0]
                return render(request, "bookings/public/slots.html", context, status=409)
            except ValidationError as error:
                from mediation.views.staff import add_service_errors

                add_service_errors(form, error)
            else:
                return redirect(
                    reverse("public_appointment", kwargs={"token": appointment.token})
                    + "?nouveau=1"
                )
    return render(
        request, "bookings/public/details.html", context, status=400 if form.errors else 200
    )


def _appointment(request, token: str) -> Appointment:
    if not hit("token-ip", client_ip(request), limit=120, window=600):
        raise Http404
    return get_object_or_404(
        Appointment.objects.select_related("place__structure", "motif", "resident", "moved_to"),
        token=token,
    )


def _contact(place: Place) -> dict:
    """How a resident reaches the desk when the pages cannot help: the place's phone first (it
    is where they go), else the structure's; the structure's e-mail."""
    phone = place.phone or place.structure.phone
    return {"contact_phone": phone or None, "contact_email": place.structure.email}


def appointment(request, token: str):
    """Screen 4 and the private link: the appointment, what to bring, cancel or move."""
    obj = _appointment(request, token)
    now = timezone.now()
    structure = obj.place.structure
    upcoming = obj.status == AppointmentStatus.BOOKED and obj.starts_at > now
    can_change = upcoming and now <= obj.starts_at - timedelta(hours=structure.cancel_cutoff_hours)
    moved_to = obj.moved_to if obj.is_moved_away else None
    return render(
        request,
        "bookings/public/appointment.html",
        {
            "appointment": obj,
            "structure": structure,
            "place": obj.place,
            "local_start": wall_time(obj.starts_at, obj.place.tzinfo),
            "upcoming": upcoming,
            "can_change": can_change,
            "is_new": "nouveau" in request.GET,
            # A same-day booking gets no reminder (bookings.notifications.reminder_time).
            "reminder_planned": "nouveau" in request.GET
            and obj.notifications.filter(kind=MessageKind.REMINDER).exists(),
            "moved_to": moved_to,
            "moved_start": wall_time(moved_to.starts_at, obj.place.tzinfo) if moved_to else None,
            "cutoff_hours": structure.cancel_cutoff_hours,
            **_contact(obj.place),
        },
    )


@require_http_methods(["GET", "POST"])
def cancel(request, token: str):
    """Cancelling takes two steps: the private page links here, and this page asks "Oui,
    annuler" or "Non, garder". A POST without the answer (an old page's one-click form) only
    shows the question."""
    obj = _appointment(request, token)
    if request.method == "POST" and request.POST.get("confirmer") == "oui":
        try:
            services.appointment_cancel(appointment=obj, by_resident=True)
        except ValidationError as error:
            from django.contrib import messages

            messages.error(request, " ".join(error.messages))
        return redirect("public_appointment", token=token)
    now = timezone.now()
    structure = obj.place.structure
    cutoff = obj.starts_at - timedelta(hours=structure.cancel_cutoff_hours)
    if obj.status != AppointmentStatus.BOOKED or now > cutoff:
        return redirect("public_appointment", token=token)
    return render(
        request,
        "bookings/public/cancel.html",
        {
            "appointment": obj,
            "structure": structure,
            "place": obj.place,
            "local_start": wall_time(obj.starts_at, obj.place.tzinfo),
        },
    )


@require_http_methods(["GET", "POST"])
def move(request, token: str):
    """Moving takes two steps, like cancelling: the free times (with the current one recalled),
    then "Confirmer le déplacement" showing the current and the new time. A GET never moves,
    and a POST without the answer (an old page's one-click form) only shows the question."""
    obj = _appointment(request, token)
    if not obj.place.structure.booking_published:
        return _draft(request, obj.place.structure)
    now = timezone.now()
    structure = obj.place.structure
    cutoff = obj.starts_at - timedelta(hours=structure.cancel_cutoff_hours)
    if obj.status != AppointmentStatus.BOOKED or now > cutoff:
        return redirect("public_appointment", token=token)
    tz = obj.place.tzinfo
    current = {
        "appointment": obj,
        "moving": True,
        "current_start": wall_time(obj.starts_at, tz),
    }
    params = request.POST if request.method == "POST" else request.GET
    taken_message = None
    if "debut" in params:
        starts_at = _parse_start(params.get("debut"))
        if starts_at is None or starts_at == obj.starts_at:
            taken_message = _("Choisissez un horaire dans la liste.")
        elif request.method == "POST" and request.POST.get("confirmer") == "oui":
            try:
                new = services.appointment_move(
                    appointment=obj, starts_at=starts_at, by_resident=True, now=now
                )
            except services.SlotTaken as error:
                taken_message = error.messages[0]
            except ValidationError as error:
                taken_message = " ".join(error.messages)
            else:
                return redirect(
                    reverse("public_appointment", kwargs={"token": new.token}) + "?nouveau=1"
                )
        else:
            return render(
                request,
                "bookings/public/move_confirm.html",
                {
                    **current,
                    "structure": structure,
                    "place": obj.place,
                    "motif": obj.motif,
                    "new_start": wall_time(starts_at, tz),
                    "new_start_value": starts_at.isoformat(),
                },
            )
    if taken_message is not None:
        context = _slots_context(structure, obj.place, obj.motif, now=now)
        context.update(current, taken_message=taken_message)
        return render(request, "bookings/public/slots.html", context, status=409)
    context = _slots_context(
        structure,
        obj.place,
        obj.motif,
        after=_parse_start(request.GET.get("apres")),
        now=now,
        chosen=_parse_start(request.GET.get("choisi")),
    )
    context.update(current)
    return render(request, "bookings/public/slots.html", context)


def calendar_file(request, token: str):
    """The appointment's calendar event as it is now, whatever became of it: a moved
    appointment's old link serves the new time (same event), a cancelled one the cancellation
    (see bookings/ics.py)."""
    from bookings.ics import appointment_ics, current_version

    obj = current_version(_appointment(request, token))
    response = HttpResponse(appointment_ics(obj), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="rendez-vous.ics"'
    return response


@require_http_methods(["GET", "POST"])
def waitlist(request, structure: str):
    structure = _structure(structure)
    if not structure.booking_published:
        return _draft(request, structure)
    place, motif = _choice(structure, request.GET)
    form = WaitlistForm(
        request.POST or None,
        regions=phone_regions([place]),
        phone_codes=structure.online_phone_codes,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if data["website"]:
            form.add_error(None, _("Votre demande n'a pas pu être enregistrée."))
        elif not hit("waitlist-ip", client_ip(request), limit=10, window=3600) or not hit(
            "waitlist-phone", str(data["phone"]), limit=3, window=24 * 3600
        ):
            form.add_error(
                None, _("Trop de demandes. Réessayez plus tard, ou appelez la structure.")
            )
        else:
            try:
                services.waitlist_join(
                    place=place,
                    motif=motif,
                    first_name=data["first_name"],
                    phone=data["phone"],
                    language=request.LANGUAGE_CODE,
                )
            except ValidationError as error:
                from mediation.views.staff import add_service_errors

                add_service_errors(form, error)
            else:
                return render(
                    request,
                    "bookings/public/waitlist_done.html",
                    {
                        "structure": structure,
                        "place": place,
                        "motif": motif,
                        "waitlist_days": settings.WAITLIST_DAYS,
                    },
                )
    return render(
        request,
        "bookings/public/waitlist.html",
        {"structure": structure, "place": place, "motif": motif, "form": form},
        status=400 if form.errors else 200,
    )


def _waitlist_entry(request, token: str) -> WaitlistEntry:
    if not hit("token-ip", client_ip(request), limit=120, window=600):
        raise Http404
    return get_object_or_404(
        WaitlistEntry.objects.select_related("place__structure", "motif"), token=token
    )


@require_http_methods(["GET", "POST"])
def waitlist_entry(request, token: str):
    """The private link of a waiting-list entry (sent in the offer SMS): the free times of its
    motif and place, and "Quitter la liste d'attente" (one POST, nothing changes on a GET)."""
    entry = _waitlist_entry(request, token)
    left = False
    if request.method == "POST" and request.POST.get("quitter") == "oui":
        left = services.waitlist_leave(entry=entry)
        entry.refresh_from_db()
    query = urlencode({"lieu": entry.place_id, "motif": entry.motif_id})
    return render(
        request,
        "bookings/public/waitlist_entry.html",
        {
            "entry": entry,
            "structure": entry.place.structure,
            "place": entry.place,
            "motif": entry.motif,
            "active": entry.is_active(),
            "expires_local": wall_time(entry.expires_at, entry.place.tzinfo),
            "just_left": left,
            "slots_url": reverse("public_slots", kwargs={"structure": entry.place.structure.slug})
            + f"?{query}",
            **_contact(entry.place),
        },
    )


@csp_replace({"frame-ancestors": ["*"]})
@xframe_options_exempt
@require_GET
def embed(request, structure: str):
    """The one page another site may show in an iframe (a mairie's website): the structure's
    (or, with `?lieu=`, one place's) services, each a link that opens the booking pages in a
    new tab. Those pages keep X-Frame-Options DENY and `frame-ancestors 'none'`; only this
    view is exempt. `bookings/static/bookings/embed_frame.js` tells the host page its height
    (`embed.js`, the snippet's script, resizes the iframe)."""
    structure = _structure(structure)
    places = list(Place.objects.filter(structure=structure, is_active=True).order_by("name"))
    place = None
    if request.GET.get("lieu"):
        place = next((p for p in places if str(p.pk) == request.GET["lieu"]), None)
        if place is None:
            raise Http404
    motifs = list(Motif.objects.bookable_online().filter(structure=structure).order_by("name"))
    target_place = place or (places[0] if len(places) == 1 else None)
    links = []
    for motif in motifs:
        if target_place is not None:
            url = reverse("public_slots", kwargs={"structure": structure.slug})
            query = {"lieu": target_place.pk, "motif": motif.pk}
        else:
            url = reverse("public_start", kwargs={"structure": structure.slug})
            query = {"motif_choisi": motif.pk}
        links.append({"motif": motif, "url": f"{url}?{urlencode(query)}"})
    start = reverse("public_start", kwargs={"structure": structure.slug})
    if place is not None:
        start += f"?{urlencode({'lieu_choisi': place.pk})}"
    return render(
        request,
        "bookings/public/embed.html",
        {
            "structure": structure,
            "place": place,
            "links": links,
            "start_url": start,
            "published": structure.booking_published,
        },
    )


def privacy(request):
    return render(request, "bookings/public/privacy.html")
