"""Structure pages of the booking service: motifs, opening hours, absences, rules, poster.

Thin views: a form parses the input, a service of bookings.services.admin writes, and its
ValidationError comes back on the form."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Prefetch, Q
from django.http import HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods

from bookings.forms.admin import (
    AbsenceForm,
    BookingRulesForm,
    DateOverrideForm,
    MotifForm,
    OpeningHoursForm,
    RecurringAbsenceForm,
)
from bookings.models import Absence, DateOverride, Motif, OpeningHours, RecurringAbsence
from bookings.poster import poster_pdf, public_booking_url
from bookings.services import admin as services
from mediation import selectors
from mediation.access import structure_view
from mediation.choices import PlaceTimeZone
from mediation.models import Membership, User
from mediation.permissions import roles_for, user_can
from mediation.scoping import access_object
from mediation.views.staff import add_service_errors

# Past absences listed under the upcoming ones.
PAST_ABSENCES_SHOWN = 20


def _crumbs(structure, *trail):
    """Breadcrumb: the structure, the section, then (label, url) pairs; the last is current."""
    return [
        (structure.name, structure.get_absolute_url()),
        (_("Prise de rendez-vous"), _url("booking_settings", structure)),
        *trail,
    ]


def _url(name, structure, **kwargs):
    return reverse(name, kwargs={"structure": structure.slug, **kwargs})


def _warn_booked_during_absence(request, booked: int) -> None:
    """Appointments already booked in a new absence are not cancelled: the desk is told."""
    if booked:
        messages.warning(
            request,
            ngettext(
                "Attention : %(count)d rendez-vous déjà pris tombe pendant cette "
                "absence. Il n'est pas annulé : l'accueil doit appeler l'usager pour "
                "le déplacer ou l'annuler.",
                "Attention : %(count)d rendez-vous déjà pris tombent pendant cette "
                "absence. Ils ne sont pas annulés : l'accueil doit appeler les usagers "
                "pour les déplacer ou les annuler.",
                booked,
            )
            % {"count": booked},
        )


def _form_page(request, structure, form, *, title, trail, back_url, **extra):
    return render(
        request,
        "bookings/admin/form_page.html",
        {
            "structure": structure,
            "form": form,
            "title": title,
            "crumbs": _crumbs(structure, *trail, (title, None)),
            "back_url": back_url,
            **extra,
        },
    )


def _confirm_page(request, structure, *, title, question, consequences, trail, back_url):
    return render(
        request,
        "bookings/admin/confirm_delete.html",
        {
            "structure": structure,
            "title": title,
            "question": question,
            "consequences": consequences,
            "crumbs": _crumbs(structure, *trail, (title, None)),
            "back_url": back_url,
        },
    )


def _add_errors(form, error: ValidationError) -> None:
    """A service's errors at the form's fields, model field names translated to form ones."""
    aliases = getattr(form, "field_aliases", {})
    if hasattr(error, "error_dict"):
        error = ValidationError(
            {aliases.get(field, field): errors for field, errors in error.error_dict.items()}
        )
    add_service_errors(form, error)


def _mediators(user, structure):
    """Active users who take appointments in the structure (read through the scoping)."""
    memberships = (
        Membership.objects.visible_to(user)
        .filter(structure=structure, role__in=roles_for("take_appointments"))
        .values("user_id")
    )
    return User.objects.filter(pk__in=memberships, is_active=True).order_by(
        "last_name", "first_name"
    )


def _local_zone(user, structure) -> ZoneInfo:
    """The zone in which absences are typed and shown: Europe/Paris, unless every active place
    of the structure is in another one (an overseas structure)."""
    zones = set(
        selectors.places_for(user, structure).values_list("time_zone", flat=True).distinct()
    )
    return ZoneInfo(zones.pop() if len(zones) == 1 else PlaceTimeZone.PARIS)


def _delay_label(minutes: int) -> str:
    """90 → "1 h 30", 120 → "2 h", 45 → "45 min"."""
    hours, rest = divmod(minutes, 60)
    if not hours:
        return _("%(minutes)d min") % {"minutes": rest}
    if not rest:
        return _("%(hours)d h") % {"hours": hours}
    return _("%(hours)d h %(minutes)02d") % {"hours": hours, "minutes": rest}


# --- Hub ------------------------------------------------------------------------------------


@structure_view("view_structure")
@require_GET
def booking_settings(request, structure):
    user = request.user
    today = timezone.localdate()
    motif_counts = (
        Motif.objects.visible_to(user)
        .filter(structure=structure)
        .aggregate(
            active=Count("pk", filter=Q(is_active=True)),
            online=Count("pk", filter=Q(is_active=True, bookable_online=True)),
        )
    )
    opening_count = (
        OpeningHours.objects.visible_to(user)
        .filter(place__structure=structure)
        .filter(Q(last_day__isnull=True) | Q(last_day__gte=today))
        .count()
    )
    is_desk = user_can(user, "record_absences", structure)
    # A recurring absence counts once, not once per occurrence.
    absence_count = (
        Absence.objects.visible_to(user, "record_absences")
        .filter(structure=structure, ends_at__gte=timezone.now(), series__isnull=True)
        .count()
        + RecurringAbsence.objects.visible_to(user, "record_absences")
        .filter(structure=structure, last_day__gte=today)
        .count()
        if is_desk
        else None
    )
    return render(
        request,
        "bookings/admin/hub.html",
        {
            "structure": structure,
            "crumbs": [
                (structure.name, structure.get_absolute_url()),
                (_("Prise de rendez-vous"), None),
            ],
            "public_url": public_booking_url(structure),
            "motif_counts": motif_counts,
            "opening_count": opening_count,
            "absence_count": absence_count,
            "is_admin": user_can(user, "manage_booking_settings", structure),
            "is_desk": is_desk,
        },
    )


# --- Motifs ---------------------------------------------------------------------------------


@structure_view("view_structure")
@require_GET
def motif_list(request, structure):
    motifs = list(
        Motif.objects.visible_to(request.user)
        .filter(structure=structure)
        .order_by("-is_active", "name")
    )
    for motif in motifs:
        motif.min_delay_label = _delay_label(motif.min_delay_minutes)
    return render(
        request,
        "bookings/admin/motif_list.html",
        {
            "structure": structure,
            "motifs": motifs,
            "crumbs": _crumbs(structure, (_("Motifs"), None)),
            "can_manage": user_can(request.user, "manage_booking_settings", structure),
        },
    )


@structure_view("manage_booking_settings")
@require_http_methods(["GET", "POST"])
def motif_edit(request, structure, motif: int | None = None):
    instance = (
        access_object(Motif, request.user, "manage_booking_settings", pk=motif, structure=structure)
        if motif is not None
        else Motif(structure=structure)
    )
    form = MotifForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.motif_save(motif=form.instance, by=request.user)
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, _("Le motif « %(name)s » est enregistré.") % {"name": saved})
            return redirect("motif_list", structure=structure.slug)
    list_url = _url("motif_list", structure)
    return _form_page(
        request,
        structure,
        form,
        title=_("Modifier le motif") if motif is not None else _("Nouveau motif"),
        trail=[(_("Motifs"), list_url)],
        back_url=list_url,
        intro=_(
            "Un motif est un service proposé sur rendez-vous : sa durée, sa modalité, et qui "
            "peut le réserver."
        ),
        delete_url=_url("motif_delete", structure, motif=instance.pk) if motif else None,
        delete_label=_("Supprimer ce motif"),
    )


@structure_view("manage_booking_settings")
def motif_set_active(request, structure, motif: int, active: bool):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    instance = access_object(
        Motif, request.user, "manage_booking_settings", pk=motif, structure=structure
    )
    services.motif_set_active(motif=instance, active=active, by=request.user)
    if active:
        messages.success(
            request, _("Le motif « %(name)s » est de nouveau proposé.") % {"name": instance}
        )
    else:
        messages.success(
            request,
            _("Le motif « %(name)s » n'est plus proposé. Les rendez-vous déjà pris sont maintenus.")
            % {"name": instance},
        )
    return redirect("motif_list", structure=structure.slug)


@structure_view("manage_booking_settings")
@require_http_methods(["GET", "POST"])
def motif_delete(request, structure, motif: int):
    instance = access_object(
        Motif, request.user, "manage_booking_settings", pk=motif, structure=structure
    )
    list_url = _url("motif_list", structure)
    if request.method == "POST":
        try:
            services.motif_delete(motif=instance, by=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Le motif « %(name)s » est supprimé.") % {"name": instance})
        return redirect(list_url)
    return _confirm_page(
        request,
        structure,
        title=_("Supprimer le motif"),
        question=_("Supprimer le motif « %(name)s » ?") % {"name": instance},
        consequences=_(
            "Seul un motif jamais réservé peut être supprimé. Pour ne plus le proposer tout en "
            "gardant l'historique, désactivez-le depuis la liste."
        ),
        trail=[(_("Motifs"), list_url)],
        back_url=list_url,
    )


# --- Opening hours --------------------------------------------------------------------------


@structure_view("view_structure")
@require_GET
def opening_hours_list(request, structure):
    show_ended = request.GET.get("terminees") == "1"
    today = timezone.localdate()
    openings = (
        OpeningHours.objects.visible_to(request.user)
        .filter(place__structure=structure)
        .select_related("place", "mediator")
        .prefetch_related(Prefetch("motifs", queryset=Motif.objects.order_by("name")))
        .order_by("place__name", "mediator__last_name", "mediator__first_name", "first_day")
    )
    if not show_ended:
        openings = openings.filter(Q(last_day__isnull=True) | Q(last_day__gte=today))
    openings = list(openings)
    for opening in openings:
        opening.days_label = services.weekdays_label(opening.weekdays)
        opening.ended = opening.last_day is not None and opening.last_day < today
    return render(
        request,
        "bookings/admin/opening_hours_list.html",
        {
            "structure": structure,
            "openings": openings,
            "show_ended": show_ended,
            "crumbs": _crumbs(structure, (_("Plages d'ouverture"), None)),
            "can_manage": user_can(request.user, "manage_booking_settings", structure),
        },
    )


@structure_view("manage_booking_settings")
@require_http_methods(["GET", "POST"])
def opening_hours_edit(request, structure, opening_hours: int | None = None):
    user = request.user
    instance = (
        access_object(
            OpeningHours,
            user,
            "manage_booking_settings",
            pk=opening_hours,
            place__structure=structure,
        )
        if opening_hours is not None
        else OpeningHours()
    )
    places = selectors.places_for(user, structure, include_inactive=True).filter(
        Q(is_active=True) | Q(pk=instance.place_id)
    )
    mediators = _mediators(user, structure)
    if instance.mediator_id:
        # Keep showing who it is, even if they lost the role: the service then says so.
        mediators = User.objects.filter(
            Q(pk__in=mediators.values("pk")) | Q(pk=instance.mediator_id)
        ).order_by("last_name", "first_name")
    motifs = (
        Motif.objects.visible_to(user, "manage_booking_settings")
        .filter(structure=structure)
        .active()
    )
    form = OpeningHoursForm(
        request.POST or None,
        instance=instance,
        places=places.order_by("name"),
        mediators=mediators,
        motifs=motifs.order_by("name"),
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.opening_hours_save(
                opening_hours=form.instance, motifs=form.cleaned_data["motifs"], by=user
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, _("La plage d'ouverture est enregistrée."))
            return redirect("opening_hours_list", structure=structure.slug)
    list_url = _url("opening_hours_list", structure)
    no_choice = not motifs.exists() or not places.exists()
    return _form_page(
        request,
        structure,
        form,
        title=(
            _("Modifier la plage d'ouverture")
            if opening_hours is not None
            else _("Nouvelle plage d'ouverture")
        ),
        trail=[(_("Plages d'ouverture"), list_url)],
        back_url=list_url,
        intro=_(
            "Une plage d'ouverture : un·e médiateur·rice reçoit sur rendez-vous dans un lieu, "
            "certains jours, à certaines heures. Les jours fériés et les absences sont retirés "
            "automatiquement."
        ),
        warning=(
            _(
                "Créez d'abord au moins un lieu actif et un motif actif : une plage "
                "d'ouverture en a besoin."
            )
            if no_choice
            else None
        ),
        delete_url=(
            _url("opening_hours_delete", structure, opening_hours=instance.pk)
            if opening_hours is not None
            else None
        ),
        delete_label=_("Supprimer cette plage"),
    )


@structure_view("manage_booking_settings")
@require_http_methods(["GET", "POST"])
def opening_hours_delete(request, structure, opening_hours: int):
    instance = access_object(
        OpeningHours.objects.select_related("place", "mediator"),
        request.user,
        "manage_booking_settings",
        pk=opening_hours,
        place__structure=structure,
    )
    list_url = _url("opening_hours_list", structure)
    if request.method == "POST":
        services.opening_hours_delete(opening_hours=instance, by=request.user)
        messages.success(
            request,
            _(
                "La plage d'ouverture est supprimée. Les rendez-vous déjà pris sur cette plage "
                "sont maintenus."
            ),
        )
        return redirect(list_url)
    return _confirm_page(
        request,
        structure,
        title=_("Supprimer la plage d'ouverture"),
        question=_("Supprimer la plage de %(person)s à %(place)s (%(when)s) ?")
        % {
            "person": instance.mediator,
            "place": instance.place.name,
            "when": services.opening_hours_label(instance),
        },
        consequences=_(
            "Plus aucun créneau ne sera proposé sur cette plage. Les rendez-vous déjà pris "
            "sont maintenus : annulez-les depuis l'agenda si besoin."
        ),
        trail=[(_("Plages d'ouverture"), list_url)],
        back_url=list_url,
    )


# --- Exceptional days (date overrides) --------------------------------------------------------


@structure_view("view_structure")
@require_GET
def date_override_list(request, structure):
    """The upcoming exceptional days of the structure's places (and the past ones on demand)."""
    show_past = request.GET.get("passees") == "1"
    today = timezone.localdate()
    overrides = (
        DateOverride.objects.visible_to(request.user)
        .filter(place__structure=structure)
        .select_related("place", "mediator")
        .prefetch_related(Prefetch("motifs", queryset=Motif.objects.order_by("name")))
        .order_by("day", "place__name", "start_time")
    )
    if not show_past:
        overrides = overrides.filter(day__gte=today)
    overrides = list(overrides)
    for override in overrides:
        override.label = services.date_override_label(override)
        override.past = override.day < today
    return render(
        request,
        "bookings/admin/date_override_list.html",
        {
            "structure": structure,
            "overrides": overrides,
            "show_past": show_past,
            "crumbs": _crumbs(
                structure,
                (_("Plages d'ouverture"), _url("opening_hours_list", structure)),
                (_("Jours exceptionnels"), None),
            ),
            "can_manage": user_can(request.user, "manage_booking_settings", structure),
        },
    )


