"""The desk agenda (day and week), the outcome and cancellation of appointments, and booking
for a resident who calls or stands at the desk. Views are thin: form → selector or service."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from bookings import actions, selectors
from bookings.choices import AppointmentStatus
from bookings.forms.agenda import (
    ALL_MEDIATORS,
    AgendaFilterForm,
    DeskBookingForm,
    DeskResidentForm,
    ResidentSearchForm,
    SlotSearchForm,
    format_slot_start,
)
from bookings.models import Appointment
from bookings.services import agenda as services_agenda
from bookings.services import booking as services
from bookings.slots import free_slots, is_offered
from mediation.access import structure_view
from mediation.clock import wall_time
from mediation.models import Resident
from mediation.permissions import user_can
from mediation.phones import is_mobile, looks_like_phone, phone_regions
from mediation.scoping import access_object
from mediation.search_terms import (
    URL_PARAM,
    search_data,
    search_term,
    search_term_keep,
    search_via_post,
)
from mediation.selectors import own_residents
from mediation.services import resident_create
from mediation.views.staff import add_service_errors

S = AppointmentStatus

BADGES = {
    S.BOOKED: "text-bg-primary",
    S.SEEN: "text-bg-success",
    S.NO_SHOW: "text-bg-warning",
    S.CANCELLED_BY_RESIDENT: "text-bg-secondary",
    S.CANCELLED_BY_STAFF: "text-bg-secondary",
}
MOVED_BADGE = "text-bg-info"
#: Short labels of the outcome buttons (the badge shows the full status label).
OUTCOME_BUTTONS = {S.SEEN: gettext_lazy("Honoré"), S.NO_SHOW: gettext_lazy("Absent")}
SLOT_PAGE_DAYS = 14
ALTERNATIVES = 10


def _agenda_url(structure, *, week=False, **params) -> str:
    name = "agenda_week" if week else "agenda"
    url = reverse(name, kwargs={"structure": structure.slug})
    query = {k: v for k, v in params.items() if v not in (None, "")}
    return f"{url}?{urlencode(query)}" if query else url


# --- Agenda ---------------------------------------------------------------------------------


@structure_view("book_at_desk")
@require_GET
def agenda(request, structure, week: bool = False):
    """Today's appointments by default, or a week's; by place and by mediator."""
    places_qs = selectors.agenda_places(request.user, structure)
    places = list(places_qs)
    mediators = list(selectors.structure_mediators(request.user, structure))
    form = AgendaFilterForm(
        request.GET if request.GET else None, places=places_qs, mediators=mediators
    )
    if form.is_bound:
        form.is_valid()  # what is invalid falls back to its default, with a warning
    data = getattr(form, "cleaned_data", {})

    place = data.get("place")
    tz = place.tzinfo if place else selectors.structure_time_zone(places)
    today = timezone.localdate(timezone=tz)
    day = data.get("day") or today

    mediator_value = data.get("mediator") or ""
    mediator_ids = {m.pk for m in mediators}
    if not mediator_value:
        # The mediator's own appointments when they hold opening hours here, else everyone's.
        mediator_value = str(request.user.pk) if request.user.pk in mediator_ids else ALL_MEDIATORS
    mediator_id = None if mediator_value == ALL_MEDIATORS else int(mediator_value)
    if not form.errors:
        # Show what is displayed, defaults included (the day of a week view, "me"…).
        form = AgendaFilterForm(
            initial={"day": day, "place": place, "mediator": mediator_value},
            places=places_qs,
            mediators=mediators,
        )

    if week:
        first_day = day - timedelta(days=day.weekday())
        last_day = first_day + timedelta(days=6)
        step = timedelta(days=7)
    else:
        first_day = last_day = day
        step = timedelta(days=1)
    days = selectors.agenda_appointments(
        request.user,
        structure,
        first_day=first_day,
        last_day=last_day,
        places=places_qs,
        place=place,
        mediator_id=mediator_id,
    )
    now = timezone.now()
    count = 0
    actions.prepare_appointments(
        (a for agenda_day in days for a in agenda_day.appointments), request.user
    )
    for agenda_day in days:
        for appointment in agenda_day.appointments:
            count += 1
            decorate_appointment(appointment, now)
            appointment.extra_actions = actions.actions_for(structure, appointment, now)

    keep = {"place": place.pk if place else None, "mediator": mediator_value}
    context = {
        "structure": structure,
        "form": form,
        "days": days,
        "week": week,
        "day": day,
        "today": today,
        "first_day": first_day,
        "last_day": last_day,
        "count": count,
        "place": place,
        "show_place": place is None and len(places) > 1,
        "show_mediator": mediator_id is None,
        "mediator_name": next((m.get_full_name() for m in mediators if m.pk == mediator_id), None),
        "previous_url": _agenda_url(structure, week=week, day=day - step, **keep),
        "next_url": _agenda_url(structure, week=week, day=day + step, **keep),
        "today_url": _agenda_url(structure, week=week, day=today, **keep),
        "day_url": _agenda_url(structure, day=day, **keep),
        "week_url": _agenda_url(structure, week=True, day=day, **keep),
        "book_url": reverse("agenda_book", kwargs={"structure": structure.slug}),
        # A mediator's own appointments on their phone (bookings/views/feed.py).
        "can_subscribe": user_can(request.user, "take_appointments", structure),
        "to_reassign": selectors.appointments_to_reassign(request.user, structure).count(),
        "reassign_url": reverse("agenda_reassign_list", kwargs={"structure": structure.slug}),
        "here": request.get_full_path(),
        "no_places": not places,
    }
    return render(request, "bookings/agenda/agenda.html", context)


def decorate_appointment(appointment: Appointment, now: datetime) -> None:
    """What the agenda (and "Ma journée") shows of an appointment: badge and the actions that
    would succeed."""
    appointment.badge_class = BADGES.get(appointment.status, "text-bg-light")
    appointment.is_cancelled = appointment.status in (
        S.CANCELLED_BY_RESIDENT,
        S.CANCELLED_BY_STAFF,
    )
    appointment.moved_to_start = None
    if appointment.is_moved_away:
        # Not a cancellation to the desk: the resident still comes, at the new time.
        appointment.badge_class = MOVED_BADGE
        appointment.moved_to_start = wall_time(
            appointment.moved_to.starts_at, appointment.place.tzinfo
        )
    appointment.outcome_actions = [
        (status, label)
        for status, label in OUTCOME_BUTTONS.items()
        if services.status_refusal(appointment=appointment, to=status, now=now) is None
    ]
    appointment.can_cancel = appointment.status == S.BOOKED and appointment.starts_at > now
    appointment.display_start = wall_time(appointment.starts_at, appointment.place.tzinfo)
    appointment.display_end = wall_time(appointment.ends_at, appointment.place.tzinfo)


def _back_to_agenda(request, structure, appointment: Appointment):
    target = request.POST.get("next", "")
    # A path of this site only: redirect() would take a word such as "agenda" for a view
    # name and fail to reverse it.
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return HttpResponseRedirect(target)
    day = timezone.localtime(appointment.starts_at, appointment.place.tzinfo).date()
    return redirect(_agenda_url(structure, day=day.isoformat(), mediator=ALL_MEDIATORS))


@structure_view("book_at_desk")
@require_POST
def appointment_status(request, structure, appointment: int):
    obj = access_object(
        Appointment.objects.select_related("place", "resident"),
        request.user,
        "book_at_desk",
        pk=appointment,
        place__structure=structure,
    )
    status = request.POST.get("status", "")
    try:
        obj = services_agenda.appointment_record_outcome(
            appointment=obj, status=status, by=request.user
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("Rendez-vous de %(resident)s : « %(status)s ».")
            % {"resident": obj.resident, "status": obj.get_status_display()},
        )
    return _back_to_agenda(request, structure, obj)


@structure_view("book_at_desk")
@require_http_methods(["GET", "POST"])
def appointment_cancel(request, structure, appointment: int):
    """Confirm, then cancel: the seat is freed and the services tell the resident."""
    obj = access_object(
        Appointment.objects.select_related("place", "motif", "mediator", "resident"),
        request.user,
        "book_at_desk",
        pk=appointment,
        place__structure=structure,
    )
    if request.method == "POST":
        try:
            services.appointment_cancel(appointment=obj, by_resident=False, by=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request,
                _("Le rendez-vous de %(resident)s est annulé ; le créneau est de nouveau libre.")
                % {"resident": obj.resident},
            )
        return _back_to_agenda(request, structure, obj)
    back = request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = ""
    return render(
        request,
        "bookings/agenda/cancel.html",
        {
            "structure": structure,
            "appointment": obj,
            "starts": wall_time(obj.starts_at, obj.place.tzinfo),
            "ends": wall_time(obj.ends_at, obj.place.tzinfo),
            "sms": bool(obj.resident.phone) and is_mobile(obj.resident.phone),
            "back_url": back
            or _agenda_url(
                structure,
                day=timezone.localtime(obj.starts_at, obj.place.tzinfo).date().isoformat(),
                mediator=ALL_MEDIATORS,
            ),
            "can_cancel": obj.status == S.BOOKED,
        },
    )


# --- Booking at the desk --------------------------------------------------------------------


def _access_resident(request, structure, resident):
    return access_object(
        Resident.objects.followed(),
        request.user,
        "book_at_desk",
        pk=resident,
        structure=structure,
    )


@structure_view("book_at_desk")
@require_http_methods(["GET", "POST"])
@search_via_post
def book_resident(request, structure):
    """Step 1: find the resident (name without accents, or phone in any format), or create
    them with the minimum data."""
    places = list(selectors.agenda_places(request.user, structure))
    regions = phone_regions(places)
    search = ResidentSearchForm(search_data(request))
    query = search.cleaned_data["q"] if search.is_bound and search.is_valid() else ""
    # "Prendre rendez-vous" from the waiting list: the entry's mobile is searched, its first
    # name and number fill the new resident's form, its place and motif the next step.
    entry = (
        selectors.waitlist_entry_for_desk(request.user, structure, request.GET["attente"])
        if "attente" in request.GET
        else None
    )
    slot_query = ""
    if entry is not None:
        slot_query = "?" + urlencode({"place": entry.place_id, "motif": entry.motif_id})
        if not search.is_bound:
            query = entry.phone.as_national
    results, total = (
        selectors.book_resident_matches(request.user, structure, query, regions=regions)
        if query
        else ([], 0)
    )
    create = DeskResidentForm(
        request.POST or None,
        regions=regions,
        residents=own_residents(request.user, structure).followed(),
    )
    if request.method == "POST" and create.is_valid():
        try:
            resident = resident_create(structure=structure, by=request.user, **create.cleaned_data)
        except ValidationError as error:
            add_service_errors(create, error)
        else:
            messages.success(request, _("%(name)s est enregistré·e.") % {"name": resident})
            url = reverse(
                "agenda_book_slot", kwargs={"structure": structure.slug, "resident": resident.pk}
            )
            return redirect(url + slot_query)
    if entry is not None and not create.is_bound and not results:
        create.initial = {"first_name": entry.first_name, "phone": entry.phone.as_national}
    elif query and not create.is_bound:
        # A name that found no one is probably the new resident's: save typing it twice.
        words = query.split()
        if not looks_like_phone(query) and len(words) >= 2 and not results:
            create.initial = {"first_name": words[0], "last_name": " ".join(words[1:])}
        elif looks_like_phone(query) and not results:
            create.initial = {"phone": query}
    return render(
        request,
        "bookings/agenda/book_resident.html",
        {
            "structure": structure,
            "search": search,
            "query": query,
            "results": results,
            "total": total,
            "create": create,
            "step": 1,
            "waitlist_entry": entry,
            "slot_query": slot_query,
        },
    )


def _slot_link(structure, resident, *, place, motif, slot, need_key: str = "") -> str:
    url = reverse(
        "agenda_book_confirm", kwargs={"structure": structure.slug, "resident": resident.pk}
    )
    query = {
        "place": place.pk,
        "motif": motif.pk,
        "mediator": slot.mediator_id,
        "starts_at": format_slot_start(slot.starts_at),
    }
    if need_key:
        # The need typed before the slot was lost: free text, kept in the session, not in
        # the URL (mediation/search_terms.py).
        query[URL_PARAM] = need_key
    return f"{url}?{urlencode(query)}"


def _one_per_start(slots, prefer_mediator_id: int | None):
    """One slot per start time (the person at the desk picks a time; who follows from it),
    preferring the signed-in mediator's own."""
    chosen = {}
    for slot in slots:
        current = chosen.get(slot.starts_at)
        if current is None or (
            slot.mediator_id == prefer_mediator_id and current.mediator_id != prefer_mediator_id
        ):
            chosen[slot.starts_at] = slot
    return [chosen[k] for k in sorted(chosen)]


