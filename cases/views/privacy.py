"""Residents' rights at the desk: the right-of-access export (JSON and PDF) and erasure or
objection (anonymisation), for mediators and structure admins of the resident's own structure.
Services live in mediation.privacy; every export and erasure is written to the access log."""

from __future__ import annotations

import json

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from mediation.access import structure_view
from mediation.audit import AccessAction, access_record
from mediation.privacy import AnonymisationReason, resident_anonymise, resident_data
from mediation.privacy_pdf import render_resident_pdf
from mediation.scoping import access_object
from mediation.selectors import own_residents


class EraseForm(forms.Form):
    reason = forms.ChoiceField(
        label=gettext_lazy("Motif"),
        choices=[
            (AnonymisationReason.REQUEST, AnonymisationReason.REQUEST.label),
            (AnonymisationReason.OBJECTION, AnonymisationReason.OBJECTION.label),
        ],
        widget=forms.RadioSelect,
    )
    confirm = forms.BooleanField(
        label=gettext_lazy(
            "Je confirme : l'identité, les coordonnées et les notes seront effacées définitivement."
        ),
    )


def _own_followed_resident(request, structure, resident):
    return access_object(
        own_residents(request.user, structure).followed(),
        request.user,
        "manage_residents",
        pk=resident,
    )


def _export(request, structure, person) -> dict:
    access_record(
        user=request.user,
        action=AccessAction.RESIDENT_EXPORT,
        structure=structure,
        object_type="resident",
        object_id=person.pk,
    )
    return resident_data(resident=person)


@structure_view("manage_residents")
@require_GET
def resident_export_json(request, structure, resident: int):
    """Everything held on the resident, as JSON (right of access)."""
    person = _own_followed_resident(request, structure, resident)
    body = json.dumps(_export(request, structure, person), ensure_ascii=False, indent=2)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="usager-{person.pk}.json"'
    return response


@structure_view("manage_residents")
@require_GET
def resident_export_pdf(request, structure, resident: int):
    """Everything held on the resident, as a PDF they can read (right of access)."""
    person = _own_followed_resident(request, structure, resident)
    pdf = render_resident_pdf(_export(request, structure, person), structure_name=structure.name)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="usager-{person.pk}.pdf"'
    return response


@structure_view("manage_residents")
@require_http_methods(["GET", "POST"])
def resident_erase(request, structure, resident: int):
    """Erasure on request, or objection: a confirmation page, then the anonymisation."""
    person = _own_followed_resident(request, structure, resident)
    form = EraseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        resident_anonymise(resident=person, by=request.user, reason=form.cleaned_data["reason"])
        access_record(
            user=request.user,
            action=AccessAction.RESIDENT_ERASE,
            structure=structure,
            object_type="resident",
            object_id=person.pk,
        )
        messages.success(
            request,
            _("La fiche est anonymisée : l'identité, les coordonnées et les notes sont effacées."),
        )
        return redirect(
            reverse("resident_detail", kwargs={"structure": structure.slug, "resident": person.pk})
        )
    return render(
        request,
        "cases/residents/erase.html",
        {"structure": structure, "resident": person, "form": form},
    )
