"""The access log of a structure, /s/<structure>/journal/: coordinators and structure admins
review who opened, searched or exported what (ids only). Mediators do not see it."""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from mediation.access import structure_view
from mediation.models import AccessAction, AccessLog, User

PAGE_SIZE = 50


class JournalFilterForm(forms.Form):
    action = forms.ChoiceField(
        label=_("Action"),
        required=False,
        choices=[("", _("Toutes"))] + list(AccessAction.choices),
    )
    person = forms.TypedChoiceField(
        label=_("Personne"), required=False, coerce=int, empty_value=None
    )

    def __init__(self, *args, people, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].choices = [("", _("Tout le monde"))] + [
            (user.pk, user.get_full_name() or user.email) for user in people
        ]


def _people(structure):
    """Who may appear in the log of `structure`: its members and its networks' coordinators."""
    condition = Q(memberships__structure=structure) | Q(
        network_memberships__network__in=structure.networks.values("pk")
    )
    return list(User.objects.filter(condition).distinct().order_by("last_name", "first_name"))


@structure_view("review_access_log")
@require_GET
def access_journal(request, structure):
    people = _people(structure)
    form = JournalFilterForm(request.GET or None, people=people)
    entries = AccessLog.objects.visible_to(request.user, "review_access_log").filter(
        structure=structure
    )
    filters = {}
    if form.is_bound and form.is_valid():
        if form.cleaned_data["action"]:
            filters["action"] = form.cleaned_data["action"]
            entries = entries.filter(action=filters["action"])
        if form.cleaned_data["person"]:
            filters["person"] = form.cleaned_data["person"]
            entries = entries.filter(user_id=filters["person"])
    page = Paginator(entries.select_related("user").order_by("-at", "-pk"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "mediation/journal.html",
        {
            "structure": structure,
            "form": form,
            "page": page,
            "page_query": urlencode(filters),
        },
    )
