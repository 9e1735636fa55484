""" "À réaffecter": the upcoming appointments of someone who no longer takes appointments in the
structure (removed from it, role changed, account deactivated), to give to a colleague or to
cancel. Mounted under /s/<structure>/agenda/a-reaffecter/ (`book_at_desk`: the same people who
may cancel an appointment and book one with any colleague at the desk)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from bookings import selectors
from bookings.choices import AppointmentStatus
from bookings.forms.agenda import ReassignForm
from bookings.models import Appointment
from bookings.services import booking as services
from bookings.slots import TICK, free_slots
from mediation.access import structure_view
from mediation.clock import wall_time
from mediation.scoping import access_object
from mediation.views.staff import add_service_errors

#: Appointments listed on one page (the oldest first: the most urgent).
PAGE_SIZE = 50


def _local(moment, place):
    return wall_time(moment, place.tzinfo)


def _list_url(structure) -> str:
    return reverse("agenda_reassign_list", kwargs={"structure": structure.slug})


@structure_view("book_at_desk")
@require_GET
def reassign_list(request, structure):
    rows = selectors.appointments_to_reassign(request.user, structure)
    appointments = list(rows[: PAGE_SIZE + 1])
    more = len(appointments) > PAGE_SIZE
    appointments = appointments[:PAGE_SIZE]
    back = _list_url(structure)
    for appointment in appointments:
        appointment.display_start = _local(appointment.starts_at, appointment.place)
        appointment.display_end = _local(appointment.ends_at, appointment.place)
        appointment.reassign_url = reverse(
            "agenda_reassign",
            kwargs={"structure": structure.slug, "appointment": appointment.pk},
        )
        appointment.cancel_url = (
            reverse(
                "agenda_appointment_cancel",
                kwargs={"structure": structure.slug, "appointment": appointment.pk},
            )
            + "?"
            + urlencode({"next": back})
        )
    return render(
        request,
        "bookings/agenda/reassign_list.html",
        {
            "structure": structure,
            "appointments": appointments,
            "more": more,
            "total": rows.count() if more else len(appointments),
        },
    )


def _free_colleagues(appointment, colleagues) -> list:
    """The colleagues offered this very time for the motif at the place (desk rules): three
    queries whatever their number."""
    offered = free_slots(
        place=appointment.place,
        motif=appointment.motif,
        start=appointment.starts_at,
        end=appointment.starts_at + TICK,
        respect_booking_window=False,
    )
    free_ids = {slot.mediator_id for slot in offered if slot.starts_at == appointment.starts_at}
    return [person for person in colleagues if person.pk in free_ids]


@structure_view("book_at_desk")
@require_http_methods(["GET", "POST"])
def reassign(request, structure, appointment: int):
    """Give one appointment to a colleague free at that time, or go and cancel it."""
    obj = access_object(
        Appointment.objects.select_related("place", "motif", "mediator", "resident"),
        request.user,
        "book_at_desk",
        pk=appointment,
        place__structure=structure,
    )
    colleagues_qs = selectors.reassign_colleagues(request.user, structure).exclude(
        pk=obj.mediator_id
    )
    form = ReassignForm(request.POST or None, colleagues=colleagues_qs)
    upcoming = obj.status == AppointmentStatus.BOOKED and obj.starts_at > timezone.now()
    if request.method == "POST" and form.is_valid():
        try:
            services.appointment_reassign(
                appointment=obj, mediator=form.cleaned_data["mediator"], by=request.user
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            local = _local(obj.starts_at, obj.place)
            messages.success(
                request,
                _("Le rendez-vous de %(resident)s du %(day)s à %(time)s est confié à %(name)s.")
                % {
                    "resident": obj.resident,
                    "day": local.strftime("%d/%m/%Y"),
                    "time": local.strftime("%H:%M"),
                    "name": form.cleaned_data["mediator"].get_full_name(),
                },
            )
            return redirect(_list_url(structure))
    colleagues = list(colleagues_qs)
    free = _free_colleagues(obj, colleagues) if upcoming else []
    # Only those free then are offered; a choice posted meanwhile keeps its error at the field.
    form.fields["mediator"].queryset = colleagues_qs.filter(pk__in=[p.pk for p in free])
    return render(
        request,
        "bookings/agenda/reassign.html",
        {
            "structure": structure,
            "appointment": obj,
            "starts": _local(obj.starts_at, obj.place),
            "ends": _local(obj.ends_at, obj.place),
            "form": form,
            "upcoming": upcoming,
            "has_free": bool(free),
            "busy_count": len(colleagues) - len(free),
            "cancel_url": reverse(
                "agenda_appointment_cancel",
                kwargs={"structure": structure.slug, "appointment": obj.pk},
            )
            + "?"
            + urlencode({"next": _list_url(structure)}),
            "back_url": _list_url(structure),
        },
        status=400 if form.errors else 200,
    )


def reassign_count(user, structure) -> int:
    """How many appointments wait to be reassigned (the links' badge): one query."""
    return selectors.appointments_to_reassign(user, structure).count()
