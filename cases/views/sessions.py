"""The activity log at the desk: log a session after an appointment ("Terminer et saisir"), for
a walk-in (known or anonymous), or a workshop; edit, delete; the structure's recent sessions.

Mounted at /s/<structure>/accompagnements/. Views are thin: form → service → redirect."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.forms.utils import ErrorDict
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from bookings.models import Appointment
from cases.choices import SessionKind, TagDimension, Theme
from cases.forms.sessions import (
    DEFAULT_DURATION,
    DURATION_PICKS,
    WHO_ANONYMOUS,
    WHO_KNOWN,
    WHO_NEW,
    DeskSessionForm,
    IndividualSessionForm,
    ResidentPickForm,
    SessionFilterForm,
    WorkshopForm,
)
from cases.models import Case, HelpSession, SessionTag
from cases.selectors.sessions import last_used_place, most_used_themes, todays_place
from cases.services import sessions as services
from mediation.access import any_structure_view, structure_view
from mediation.clock import wall_time
from mediation.models import Membership, Place, Resident, Structure, User
from mediation.permissions import roles_for, user_can
from mediation.phones import phone_regions
from mediation.scoping import access_object, visible_structure_ids
from mediation.search_terms import search_data, search_via_post
from mediation.selectors import parse_resident_query, resident_search

PAGE_SIZE = 25
SEARCH_RESULTS = 20
THEME_LABELS = dict(Theme.choices)


# --- Shared pieces --------------------------------------------------------------------------


def _places(user, structure, keep: Place | None = None):
    places = Place.objects.visible_to(user, "log_session").filter(structure=structure)
    if keep is not None:
        # An edited session keeps its place even if the place has closed since.
        return places.filter(is_active=True) | places.filter(pk=keep.pk)
    return places.filter(is_active=True)


def _mediators(user, structure, keep: User | None = None):
    staff = Membership.objects.visible_to(user, "log_session").filter(
        structure=structure, role__in=roles_for("log_session")
    )
    users = User.objects.filter(pk__in=staff.values("user_id"))
    if keep is not None:
        users = User.objects.filter(pk__in=staff.values("user_id")) | User.objects.filter(
            pk=keep.pk
        )
    return users.order_by("last_name", "first_name")


def _open_cases(user, structure, resident: Resident | None, keep: Case | None = None):
    if resident is None or resident.is_anonymous:
        return None
    cases = Case.objects.visible_to(user, "log_session").filter(
        structure=structure, resident=resident
    )
    if keep is not None:
        return cases.open() | cases.filter(pk=keep.pk)
    return cases.open()


def _duration_initial(minutes: int | None) -> dict:
    minutes = minutes or DEFAULT_DURATION
    if minutes in DURATION_PICKS:
        return {"duration_minutes": minutes}
    return {"duration_minutes": None, "duration_custom": minutes}


def _default_place(places, user: User | None = None):
    """The place a new session most likely took place at: the only place of the structure, or
    the place of the user's last session there (their usual place)."""
    first_two = list(places[:2])
    if len(first_two) == 1:
        return first_two[0]
    if user is None:
        return None
    usual = (
        HelpSession.objects.visible_to(user, "log_session")
        .filter(mediator=user, place__in=places)
        .order_by("-date", "-pk")
        .values_list("place_id", flat=True)
        .first()
    )
    return next((p for p in places if p.pk == usual), None) if usual else None


def _list_url(structure) -> str:
    return reverse("session_list", kwargs={"structure": structure.slug})


def _agenda_day_url(structure, appointment) -> str:
    day = timezone.localtime(appointment.starts_at, appointment.place.tzinfo).date()
    url = reverse("agenda", kwargs={"structure": structure.slug})
    return f"{url}?{urlencode({'day': day.isoformat(), 'mediator': 'tous'})}"


def _form_context(structure, form, **extra) -> dict:
    return {
        "structure": structure,
        "form": form,
        "demarches_code": Theme.DEMARCHES_ADMINISTRATIVES.value,
        **extra,
    }


# --- The agenda's actions (registered from cases.apps) --------------------------------------