@structure_view("manage_booking_settings")
@require_http_methods(["GET", "POST"])
def date_override_edit(request, structure, date_override: int | None = None):
    user = request.user
    instance = (
        access_object(
            DateOverride,
            user,
            "manage_booking_settings",
            pk=date_override,
            place__structure=structure,
        )
        if date_override is not None
        else DateOverride()
    )
    places = selectors.places_for(user, structure, include_inactive=True).filter(
        Q(is_active=True) | Q(pk=instance.place_id)
    )
    mediators = _mediators(user, structure)
    if instance.mediator_id:
        mediators = User.objects.filter(
            Q(pk__in=mediators.values("pk")) | Q(pk=instance.mediator_id)
        ).order_by("last_name", "first_name")
    motifs = (
        Motif.objects.visible_to(user, "manage_booking_settings")
        .filter(structure=structure)
        .active()
    )
    form = DateOverrideForm(
        request.POST or None,
        instance=instance,
        places=places.order_by("name"),
        mediators=mediators,
        motifs=motifs.order_by("name"),
    )
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.date_override_save(
                override=form.instance, motifs=form.cleaned_data["motifs"], by=user
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(
                request,
                _("Le jour exceptionnel est enregistré : %(label)s.")
                % {"label": services.date_override_label(saved)},
            )
            return redirect("date_override_list", structure=structure.slug)
    list_url = _url("date_override_list", structure)
    return _form_page(
        request,
        structure,
        form,
        title=(
            _("Modifier le jour exceptionnel")
            if date_override is not None
            else _("Nouveau jour exceptionnel")
        ),
        trail=[
            (_("Plages d'ouverture"), _url("opening_hours_list", structure)),
            (_("Jours exceptionnels"), list_url),
        ],
        back_url=list_url,
        intro=_(
            "Pour un seul jour, sans modifier les plages habituelles : ouvrir un samedi, "
            "recevoir à d'autres heures, ou fermer (une personne, ou tout le lieu). Les "
            "rendez-vous déjà pris ne sont pas annulés."
        ),
        warning=(
            _("Créez d'abord au moins un lieu actif et un motif actif.")
            if not motifs.exists() or not places.exists()
            else None
        ),
        delete_url=(
            _url("date_override_delete", structure, date_override=instance.pk)
            if date_override is not None
            else None
        ),
        delete_label=_("Supprimer ce jour exceptionnel"),
    )


@structure_view("manage_booking_settings")
@require_http_methods(["GET", "POST"])
def date_override_delete(request, structure, date_override: int):
    instance = access_object(
        DateOverride.objects.select_related("place", "mediator"),
        request.user,
        "manage_booking_settings",
        pk=date_override,
        place__structure=structure,
    )
    list_url = _url("date_override_list", structure)
    if request.method == "POST":
        services.date_override_delete(override=instance, by=request.user)
        messages.success(
            request, _("Le jour exceptionnel est supprimé : les plages habituelles s'appliquent.")
        )
        return redirect(list_url)
    return _confirm_page(
        request,
        structure,
        title=_("Supprimer le jour exceptionnel"),
        question=_("Supprimer le jour exceptionnel de %(who)s à %(place)s (%(when)s) ?")
        % {
            "who": instance.mediator.get_full_name() if instance.mediator_id else _("tout le lieu"),
            "place": instance.place.name,
            "when": services.date_override_label(instance),
        },
        consequences=_(
            "Ce jour-là, les plages d'ouverture habituelles s'appliquent de nouveau. Les "
            "rendez-vous déjà pris sont maintenus."
        ),
        trail=[
            (_("Plages d'ouverture"), _url("opening_hours_list", structure)),
            (_("Jours exceptionnels"), list_url),
        ],
        back_url=list_url,
    )


# --- Absences -------------------------------------------------------------------------------


@structure_view("record_absences")
@require_GET
def absence_list(request, structure):
    user = request.user
    now = timezone.now()
    tz = _local_zone(user, structure)
    absences = (
        Absence.objects.visible_to(user, "record_absences")
        .filter(structure=structure, series__isnull=True)
        .select_related("mediator")
    )
    upcoming = list(absences.filter(ends_at__gte=now).order_by("starts_at"))
    past = list(absences.filter(ends_at__lt=now).order_by("-starts_at")[:PAST_ABSENCES_SHOWN])
    # Recurring absences (their occurrences are not listed one by one), current and to come.
    series = list(
        RecurringAbsence.objects.visible_to(user, "record_absences")
        .filter(structure=structure, last_day__gte=timezone.localdate(now, tz))
        .select_related("mediator")
        .order_by("first_day", "weekday", "start_time")
    )
    of_others = user_can(user, "record_absences_of_others", structure)
    for absence in (*upcoming, *past, *series):
        absence.can_delete = of_others or absence.mediator_id == user.pk
    for item in series:
        item.label = services.recurring_absence_label(item)
    return render(
        request,
        "bookings/admin/absence_list.html",
        {
            "structure": structure,
            "upcoming": upcoming,
            "past": past,
            "series": series,
            "tz": tz,
            "now": now,
            "crumbs": _crumbs(structure, (_("Absences"), None)),
        },
    )


@structure_view("record_absences")
@require_http_methods(["GET", "POST"])
def absence_create(request, structure):
    user = request.user
    tz = _local_zone(user, structure)
    mediators = _mediators(user, structure)
    if not user_can(user, "record_absences_of_others", structure):
        mediators = mediators.filter(pk=user.pk)
    form = AbsenceForm(
        request.POST or None,
        mediators=mediators,
        tz=tz,
        initial={"mediator": user.pk},
    )
    if request.method == "POST" and form.is_valid():
        try:
            absence = services.absence_create(structure=structure, by=user, **form.cleaned_data)
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, _("L'absence est enregistrée."))
            booked = services.booked_during_absence(absence=absence)
            _warn_booked_during_absence(request, booked)
            return redirect("absence_list", structure=structure.slug)
    list_url = _url("absence_list", structure)
    return _form_page(
        request,
        structure,
        form,
        title=_("Nouvelle absence"),
        trail=[(_("Absences"), list_url)],
        back_url=list_url,
        intro=_(
            "Pendant une absence, aucun créneau n'est proposé pour cette personne. Les "
            "rendez-vous déjà pris ne sont pas annulés automatiquement."
        ),
        warning=(
            _("Personne n'a le rôle de médiateur·rice dans cette structure.")
            if not mediators.exists()
            else None
        ),
    )