def _slot_days(structure, resident, *, place, motif, slots, need_key: str = ""):
    """Free slots grouped by local day, each with its label and link."""
    tz = place.tzinfo
    days: dict[date, list] = {}
    for slot in slots:
        local = wall_time(slot.starts_at, tz)
        days.setdefault(local.date(), []).append(
            {
                "start": local,
                "seats_left": slot.seats_left if motif.is_collective else None,
                "url": _slot_link(
                    structure, resident, place=place, motif=motif, slot=slot, need_key=need_key
                ),
            }
        )
    return [{"day": day, "slots": items} for day, items in days.items()]


@structure_view("book_at_desk")
@require_GET
def book_slot(request, structure, resident: int):
    """Step 2: place, motif (staff-only ones included), optionally a mediator, then a free
    slot of the next two weeks (booking window not applied: staff may book at short notice)."""
    person = _access_resident(request, structure, resident)
    places_qs = selectors.agenda_places(request.user, structure)
    motifs_qs = selectors.desk_motifs(request.user, structure)
    mediators_qs = selectors.structure_mediators(request.user, structure)
    bound = "motif" in request.GET
    form = SlotSearchForm(
        request.GET if bound else None,
        places=places_qs,
        motifs=motifs_qs,
        mediators=mediators_qs,
        initial={} if bound else {"place": places_qs.first()},
    )
    context = {"structure": structure, "resident": person, "form": form, "step": 2}
    if bound and form.is_valid():
        place, motif = form.cleaned_data["place"], form.cleaned_data["motif"]
        mediator = form.cleaned_data["mediator"]
        tz = place.tzinfo
        today = timezone.localdate(timezone=tz)
        first_day = form.cleaned_data["start"] or today
        start = datetime.combine(first_day, time.min, tzinfo=tz)
        end = datetime.combine(first_day + timedelta(days=SLOT_PAGE_DAYS), time.min, tzinfo=tz)
        slots = free_slots(
            place=place,
            motif=motif,
            start=start,
            end=end,
            mediator_id=mediator.pk if mediator else None,
            respect_booking_window=False,
            respect_buffers=not form.cleaned_data["ignore_buffers"],
            respect_limits=not form.cleaned_data["ignore_buffers"],
        )
        if mediator is None:
            slots = _one_per_start(slots, request.user.pk)
        page = request.GET.copy()
        page.pop("submit", None)

        def page_url(day):
            page["start"] = day.isoformat()
            return f"?{page.urlencode()}"

        previous_day = max(first_day - timedelta(days=SLOT_PAGE_DAYS), today)
        context.update(
            place=place,
            motif=motif,
            mediator=mediator,
            first_day=first_day,
            last_day=first_day + timedelta(days=SLOT_PAGE_DAYS - 1),
            slot_days=_slot_days(structure, person, place=place, motif=motif, slots=slots),
            next_url=page_url(first_day + timedelta(days=SLOT_PAGE_DAYS)),
            previous_url=page_url(previous_day) if first_day > today else None,
        )
    return render(request, "bookings/agenda/book_slot.html", context)