def mark_logged_appointments(appointments, user) -> None:
    """One query for the agenda page: which appointments already have their session."""
    by_appointment = {
        row[0]: row[1:]
        for row in HelpSession.objects.visible_to(user, "log_session")
        .filter(appointment_id__in=[a.pk for a in appointments])
        # No ORDER BY: the model's default order made SQLite sort 100 000 sessions (939 ms)
        # when it had no statistics; a dictionary needs no order.
        .order_by()
        .values_list("appointment_id", "pk", "created_by_id", "mediator_id", "structure_id")
    }
    for appointment in appointments:
        row = by_appointment.get(appointment.pk)
        appointment.logged_session_id = row[0] if row else None
        appointment.logged_session_editable = bool(row) and (
            user.pk in (row[1], row[2]) or user_can(user, "change_others_sessions", row[3])
        )


def mark_logged_workshops(appointments, user) -> None:
    """One query for the agenda page: which workshop slots already have their session."""
    slots = {a.slot_id for a in appointments if a.motif.is_collective}
    logged = (
        set(
            HelpSession.objects.visible_to(user, "log_session")
            .filter(appointment__slot_id__in=slots)
            .order_by()
            .values_list("appointment__slot_id", flat=True)
        )
        if slots
        else set()
    )
    for appointment in appointments:
        appointment.workshop_logged = appointment.slot_id in logged


def offers_workshop_logging(appointment, now) -> bool:
    if not appointment.motif.is_collective or getattr(appointment, "workshop_logged", False):
        return False
    return services.roster_refusal(appointment=appointment, now=now) is None


def offers_session_logging(appointment, now) -> bool:
    if getattr(appointment, "logged_session_id", None):
        return False
    return services.appointment_session_refusal(appointment=appointment, now=now) is None


def has_logged_session(appointment, now) -> bool:
    return bool(getattr(appointment, "logged_session_editable", False))


def logged_session_url(structure, appointment) -> str:
    return reverse(
        "session_edit",
        kwargs={"structure": structure.slug, "session": appointment.logged_session_id},
    )


# --- Walk-in: the one page (who, what, how long, where) -------------------------------------


@any_structure_view("log_session")
@require_GET
def desk_walk_in(request):
    """ "Accueillir quelqu'un sans rendez-vous", from the home page: straight to the session
    form of the user's structure, or, for someone working for several, the choice of the
    structure first (one click). 403 for someone who logs sessions nowhere."""
    structures = list(
        Structure.objects.filter(pk__in=visible_structure_ids(request.user, "log_session"))
        .only("pk", "name", "slug")
        .order_by("name")
    )
    if len(structures) == 1:
        return redirect("session_create", structure=structures[0].slug)
    return render(request, "cases/sessions/walk_in_pick.html", {"structures": structures})


@structure_view("log_session")
@require_http_methods(["GET", "POST"])
@search_via_post
def session_create(request, structure):
    """A walk-in, on one page: who (a known resident found with the resident search, a new
    person created with the session, or anonymous), the themes, the duration, the place, the
    outcome. `?usager=<id>` starts with that resident picked, `?anonyme=1` with "Anonyme";
    `?rdv=<id>` goes to the appointment's form."""
    if "rdv" in request.GET:
        value = request.GET["rdv"]
        if not value.isdigit():
            raise Http404
        return redirect("session_from_appointment", structure=structure.slug, appointment=value)
    return _desk_form(request, structure)


def _desk_search(request, structure, residents, query: str, regions):
    """(the first results of the one resident search, how many match in all)."""
    if not query:
        return [], 0
    parsed = parse_resident_query(query, regions=regions)
    if parsed.empty:
        return [], 0
    found = resident_search(request.user, structure, parsed).filter(pk__in=residents.values("pk"))
    results = list(found.select_related("structure")[:SEARCH_RESULTS])
    total = len(results) if len(results) < SEARCH_RESULTS else found.count()
    return results, total


def _desk_place(request, structure, places: list[Place]):
    """Today's place of the mediator (their appointments, else opening hours, of the day), else
    the only place, else the place of their last session."""
    if len(places) == 1:
        return places[0]
    today = services.local_today(places[0] if places else None)
    return todays_place(request.user, structure, places, today) or last_used_place(
        request.user, places
    )


