"""The waiting list at the desk: /s/<structure>/agenda/liste-attente/ (`book_at_desk`).

Each motif's entries still on the list (first come first), with the resident's mobile to call
and "Prendre rendez-vous", which opens the desk booking with the entry's number, first name,
place and motif filled in. Booking ends the entry (`services.waitlist_end_on_booking`)."""

from __future__ import annotations

from django.conf import settings
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET

from bookings import selectors
from bookings.forms.agenda import WaitlistFilterForm
from mediation.access import structure_view

#: Entries listed on one page (a list longer than this is the sign of a missing opening).
PAGE_SIZE = 200


@structure_view("book_at_desk")
@require_GET
def waitlist_list(request, structure):
    motifs = selectors.desk_motifs(request.user, structure).order_by("name")
    form = WaitlistFilterForm(request.GET or None, motifs=motifs)
    motif = form.cleaned_data["motif"] if form.is_bound and form.is_valid() else None
    rows = list(selectors.waitlist_entries(request.user, structure, motif=motif)[: PAGE_SIZE + 1])
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    book = reverse("agenda_book", kwargs={"structure": structure.slug})
    groups: dict = {}
    for entry in rows:
        entry.book_url = f"{book}?{urlencode({'attente': entry.pk})}"
        groups.setdefault(entry.motif, []).append(entry)
    return render(
        request,
        "bookings/agenda/waitlist.html",
        {
            "structure": structure,
            "form": form,
            "groups": list(groups.items()),
            "more": more,
            "waitlist_days": settings.WAITLIST_DAYS,
        },
        status=400 if form.errors else 200,
    )