def _alternatives(request, structure, resident, *, place, motif, after: datetime, need: str):
    """The next free slots after the one just lost, for the same resident and motif."""
    now = timezone.now()
    start = max(after, now)
    slots = free_slots(
        place=place,
        motif=motif,
        start=start,
        end=start + timedelta(days=SLOT_PAGE_DAYS),
        respect_booking_window=False,
    )
    slots = _one_per_start(slots, None)[:ALTERNATIVES]
    need_key = search_term_keep(request, need[:300]) if need else ""
    return _slot_days(structure, resident, place=place, motif=motif, slots=slots, need_key=need_key)


def _rules_to_override(data) -> tuple[bool, bool]:
    """(buffers, limits): is the chosen time free only when the motifs' buffers, or the
    motif's day limits, are ignored? The desk may then book it after a warning."""
    common = {
        "place": data["place"],
        "motif": data["motif"],
        "mediator_id": data["mediator"].pk,
        "starts_at": data["starts_at"],
        "respect_booking_window": False,
    }
    limits = data["motif"].has_limits
    buffers = data["motif"].has_buffers or _any_buffered_motif(data["place"].structure_id)
    if not (buffers or limits) or is_offered(**common) is not None:
        return False, False
    if is_offered(**common, respect_buffers=not buffers, respect_limits=not limits) is None:
        return False, False  # not offered whatever the desk overrides (taken, closed…)
    return (
        buffers and (not limits or is_offered(**common, respect_limits=False) is None),
        limits and (not buffers or is_offered(**common, respect_buffers=False) is None),
    )