def _desk_form(request, structure):
    user = request.user
    data = request.POST if request.method == "POST" else None
    if data is not None and "who" not in data:
        # A form posted without the "who" part (an older page): what its URL said.
        data = data.copy()
        if request.GET.get("anonyme"):
            data["who"] = WHO_ANONYMOUS
        elif "usager" in request.GET:
            data["who"] = WHO_KNOWN
            data.setdefault("resident", request.GET["usager"])
    searching = data is not None and data.get("action") == "search"
    residents = services.residents_for(user, structure).followed()
    places = list(_places(user, structure).order_by("name"))
    regions = phone_regions(places)
    initial_who = WHO_KNOWN
    picked = None
    if data is None and "usager" in request.GET:
        picked = access_object(residents, user, "log_session", pk=request.GET["usager"])
    elif data is None and request.GET.get("anonyme"):
        initial_who = WHO_ANONYMOUS
    if data is not None:
        query = (data.get("q") or "").strip()[:100]
    else:
        search = ResidentPickForm(search_data(request))
        query = search.cleaned_data["q"].strip() if search.is_bound and search.is_valid() else ""
    results, total = _desk_search(request, structure, residents, query, regions)
    shown = list(results)
    posted = data.get("resident", "") if data is not None else ""
    if posted.isdigit() and all(str(r.pk) != posted for r in shown):
        shown = list(residents.filter(pk=int(posted)).select_related("structure")) + shown
    if picked is not None and all(r.pk != picked.pk for r in shown):
        shown.insert(0, picked)
    same = data.get("same_person", "") if data is not None else ""
    duplicates = list(residents.filter(pk=int(same), structure=structure)) if same.isdigit() else []
    place = _desk_place(request, structure, places)
    # A resident picked beforehand (from their page) or posted: their open cases are offered.
    chosen = picked or next((r for r in shown if str(r.pk) == posted), None)
    form = DeskSessionForm(
        data,
        places=Place.objects.filter(pk__in=[p.pk for p in places]),
        mediators=_mediators(user, structure),
        cases=_open_cases(user, structure, chosen) if chosen is not None else None,
        residents=residents,
        shown_residents=shown,
        duplicates=duplicates,
        regions=regions,
        theme_order=most_used_themes(user, structure),
        initial={
            "who": initial_who,
            "resident": picked,
            "date": services.local_today(place),
            "place_type": "place",
            "place": place,
            "mediator": user,
            **_duration_initial(None),
        },
    )
    if searching:
        form._errors = ErrorDict()  # a search is not a save: say nothing of the empty fields
    elif data is not None and form.is_valid():
        session = _desk_save(request, structure, form)
        if session is not None:
            messages.success(request, _saved_message(session))
            return redirect(_list_url(structure))
    return render(
        request,
        "cases/sessions/desk_form.html",
        _form_context(
            structure,
            form,
            title=_("Accueillir quelqu'un sans rendez-vous"),
            back_url=reverse("home"),
            query=query,
            results=results,
            total=total,
            searched=bool(query),
            details_open=bool(set(form.errors) & DETAIL_FIELDS) if form.is_bound else False,
        ),
    )


#: Fields behind "Plus de détails": the box opens when one of them is in error.
DETAIL_FIELDS = {
    "date",
    "place_type",
    "other_commune_insee",
    "equipment",
    "done_on_behalf",
    "procedure_detail",
    "notes",
    "mediator",
    "case",
}


def _desk_save(request, structure, form: DeskSessionForm) -> HelpSession | None:
    """Log the session of the page; None when a service refused (errors put on the form)."""
    kwargs = form.service_kwargs()
    by = request.user
    try:
        if form.cleaned_data["who"] != WHO_NEW:
            return services.session_log(structure=structure, by=by, **kwargs)
        kwargs.pop("anonymous", None)
        same = form.chosen_duplicate()
        if isinstance(same, Resident):
            return services.session_log(structure=structure, by=by, resident=same, **kwargs)
        return services.session_log_new_resident(
            structure=structure,
            by=by,
            person=form.person(),
            confirm_new=same == "new",
            **kwargs,
        )
    except services.PossibleDuplicate as error:
        form.duplicates = error.candidates
        form.add_service_errors(error)
    except ValidationError as error:
        form.add_service_errors(error)
    return None