@structure_view("record_absences", on_others="record_absences_of_others")
@require_http_methods(["GET", "POST"])
def absence_delete(request, structure, absence: int):
    user = request.user
    instance = access_object(
        Absence.objects.select_related("mediator"),
        user,
        "record_absences",
        pk=absence,
        structure=structure,
    )
    if instance.mediator_id != user.pk and not user_can(
        user, "record_absences_of_others", structure
    ):
        raise PermissionDenied
    list_url = _url("absence_list", structure)
    if request.method == "POST":
        services.absence_delete(absence=instance, by=user)
        messages.success(request, _("L'absence est supprimée."))
        return redirect(list_url)
    tz = _local_zone(user, structure)
    return _confirm_page(
        request,
        structure,
        title=_("Supprimer l'absence"),
        question=_("Supprimer l'absence de %(person)s du %(start)s au %(end)s ?")
        % {
            "person": instance.mediator,
            "start": f"{timezone.localtime(instance.starts_at, tz):%d/%m/%Y %H:%M}",
            "end": f"{timezone.localtime(instance.ends_at, tz):%d/%m/%Y %H:%M}",
        },
        consequences=_("Les créneaux de cette période seront de nouveau proposés."),
        trail=[(_("Absences"), list_url)],
        back_url=list_url,
    )


