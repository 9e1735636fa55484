"""Residents at the desk: find one (name without accents, phone in any format, year of birth),
create one with the minimum data, their page (identity, network-sharing agreement, upcoming
appointments, sessions, cases), edit, and merge duplicates. Views are thin: form → selector
or service → render."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from bookings.selectors import agenda_places, resident_sms_opt_out
from bookings.services.receipts import sms_opt_out_lift
from cases.choices import CaseStatus, TagDimension, Theme
from cases.forms.residents import (
    MergeForm,
    ResidentCreateForm,
    ResidentForm,
    ResidentSearchForm,
    SharingForm,
    SmsResumeForm,
)
from cases.selectors import residents as selectors
from cases.services import residents as services
from mediation import selectors as core_selectors
from mediation import services as core_services
from mediation.access import structure_view
from mediation.audit import AccessAction, access_record
from mediation.models import Resident
from mediation.phones import phone_as_typed, phone_regions
from mediation.scoping import access_object
from mediation.search_terms import search_data, search_query_string, search_via_post
from mediation.views.staff import add_service_errors

IDENTITY_FIELDS = (
    "first_name",
    "last_name",
    "phone",
    "email",
    "birth_year",
    "age_band",
    "commune_insee",
    "gender",
    "status",
)
CASE_BADGES = {
    CaseStatus.OPEN: "text-bg-primary",
    CaseStatus.IN_PROGRESS: "text-bg-info",
    CaseStatus.WAITING_RESIDENT: "text-bg-warning",
    CaseStatus.WAITING_ADMINISTRATION: "text-bg-warning",
    CaseStatus.RESOLVED: "text-bg-success",
    CaseStatus.ABANDONED: "text-bg-secondary",
    CaseStatus.REDIRECTED: "text-bg-secondary",
}
THEME_LABELS = dict(Theme.choices)


def _regions(request, structure) -> list[str]:
    return phone_regions(list(agenda_places(request.user, structure)))


def _query(request) -> str:
    form = ResidentSearchForm(search_data(request))
    return form.cleaned_data["q"] if form.is_bound and form.is_valid() else ""


def _access_desk_resident(request, structure, resident, *, followed=False):
    """A resident the desk of `structure` works with (its own, or shared by its network)."""
    residents = core_selectors.desk_residents(request.user, structure)
    return access_object(
        residents.followed() if followed else residents,
        request.user,
        "manage_residents",
        pk=resident,
    )


def _access_own_resident(request, structure, resident):
    """A followed resident of `structure` itself: only its desk edits or merges it."""
    return access_object(
        core_selectors.own_residents(request.user, structure).followed(),
        request.user,
        "manage_residents",
        pk=resident,
    )


def _detail_url(structure, resident) -> str:
    return reverse("resident_detail", kwargs={"structure": structure.slug, "resident": resident.pk})


# --- Search and creation --------------------------------------------------------------------


@structure_view("manage_residents")
@require_http_methods(["GET", "POST"])
@search_via_post
def resident_search(request, structure):
    """One search box: words of the name, a phone number in any format, or a year of birth.
    Without a query, the residents seen most recently. The term never goes in the URL
    (`mediation.search_terms`)."""
    form = ResidentSearchForm(search_data(request))
    query = form.cleaned_data["q"] if form.is_bound and form.is_valid() else ""
    parsed = core_selectors.parse_resident_query(query, regions=_regions(request, structure))
    unreadable = bool(query) and parsed.empty
    results = core_selectors.resident_search(request.user, structure, parsed).select_related(
        "structure"
    )
    # Opening the list without a term shows the residents seen last: recorded too (names are
    # shown), but as a listing, without a term length (`AccessLog.action_label`).
    access_record(
        user=request.user,
        action=AccessAction.RESIDENT_SEARCH,
        structure=structure,
        term_length=len(query) if query else None,
    )
    if unreadable:
        results = results.none()
    page = Paginator(results, selectors.SEARCH_PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = selectors.with_open_cases(request.user, page.object_list)
    for resident in page:
        resident.shared_from = resident.structure if resident.structure_id != structure.pk else None
    create_url = reverse("resident_create", kwargs={"structure": structure.slug})
    # The same key prefills the new record (never the term itself in a link).
    kept = search_query_string(request) if query else ""
    return render(
        request,
        "cases/residents/search.html",
        {
            "structure": structure,
            "form": form,
            "query": query,
            "page": page,
            "page_query": kept,
            "create_url": f"{create_url}?{kept}" if kept else create_url,
        },
    )


def _initial_from_query(query: str, regions: list[str]) -> dict:
    """What the search box already says about the new resident: save typing it twice."""
    parsed = core_selectors.parse_resident_query(query, regions=regions)
    initial = {}
    if parsed.phones:
        initial["phone"] = query
    if len(parsed.years) == 1:
        initial["birth_year"] = parsed.years[0]
    words = [w for w in query.split() if not w.isdigit()]
    if parsed.words and not parsed.phones:
        initial["first_name"] = words[0].capitalize() if len(words) >= 2 else ""
        initial["last_name"] = " ".join(words[1:] if len(words) >= 2 else words)
    return initial


@structure_view("manage_residents")
@require_http_methods(["GET", "POST"])
def resident_create(request, structure):
    """A new followed resident with the minimum data. When the phone number, or the name and
    year of birth, are already known, the page shows those records first and asks before
    creating another one."""
    regions = _regions(request, structure)
    form = ResidentCreateForm(
        request.POST or None,
        regions=regions,
        initial=_initial_from_query(_query(request), regions),
    )
    duplicates = []
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        duplicates = selectors.resident_duplicates(
            request.user,
            structure,
            first_name=data["first_name"],
            last_name=data["last_name"],
            birth_year=data["birth_year"],
            phones=[data["phone"]] if data["phone"] else [],
        )
        if not duplicates or data["confirm_duplicate"]:
            try:
                resident = core_services.resident_create(
                    structure=structure,
                    by=request.user,
                    shared_with_network=data["shared_with_network"],
                    **{name: data[name] for name in IDENTITY_FIELDS},
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("La fiche de %(name)s est créée.") % {"name": resident})
                return redirect(_detail_url(structure, resident))
    for duplicate in duplicates:
        duplicate.shared_from = (
            duplicate.structure if duplicate.structure_id != structure.pk else None
        )
    return render(
        request,
        "cases/residents/form.html",
        {
            "structure": structure,
            "form": form,
            "duplicates": duplicates,
            "creating": True,
            "title": _("Nouvel usager"),
            "back_url": reverse("resident_search", kwargs={"structure": structure.slug}),
        },
    )


# --- A resident's page ----------------------------------------------------------------------


def _decorate_sessions(sessions) -> None:
    for session in sessions:
        session.theme_labels = [
            THEME_LABELS.get(tag.code, tag.code)
            for tag in session.tags.all()
            if tag.dimension == TagDimension.THEME
        ]


def _decorate_cases(cases, structure) -> None:
    for case in cases:
        case.badge_class = CASE_BADGES.get(case.status, "text-bg-light")
        case.elsewhere = case.structure if case.structure_id != structure.pk else None


@structure_view("manage_residents")
@require_GET
def resident_detail(request, structure, resident: int):
    """Minimum identity, the network-sharing agreement, upcoming appointments, open and closed
    cases, and every session (paginated): a fixed number of queries whatever the history."""
    person = _access_desk_resident(request, structure, resident)
    access_record(
        user=request.user,
        action=AccessAction.RESIDENT_VIEW,
        structure=structure,
        object_type="resident",
        object_id=person.pk,
    )
    own = person.structure_id == structure.pk
    today = timezone.localdate()
    sessions = Paginator(
        selectors.resident_sessions(request.user, person), selectors.SESSION_PAGE_SIZE
    ).get_page(request.GET.get("page"))
    _decorate_sessions(sessions)
    open_cases, closed_cases = selectors.resident_cases(request.user, person)
    _decorate_cases(open_cases + closed_cases, structure)
    for session in sessions:
        session.elsewhere = session.structure if session.structure_id != structure.pk else None
    return render(
        request,
        "cases/residents/detail.html",
        {
            "structure": structure,
            "resident": person,
            "own": own,
            "shared_from": None if own else person.structure,
            "in_network": structure.networks.exists(),
            "sharing_form": SharingForm(
                initial={"shared_with_network": person.shared_with_network}
            ),
            "sharing": None if person.is_anonymous else selectors.sharing_record(person),
            "appointments": selectors.resident_upcoming_appointments(request.user, person),
            "sms_opt_out": resident_sms_opt_out(request.user, person, structure),
            "open_cases": open_cases,
            "closed_cases": closed_cases,
            "sessions": sessions,
            "usager_query": urlencode({"usager": person.pk}),
            "today": today,
            "approx_age": today.year - person.birth_year if person.birth_year else None,
        },
    )


@structure_view("manage_residents")
@require_http_methods(["GET", "POST"])
def resident_edit(request, structure, resident: int):
    person = _access_own_resident(request, structure, resident)
    regions = _regions(request, structure)
    initial = {name: getattr(person, name) for name in IDENTITY_FIELDS}
    initial["phone"] = phone_as_typed(person.phone, regions)
    form = ResidentForm(request.POST or None, regions=regions, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            core_services.resident_update(
                resident=person,
                by=request.user,
                **{name: form.cleaned_data[name] for name in IDENTITY_FIELDS},
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("La fiche est enregistrée."))
            return redirect(_detail_url(structure, person))
    return render(
        request,
        "cases/residents/form.html",
        {
            "structure": structure,
            "resident": person,
            "form": form,
            "duplicates": [],
            "creating": False,
            "title": _("Modifier la fiche de %(name)s") % {"name": person},
            "back_url": _detail_url(structure, person),
        },
    )


@structure_view("manage_residents")
@require_http_methods(["GET", "POST"])
def resident_sms_resume(request, structure, resident: int):
    """Lift the STOP the resident's number gave to the structure, once they agreed to receive
    SMS again (a box the desk ticks; who and when go to the opt-out's history)."""
    person = _access_own_resident(request, structure, resident)
    opt_out = resident_sms_opt_out(request.user, person, structure)
    if opt_out is None:
        messages.info(request, _("Ce numéro n'a pas refusé les SMS de la structure."))
        return redirect(_detail_url(structure, person))
    form = SmsResumeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            sms_opt_out_lift(opt_out=opt_out, consent=form.cleaned_data["consent"], by=request.user)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Les SMS reprennent pour ce numéro."))
            return redirect(_detail_url(structure, person))
    return render(
        request,
        "cases/residents/sms_resume.html",
        {"structure": structure, "resident": person, "opt_out": opt_out, "form": form},
    )


@structure_view("manage_residents")
@require_POST
def resident_sharing(request, structure, resident: int):
    """Record the resident's answer about the network seeing their record (who and when go to
    the history)."""
    person = _access_own_resident(request, structure, resident)
    form = SharingForm(request.POST)
    form.is_valid()  # a checkbox: absent means "no"
    shared = bool(form.cleaned_data.get("shared_with_network"))
    try:
        core_services.resident_set_sharing(resident=person, shared=shared, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        if shared:
            messages.success(
                request, _("Accord enregistré : les structures du réseau peuvent voir la fiche.")
            )
        else:
            messages.success(
                request, _("Enregistré : la fiche n'est visible que par votre structure.")
            )
    return redirect(_detail_url(structure, person))


# --- Merge ----------------------------------------------------------------------------------


def _merge_message(result: services.MergeResult) -> str:
    sessions = result.sessions + result.workshops
    moved = [
        ngettext("%(n)s accompagnement", "%(n)s accompagnements", sessions) % {"n": sessions},
        ngettext("%(n)s dossier", "%(n)s dossiers", result.cases) % {"n": result.cases},
        ngettext("%(n)s rendez-vous", "%(n)s rendez-vous", result.appointments)
        % {"n": result.appointments},
    ]
    return _("Les deux fiches sont fusionnées. Rattachés à %(name)s : %(moved)s.") % {
        "name": result.resident,
        "moved": ", ".join(moved),
    }


@structure_view("manage_residents")
@require_http_methods(["GET", "POST"])
@search_via_post
def resident_merge(request, structure, resident: int):
    """Merge a duplicate into this resident: search the duplicate in the same structure
    (the search form POSTs, then `?r=<key>`), compare the two records (?doublon=<id>),
    confirm (POST)."""
    keep = _access_own_resident(request, structure, resident)
    visible = Resident.objects.visible_to(request.user, "manage_residents")
    query = _query(request)
    context = {"structure": structure, "resident": keep, "query": query}

    if request.method == "POST":
        form = MergeForm(request.POST, residents=visible)
        if form.is_valid():
            try:
                result = services.resident_merge(
                    keep=keep, remove=form.cleaned_data["remove"], by=request.user
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _merge_message(result))
                return redirect(_detail_url(structure, result.resident))
    elif "doublon" in request.GET:
        form = MergeForm({"remove": request.GET.get("doublon", "")}, residents=visible)
        if form.is_valid():
            refusal = services.merge_refusal(keep, form.cleaned_data["remove"])
            if refusal:
                form.add_error("remove", refusal)
    else:
        form = None
        if search_data(request) is None:
            # Duplicates usually share the last name: show them straight away.
            query = " ".join(keep.last_name.split())[:100]
            context["query"] = query
        regions = _regions(request, structure)
        context["candidates"] = selectors.merge_candidates(
            request.user,
            structure,
            keep,
            core_selectors.parse_resident_query(query, regions=regions),
        )
        context["search_form"] = ResidentSearchForm(initial={"q": query})

    if form is not None:
        remove = form.cleaned_data.get("remove") if form.is_valid() else None
        context.update(
            form=form,
            remove=remove,
            keep_summary=selectors.merge_summary(request.user, keep),
            remove_summary=selectors.merge_summary(request.user, remove) if remove else None,
            swap_url=(
                reverse(
                    "resident_merge", kwargs={"structure": structure.slug, "resident": remove.pk}
                )
                + "?"
                + urlencode({"doublon": keep.pk})
                if remove and remove.structure_id == structure.pk and not remove.is_anonymous
                else ""
            ),
        )
    return render(request, "cases/residents/merge.html", context)