def _saved_message(session: HelpSession) -> str:
    if session.kind == SessionKind.COLLECTIVE:
        return _("Atelier « %(title)s » enregistré (%(n)s participants).") % {
            "title": session.title,
            "n": session.people_count,
        }
    return _("Accompagnement enregistré pour %(resident)s.") % {
        "resident": _resident_phrase(session.resident)
    }


def _resident_phrase(resident: Resident) -> str:
    """The resident inside a sentence: "Éric Le Goff", "un usager anonyme (n°1171)"."""
    if resident.is_anonymous:
        return _("un usager anonyme (n°%(id)s)") % {"id": resident.pk}
    return str(resident)


# --- From an appointment --------------------------------------------------------------------


@structure_view("log_session")
@require_http_methods(["GET", "POST"])
def session_from_appointment(request, structure, appointment: int):
    """ "Terminer et saisir": the session form prefilled from the appointment; saving marks
    the appointment seen."""
    obj = access_object(
        Appointment.objects.select_related("place", "motif", "resident", "mediator"),
        request.user,
        "log_session",
        pk=appointment,
        place__structure=structure,
    )
    existing = (
        HelpSession.objects.visible_to(request.user, "log_session")
        .filter(appointment=obj)
        .values_list("pk", flat=True)
        .first()
    )
    if existing is not None:
        messages.info(request, _("L'accompagnement de ce rendez-vous est déjà saisi."))
        return redirect("session_edit", structure=structure.slug, session=existing)
    refusal = services.appointment_session_refusal(appointment=obj)
    initial = services.appointment_session_initial(obj)
    places = _places(request.user, structure, keep=obj.place)
    form = None
    if refusal is None:
        form = IndividualSessionForm(
            request.POST or None,
            places=places,
            mediators=_mediators(request.user, structure, keep=obj.mediator),
            cases=_open_cases(request.user, structure, obj.resident),
            initial={
                "date": initial["date"],
                "place_type": initial["place_type"],
                "place": initial["place"],
                "mediator": initial["mediator"],
                **_duration_initial(initial["duration_minutes"]),
            },
        )
        if request.method == "POST" and form.is_valid():
            try:
                session = services.session_from_appointment(
                    appointment=obj, by=request.user, **form.service_kwargs()
                )
            except ValidationError as error:
                form.add_service_errors(error)
            else:
                messages.success(
                    request,
                    _("Accompagnement enregistré pour %(resident)s ; rendez-vous « Honoré ».")
                    % {"resident": _resident_phrase(session.resident)},
                )
                return redirect(_agenda_day_url(structure, obj))
    starts = wall_time(obj.starts_at, obj.place.tzinfo)
    return render(
        request,
        "cases/sessions/form.html",
        _form_context(
            structure,
            form,
            resident=obj.resident,
            appointment=obj,
            appointment_starts=starts,
            refusal=refusal,
            title=_("Terminer et saisir l'accompagnement"),
            back_url=_agenda_day_url(structure, obj),
        ),
    )


# --- Workshops ------------------------------------------------------------------------------


def _workshop_residents(request, structure, form_data, query: str, keep=()):
    """(residents that may be picked, boxes to show: the ticked ones then the search's, how
    many the search found). Never the whole file: only what was ticked or searched."""
    residents = services.residents_for(request.user, structure).followed()
    ticked = [v for v in (form_data.getlist("participants") if form_data else []) if v.isdigit()]
    shown = list(keep)
    known = {r.pk for r in shown}
    if ticked:
        for resident in residents.filter(pk__in=ticked[:500]).order_by("last_name", "first_name"):
            if resident.pk not in known:
                shown.append(resident)
                known.add(resident.pk)
    found = 0
    if query:
        matches = residents.matching_name(query).order_by("last_name", "first_name")
        for resident in matches[:SEARCH_RESULTS]:
            found += 1
            if resident.pk not in known:
                shown.append(resident)
                known.add(resident.pk)
    return residents, shown, found


