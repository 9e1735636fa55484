"""Case pages: open a case for a resident, the case page (status, attached sessions, timeline),
its edit page, and "Mes suivis". Views are thin: form → service or selector → render."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from bookings.selectors import structure_time_zone
from cases.choices import CLOSED_CASE_STATUSES, CaseStatus
from cases.forms.cases import (
    ALL_OPEN,
    EVERYONE,
    ME,
    CaseAttachForm,
    CaseEditForm,
    CaseNoteForm,
    CaseOpenForm,
    CaseTransitionForm,
    FollowupFilterForm,
    ResidentPickForm,
)
from cases.models import Case
from cases.selectors import cases as selectors
from cases.selectors.cases import FollowupFilters
from cases.services import cases as services
from mediation.access import structure_view
from mediation.audit import AccessAction, access_record
from mediation.clock import wall_time
from mediation.models import Place, Resident
from mediation.permissions import user_can
from mediation.scoping import access_object
from mediation.search_terms import search_data, search_via_post
from mediation.selectors import resident_pick
from mediation.views.staff import add_service_errors

FOLLOWUPS_PER_PAGE = 25
RESIDENT_PICK_RESULTS = 20

STATUS_BADGES = {
    CaseStatus.OPEN: "text-bg-primary",
    CaseStatus.IN_PROGRESS: "text-bg-info",
    CaseStatus.WAITING_RESIDENT: "text-bg-warning",
    CaseStatus.WAITING_ADMINISTRATION: "text-bg-warning",
    CaseStatus.RESOLVED: "text-bg-success",
    CaseStatus.ABANDONED: "text-bg-secondary",
    CaseStatus.REDIRECTED: "text-bg-dark",
}


def _time_zone(request, structure):
    places = Place.objects.visible_to(request.user).filter(structure=structure, is_active=True)
    return structure_time_zone(places.only("time_zone"))


def _resident_url(structure, resident) -> str:
    return reverse("resident_detail", kwargs={"structure": structure.slug, "resident": resident.pk})


def _access_case(request, structure, case) -> Case:
    return access_object(
        selectors.case_queryset(request.user),
        request.user,
        "follow_case",
        pk=case,
        structure=structure,
    )


def _case_url(structure, case) -> str:
    return reverse("case_detail", kwargs={"structure": structure.slug, "case": case.pk})


# --- Open a case ------------------------------------------------------------------------------


@structure_view("follow_case")
@require_http_methods(["GET", "POST"])
@search_via_post
def case_create(request, structure):
    """Open a case for the resident `?usager=<id>`; without one, find the resident first."""
    resident_id = request.GET.get("usager", "")
    if not resident_id:
        return _pick_resident(request, structure)
    resident = access_object(
        Resident.objects.followed().select_related("structure"),
        request.user,
        "follow_case",
        pk=resident_id,
    )
    referents = selectors.structure_referents(request.user, structure)
    initial = {}
    if request.method == "GET" and referents.filter(pk=request.user.pk).exists():
        initial["mediator"] = request.user.pk
    form = CaseOpenForm(request.POST or None, referents=referents, initial=initial)
    form.helper.form_action = f"?{urlencode({'usager': resident.pk})}"
    if request.method == "POST" and form.is_valid():
        try:
            case = services.case_open(
                structure=structure, resident=resident, by=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                _("Le dossier « %(title)s » est ouvert pour %(resident)s.")
                % {"title": case.title, "resident": resident},
            )
            return redirect(_case_url(structure, case))
    return render(
        request,
        "cases/cases/create.html",
        {
            "structure": structure,
            "resident": resident,
            "resident_url": _resident_url(structure, resident),
            "form": form,
        },
    )


def _pick_resident(request, structure):
    search = ResidentPickForm(search_data(request))
    query = search.cleaned_data["q"].strip() if search.is_bound and search.is_valid() else ""
    results, total = [], 0
    if query:
        results, total = resident_pick(
            Resident.objects.visible_to(request.user, "follow_case")
            .followed()
            .only("first_name", "last_name", "birth_year", "phone", "is_anonymous"),
            query,
            limit=RESIDENT_PICK_RESULTS,
        )
    return render(
        request,
        "cases/cases/pick_resident.html",
        {
            "structure": structure,
            "search": search,
            "query": query,
            "results": results,
            "total": total,
        },
    )


# --- The case page ----------------------------------------------------------------------------


def _transition_form(case, data=None) -> CaseTransitionForm:
    initial = {}
    today = timezone.localdate()
    if case.next_action_on and case.next_action_on >= today:
        initial["next_action_on"] = case.next_action_on
    return CaseTransitionForm(
        data,
        targets=services.allowed_targets(case),
        current_label=case.get_status_display(),
        initial=initial,
    )


def _note_form(case, data=None) -> CaseNoteForm:
    return CaseNoteForm(data, current_next_action=case.next_action_on)


def _render_case(request, structure, case, *, transition=None, note=None, attach=None, status=200):
    tz = _time_zone(request, structure)
    transition = transition or _transition_form(case)
    transition.helper.form_action = reverse(
        "case_transition", kwargs={"structure": structure.slug, "case": case.pk}
    )
    note = note or _note_form(case)
    note.helper.form_action = reverse(
        "case_note", kwargs={"structure": structure.slug, "case": case.pk}
    )
    attach = attach or CaseAttachForm(
        sessions=selectors.attachable_sessions(request.user, case),
        listed=selectors.attachable_session_list(request.user, case),
    )
    attach.helper.form_action = reverse(
        "case_attach", kwargs={"structure": structure.slug, "case": case.pk}
    )
    timeline = selectors.case_timeline(request.user, case, tz=tz)
    for entry in timeline:
        if entry.event is not None:
            entry.from_badge = STATUS_BADGES.get(entry.event.from_status, "text-bg-light")
            entry.to_badge = STATUS_BADGES.get(entry.event.to_status, "text-bg-light")
    context = {
        "structure": structure,
        "case": case,
        "resident": case.resident,
        "resident_url": _resident_url(structure, case.resident),
        "badge": STATUS_BADGES.get(case.status, "text-bg-light"),
        "badges": STATUS_BADGES,
        "is_closed": case.status in CLOSED_CASE_STATUSES,
        "status_since": wall_time(case.status_changed_at, tz),
        "opened_on": wall_time(case.opened_at, tz),
        "today": timezone.localdate(timezone=tz),
        "transition": transition,
        "note": note,
        "references": [
            entry
            for entry in timeline
            if entry.event is not None and entry.event.document_reference
        ],
        "attach": attach,
        "has_attachable": attach.has_choices,
        "timeline": timeline,
        "session_count": sum(1 for e in timeline if e.kind == "session"),
    }
    return render(request, "cases/cases/detail.html", context, status=status)


@structure_view("follow_case")
@require_GET
def case_detail(request, structure, case: int):
    obj = _access_case(request, structure, case)
    access_record(
        user=request.user,
        action=AccessAction.CASE_VIEW,
        structure=structure,
        object_type="case",
        object_id=obj.pk,
    )
    return _render_case(request, structure, obj)


@structure_view("follow_case")
@require_POST
def case_transition(request, structure, case: int):
    obj = _access_case(request, structure, case)
    form = _transition_form(obj, request.POST)
    if form.is_valid():
        try:
            obj = services.case_transition(case=obj, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                _("Le dossier est maintenant « %(status)s ».")
                % {"status": obj.get_status_display()},
            )
            return redirect(_case_url(structure, obj))
    return _render_case(request, structure, obj, transition=form)


@structure_view("follow_case")
@require_POST
def case_note(request, structure, case: int):
    """A note, a next-action date or a document reference, without changing the status."""
    obj = _access_case(request, structure, case)
    form = _note_form(obj, request.POST)
    if form.is_valid():
        try:
            services.case_add_note(case=obj, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("C'est noté dans l'historique du dossier."))
            return redirect(_case_url(structure, obj))
    return _render_case(request, structure, obj, note=form)


@structure_view("follow_case")
@require_POST
def case_attach(request, structure, case: int):
    obj = _access_case(request, structure, case)
    form = CaseAttachForm(
        request.POST,
        sessions=selectors.attachable_sessions(request.user, obj),
        listed=selectors.attachable_session_list(request.user, obj),
    )
    if form.is_valid():
        try:
            services.case_attach_session(
                case=obj, session=form.cleaned_data["session"], by=request.user
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("L'accompagnement est rattaché au dossier."))
            return redirect(_case_url(structure, obj))
    return _render_case(request, structure, obj, attach=form)


@structure_view("follow_case")
@require_http_methods(["GET", "POST"])
def case_edit(request, structure, case: int):
    obj = _access_case(request, structure, case)
    # A referent who left the team stays selectable until someone else takes over.
    referents = selectors.structure_referents(request.user, structure, also=obj.mediator_id)
    form = CaseEditForm(
        request.POST or None,
        referents=referents,
        initial={
            "title": obj.title,
            "procedure_area": obj.procedure_area,
            "mediator": obj.mediator_id,
            "next_action_on": obj.next_action_on,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.case_update(case=obj, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Le dossier est mis à jour."))
            return redirect(_case_url(structure, obj))
    return render(
        request,
        "cases/cases/edit.html",
        {"structure": structure, "case": obj, "form": form, "back_url": _case_url(structure, obj)},
    )


# --- Mes suivis -----------------------------------------------------------------------------


@structure_view("view_followups")
@require_GET
def followups(request, structure):
    """Open cases needing action: the mediator's own by default, the whole structure's for a
    coordinator (who sees residents' initials only: they work on anonymised figures)."""
    user = request.user
    is_desk = user_can(user, "follow_case", structure)
    # Whose cases the page shows first: a mediator's own (who they are, not what they may do).
    is_mediator = selectors.followups_of_own(user, structure)
    mediators = list(selectors.structure_mediators(user, structure))
    form = FollowupFilterForm(request.GET or None, mediators=mediators, can_be_me=is_mediator)
    data = {}
    if form.is_bound:
        form.is_valid()  # what is invalid falls back to its default
        data = {k: v for k, v in form.cleaned_data.items() if v}
    mediator_value = data.get("mediator") or (ME if is_mediator else EVERYONE)
    if mediator_value == ME:
        mediator_id = user.pk
    elif mediator_value == EVERYONE:
        mediator_id = None
    else:
        mediator_id = int(mediator_value)
    filters = FollowupFilters(
        status=data.get("status", ""),
        procedure_area=data.get("procedure_area", ""),
        mediator_id=mediator_id,
        all_open=data.get("show") == ALL_OPEN,
    )
    shown = {
        "show": ALL_OPEN if filters.all_open else "",
        "status": filters.status,
        "procedure_area": filters.procedure_area,
        "mediator": mediator_value,
    }
    if not form.errors:
        form = FollowupFilterForm(initial=shown, mediators=mediators, can_be_me=is_mediator)

    tz = _time_zone(request, structure)
    now = timezone.now()
    today = timezone.localdate(now, timezone=tz)
    cases = selectors.followup_cases(user, structure, filters, today=today, now=now)
    page = Paginator(cases, FOLLOWUPS_PER_PAGE).get_page(request.GET.get("page"))
    for case in page.object_list:
        selectors.decorate_followup(case, today=today, now=now, tz=tz, show_names=is_desk)
        case.badge_class = STATUS_BADGES.get(case.status, "text-bg-light")
    keep = {k: v for k, v in shown.items() if v}

    def page_url(number):
        return "?" + urlencode({**keep, "page": number})

    return render(
        request,
        "cases/cases/followups.html",
        {
            "structure": structure,
            "form": form,
            "page": page,
            "is_desk": is_desk,
            "filters": filters,
            "today": today,
            "previous_url": page_url(page.previous_page_number()) if page.has_previous() else "",
            "next_url": page_url(page.next_page_number()) if page.has_next() else "",
            "waiting_days": selectors.WAITING_TOO_LONG_DAYS,
        },
    )