@structure_view("record_absences")
@require_http_methods(["GET", "POST"])
def recurring_absence_create(request, structure):
    user = request.user
    tz = _local_zone(user, structure)
    mediators = _mediators(user, structure)
    if not user_can(user, "record_absences_of_others", structure):
        mediators = mediators.filter(pk=user.pk)
    form = RecurringAbsenceForm(
        request.POST or None,
        mediators=mediators,
        tz=tz,
        initial={"mediator": user.pk, "first_day": timezone.localdate(timezone=tz)},
    )
    if request.method == "POST" and form.is_valid():
        try:
            series = services.recurring_absence_create(
                structure=structure, by=user, tz=tz, **form.cleaned_data
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            count = series.occurrences.count()
            messages.success(
                request,
                ngettext(
                    "L'absence récurrente est enregistrée (%(count)d jour).",
                    "L'absence récurrente est enregistrée (%(count)d jours).",
                    count,
                )
                % {"count": count},
            )
            booked = services.booked_during_series(series=series)
            _warn_booked_during_absence(request, booked)
            return redirect("absence_list", structure=structure.slug)
    list_url = _url("absence_list", structure)
    return _form_page(
        request,
        structure,
        form,
        title=_("Nouvelle absence récurrente"),
        trail=[(_("Absences"), list_url)],
        back_url=list_url,
        intro=_(
            "Le même jour de la semaine, aux mêmes heures, pendant une période : tous les "
            "mercredis après-midi, un lundi sur deux… Aucun créneau n'est proposé pendant ces "
            "heures ; les rendez-vous déjà pris ne sont pas annulés automatiquement."
        ),
        warning=(
            _("Personne n'a le rôle de médiateur·rice dans cette structure.")
            if not mediators.exists()
            else None
        ),
    )


@structure_view("record_absences", on_others="record_absences_of_others")
@require_http_methods(["GET", "POST"])
def recurring_absence_delete(request, structure, recurring_absence: int):
    user = request.user
    instance = access_object(
        RecurringAbsence.objects.select_related("mediator"),
        user,
        "record_absences",
        pk=recurring_absence,
        structure=structure,
    )
    if instance.mediator_id != user.pk and not user_can(
        user, "record_absences_of_others", structure
    ):
        raise PermissionDenied
    list_url = _url("absence_list", structure)
    if request.method == "POST":
        services.recurring_absence_delete(series=instance, by=user)
        messages.success(request, _("L'absence récurrente est supprimée."))
        return redirect(list_url)
    return _confirm_page(
        request,
        structure,
        title=_("Supprimer l'absence récurrente"),
        question=_("Supprimer l'absence récurrente de %(person)s (%(when)s) ?")
        % {
            "person": instance.mediator.get_full_name(),
            "when": services.recurring_absence_label(instance),
        },
        consequences=_("Les créneaux de ces heures seront de nouveau proposés."),
        trail=[(_("Absences"), list_url)],
        back_url=list_url,
    )


# --- Rules and poster -----------------------------------------------------------------------


@structure_view("manage_booking_settings")
@require_http_methods(["GET", "POST"])
def booking_rules(request, structure):
    form = BookingRulesForm(request.POST or None, instance=structure)
    if request.method == "POST" and form.is_valid():
        try:
            services.booking_rules_update(structure=form.instance, by=request.user)
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, _("Les règles de réservation sont enregistrées."))
            return redirect("booking_settings", structure=structure.slug)
    return _form_page(
        request,
        structure,
        form,
        title=_("Règles de réservation"),
        trail=[],
        back_url=_url("booking_settings", structure),
        intro=_("Ces règles valent pour tous les lieux et tous les motifs de la structure."),
    )


@structure_view("manage_booking_settings")
@require_GET
def booking_embed(request, structure):
    """ "Publier sur votre site": whether the public page is live, and the link, iframe and
    button to copy, for the structure and for each active place."""
    from bookings.embed import snippets

    places = selectors.places_for(request.user, structure).order_by("name")
    return render(
        request,
        "bookings/admin/embed.html",
        {
            "structure": structure,
            "crumbs": [
                (structure.name, structure.get_absolute_url()),
                (_("Prise de rendez-vous"), _url("booking_settings", structure)),
                (_("Publier sur votre site"), None),
            ],
            "whole": snippets(structure),
            "per_place": [(place, snippets(structure, place)) for place in places],
        },
    )


@structure_view("view_structure")
@require_GET
def booking_poster(request, structure):
    user = request.user
    motifs = (
        Motif.objects.visible_to(user)
        .filter(structure=structure)
        .active()
        .order_by("-bookable_online", "name")
    )
    pdf = poster_pdf(
        structure, motifs=motifs, places=selectors.places_for(user, structure).order_by("name")
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="affiche-{structure.slug}.pdf"'
    return response