def _workshop_page(
    request, structure, *, session: HelpSession | None, roster_of: Appointment | None = None
):
    """The workshop form: a new one, an edit (`session`), or one logged from the roster of
    `roster_of`'s slot (its people ticked, its day, place and motif prefilled)."""
    data = request.POST if request.method == "POST" else None
    searching = data is not None and data.get("action") == "search"
    query = (data.get("q", "") if data else "").strip()[:100]
    current = services.session_current_values(session) if session else None
    keep = current["participants"] if current and data is None else ()
    roster = services.workshop_roster(roster_of) if roster_of is not None else []
    if roster_of is not None:
        keep = [a.resident for a in roster]
    residents, shown, found = _workshop_residents(request, structure, data, query, keep)
    places = _places(request.user, structure, keep=session.place if session else None)
    if roster_of is not None:
        start = services.roster_initial(roster_of, roster)
        initial = {
            **{k: start[k] for k in ("title", "participants", "date", "place", "mediator")},
            "place_type": start["place_type"],
            **_duration_initial(start["duration_minutes"]),
        }
    elif current:
        initial = {
            **{k: v for k, v in current.items() if k not in ("counts", "anonymous", "case")},
            **_duration_initial(current["duration_minutes"]),
            **{f"counts_{d}": current["counts"].get(d, {}) for d in services.COUNT_CODES},
        }
    else:
        place = _default_place(places, request.user)
        initial = {
            "date": services.local_today(place),
            "place_type": "place",
            "place": place,
            "mediator": request.user,
            **_duration_initial(90),
        }
    form = WorkshopForm(
        data,
        places=places,
        mediators=_mediators(request.user, structure, keep=session.mediator if session else None),
        residents=residents,
        shown_residents=shown,
        initial=initial,
    )
    if data is not None and not searching and form.is_valid():
        try:
            if roster_of is not None:
                saved = services.workshop_from_roster(
                    appointment=roster_of, by=request.user, **form.service_kwargs()
                )
            elif session is None:
                saved = services.session_log(
                    structure=structure,
                    by=request.user,
                    kind=SessionKind.COLLECTIVE,
                    **form.service_kwargs(),
                )
            else:
                saved = services.session_update(
                    session=session, by=request.user, **form.service_kwargs()
                )
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            messages.success(request, _saved_message(saved))
            if roster_of is not None:
                return redirect(_agenda_day_url(structure, roster_of))
            return redirect(_list_url(structure))
    return render(
        request,
        "cases/sessions/workshop_form.html",
        _form_context(
            structure,
            form,
            session=session,
            roster_of=roster_of,
            query=query if searching else "",
            searched=searching,
            found=found,
            title=_("Modifier l'atelier")
            if session
            else (_("Saisir l'atelier") if roster_of else _("Saisir un atelier collectif")),
            back_url=_agenda_day_url(structure, roster_of) if roster_of else _list_url(structure),
        ),
    )


@structure_view("log_session")
@require_http_methods(["GET", "POST"])
def workshop_create(request, structure):
    """A collective workshop: title, level, named participants found by name (the search
    keeps what was typed), anonymous participants counted by age band, status or gender."""
    return _workshop_page(request, structure, session=None)


@structure_view("log_session")
@require_http_methods(["GET", "POST"])
def workshop_from_appointment(request, structure, appointment: int):
    """ "Saisir l'atelier" on a workshop appointment of the agenda: the workshop form with the
    slot's roster ticked; saving marks the ticked people's appointments "Honoré"."""
    obj = access_object(
        Appointment.objects.select_related("place", "motif", "resident", "mediator"),
        request.user,
        "log_session",
        pk=appointment,
        place__structure=structure,
    )
    existing = (
        HelpSession.objects.visible_to(request.user, "log_session")
        .filter(appointment__slot_id=obj.slot_id)
        .values_list("pk", flat=True)
        .first()
    )
    if existing is not None:
        messages.info(request, _("L'atelier de ce créneau est déjà saisi."))
        return redirect("session_edit", structure=structure.slug, session=existing)
    refusal = services.roster_refusal(appointment=obj)
    if refusal is not None:
        messages.error(request, refusal)
        return redirect(_agenda_day_url(structure, obj))
    return _workshop_page(request, structure, session=None, roster_of=obj)