def _any_buffered_motif(structure_id: int) -> bool:
    from django.db.models import Q

    from bookings.models import Motif

    return (
        Motif.objects.filter(structure_id=structure_id)
        .filter(Q(buffer_before_minutes__gt=0) | Q(buffer_after_minutes__gt=0))
        .exists()
    )


@structure_view("book_at_desk")
@require_http_methods(["GET", "POST"])
def book_confirm(request, structure, resident: int):
    """Step 3: check the slot, note the need, book. A slot taken meanwhile shows the next free
    ones; a tampered slot, place or motif is a form error, never a crash."""
    person = _access_resident(request, structure, resident)
    if request.method == "POST":
        data = request.POST
    else:
        data = request.GET.copy()
        data.pop("need", None)
        if URL_PARAM in data:  # a need kept from a slot lost meanwhile
            data["need"] = search_term(request) or ""
    form = DeskBookingForm(
        data,
        places=selectors.agenda_places(request.user, structure),
        motifs=selectors.desk_motifs(request.user, structure),
        mediators=selectors.structure_mediators(request.user, structure),
    )
    slot_taken = False
    valid = form.is_valid()
    data = dict(form.cleaned_data) if valid else {}
    # A time free only if the motifs' buffers are ignored: the desk may book it, after a
    # warning and a ticked box.
    # Likewise for a day where the motif's limit of appointments is reached.
    buffer_warning, limit_warning = _rules_to_override(data) if valid else (False, False)
    unconfirmed = False
    if request.method == "POST" and buffer_warning and not data["override_buffers"]:
        unconfirmed = True
        form.add_error(
            "override_buffers",
            _(
                "Cochez cette case pour réserver sur le temps libre prévu, ou choisissez un "
                "autre horaire."
            ),
        )
    if request.method == "POST" and limit_warning and not data["override_limits"]:
        unconfirmed = True
        form.add_error(
            "override_limits",
            _(
                "Cochez cette case pour dépasser le nombre de rendez-vous prévu ce jour-là, ou "
                "choisissez un autre jour."
            ),
        )
    if valid and request.method == "POST" and not unconfirmed:
        try:
            appointment = services.appointment_book(
                place=data["place"],
                motif=data["motif"],
                mediator=data["mediator"],
                starts_at=data["starts_at"],
                resident=person,
                by=request.user,
                need=data["need"],
                online=False,
                ignore_buffers=buffer_warning and data["override_buffers"],
                ignore_limits=limit_warning and data["override_limits"],
            )
        except ValidationError as error:
            slot_taken = getattr(error, "code", None) == "slot_taken"
            add_service_errors(form, error)
            form.hoist_hidden_errors()
        else:
            local = timezone.localtime(appointment.starts_at, appointment.place.tzinfo)
            messages.success(
                request,
                _("Rendez-vous pris pour %(resident)s le %(day)s à %(time)s (%(place)s).")
                % {
                    "resident": person,
                    "day": date_format(local.date(), "l j F"),
                    "time": local.strftime("%H:%M"),
                    "place": appointment.place.name,
                },
            )
            return redirect(
                _agenda_url(
                    structure,
                    day=local.date().isoformat(),
                    place=appointment.place_id,
                    mediator=ALL_MEDIATORS,
                )
            )
    elif (
        valid
        and not buffer_warning
        and not limit_warning
        and not is_offered(
            place=data["place"],
            motif=data["motif"],
            mediator_id=data["mediator"].pk,
            starts_at=data["starts_at"],
            respect_booking_window=False,
        )
    ):
        # Shown on arrival rather than after typing the need.
        slot_taken = True
        form.add_error(None, _("Ce créneau vient d'être pris. Choisissez un autre horaire."))

    context = {"structure": structure, "resident": person, "form": form, "step": 3}
    if valid:
        place = data["place"]
        context.update(
            place=place,
            motif=data["motif"],
            mediator=data["mediator"],
            starts=wall_time(data["starts_at"], place.tzinfo),
        )
        if slot_taken:
            context["alternatives"] = _alternatives(
                request,
                structure,
                person,
                place=place,
                motif=data["motif"],
                after=data["starts_at"],
                need=data.get("need", ""),
            )
        context["change_url"] = (
            reverse("agenda_book_slot", kwargs={"structure": structure.slug, "resident": person.pk})
            + "?"
            + urlencode(
                {
                    "place": place.pk,
                    "motif": data["motif"].pk,
                    "start": timezone.localtime(data["starts_at"], place.tzinfo).date().isoformat(),
                }
            )
        )
    else:
        context["change_url"] = reverse(
            "agenda_book_slot", kwargs={"structure": structure.slug, "resident": person.pk}
        )
    context["slot_taken"] = slot_taken
    context["buffer_warning"] = buffer_warning and not slot_taken
    context["limit_warning"] = limit_warning and not slot_taken
    context["can_confirm"] = valid and not slot_taken
    return render(request, "bookings/agenda/book_confirm.html", context)