# --- Edit, delete ---------------------------------------------------------------------------


def _access_session(request, structure, session):
    obj = access_object(
        HelpSession.objects.select_related("resident", "mediator", "place", "appointment"),
        request.user,
        "log_session",
        pk=session,
        structure=structure,
    )
    if not services.can_change_session(request.user, obj):
        raise PermissionDenied
    return obj


@structure_view("log_session", on_others="change_others_sessions")
@require_http_methods(["GET", "POST"])
def session_edit(request, structure, session: int):
    obj = _access_session(request, structure, session)
    if obj.kind == SessionKind.COLLECTIVE:
        return _workshop_page(request, structure, session=obj)
    current = services.session_current_values(obj)
    anonymous = current["anonymous"]
    initial = {
        **{k: v for k, v in current.items() if k not in ("counts", "participants", "anonymous")},
        **_duration_initial(current["duration_minutes"]),
    }
    if anonymous is not None:
        initial.update(vars(anonymous))
    form = IndividualSessionForm(
        request.POST or None,
        places=_places(request.user, structure, keep=obj.place),
        mediators=_mediators(request.user, structure, keep=obj.mediator),
        cases=_open_cases(request.user, structure, obj.resident, keep=obj.case),
        anonymous=anonymous is not None,
        initial=initial,
    )
    form.fields["themes"].widget.autofocus_first = False
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.session_update(session=obj, by=request.user, **form.service_kwargs())
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            messages.success(request, _("Accompagnement modifié."))
            if saved.appointment_id:
                return redirect(_agenda_day_url(structure, saved.appointment))
            return redirect(_list_url(structure))
    return render(
        request,
        "cases/sessions/form.html",
        _form_context(
            structure,
            form,
            session=obj,
            resident=None if anonymous is not None else obj.resident,
            appointment=obj.appointment,
            title=_("Modifier l'accompagnement"),
            back_url=_list_url(structure),
        ),
    )


@structure_view("log_session", on_others="change_others_sessions")
@require_http_methods(["GET", "POST"])
def session_delete(request, structure, session: int):
    """Confirm, then delete (POST)."""
    obj = _access_session(request, structure, session)
    if request.method == "POST":
        services.session_delete(session=obj, by=request.user)
        messages.success(request, _("Accompagnement supprimé."))
        return redirect(_list_url(structure))
    return render(
        request,
        "cases/sessions/delete.html",
        {"structure": structure, "session": obj, "back_url": _list_url(structure)},
    )


# --- The list -------------------------------------------------------------------------------


@structure_view("log_session")
@require_GET
def session_list(request, structure):
    """The structure's sessions, latest first, 25 a page; by mediator and dates. A fixed
    number of queries whatever the number of sessions."""
    mediators = _mediators(request.user, structure)
    filters = SessionFilterForm(request.GET or None, mediators=mediators)
    data = filters.cleaned_data if filters.is_bound and filters.is_valid() else {}
    sessions = (
        HelpSession.objects.visible_to(request.user, "log_session")
        .filter(structure=structure)
        .select_related("resident", "mediator", "place")
        .prefetch_related(
            Prefetch(
                "tags",
                queryset=SessionTag.objects.filter(dimension=TagDimension.THEME).order_by("code"),
                to_attr="theme_tags",
            )
        )
        .order_by("-date", "-created_at", "-pk")
    )
    if data.get("mediator"):
        sessions = sessions.filter(mediator=data["mediator"])
    if data.get("start"):
        sessions = sessions.filter(date__gte=data["start"])
    if data.get("end"):
        sessions = sessions.filter(date__lte=data["end"])
    page = Paginator(sessions, PAGE_SIZE).get_page(request.GET.get("page"))
    for session in page.object_list:
        session.theme_labels = [THEME_LABELS.get(t.code, t.code) for t in session.theme_tags]
        session.can_change = services.can_change_session(request.user, session)
    keep = request.GET.copy()
    keep.pop("page", None)
    return render(
        request,
        "cases/sessions/list.html",
        {
            "structure": structure,
            "filters": filters,
            "page": page,
            "keep": keep.urlencode(),
            "filtered": bool(data.get("mediator") or data.get("start") or data.get("end")),
        },
    )
