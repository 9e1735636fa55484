from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from mediation import day, selectors, services, two_factor
from mediation.access import structure_view
from mediation.choices import Role
from mediation.forms import (
    InvitationForm,
    LoginForm,
    MembershipRoleForm,
    PlaceForm,
    StructureForm,
)
from mediation.models import Membership, NetworkMembership, Place, User
from mediation.permissions import user_can
from mediation.ratelimit import client_ip, hit
from mediation.scoping import access_object, structure_roles, visible_structure_ids
from mediation.structure_links import structure_links


def add_service_errors(form, error: ValidationError) -> None:
    """Show a service's ValidationError on the form: at its field when it names one."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


@login_required
def home(request):
    """Landing page: one section per kind of work the user does somewhere (the day of those
    who take appointments, the coordinators' overview, the structure administration)."""
    user = request.user
    context = {
        "today": timezone.localdate(),
        "is_mediator": bool(visible_structure_ids(user, "take_appointments")),
        "is_coordinator": bool(visible_structure_ids(user, "oversee_structures")),
        "is_admin": bool(visible_structure_ids(user, "manage_structure")),
    }
    if context["is_mediator"]:
        # "Ma journée": the panels the upper apps register (mediation/day.py), then the places.
        context["day_panels"] = day.render_panels(request)
        context["mediator_places"] = list(selectors.places_of_mediator(user))
    if context["is_coordinator"]:
        context["coordinated"] = list(selectors.structures_overview(user, "oversee_structures"))
        context["networks"] = selectors.networks_of(context["coordinated"])
    if context["is_admin"]:
        context["administered"] = list(
            # The administration cards do not show the networks.
            selectors.structures_overview(user, "manage_structure", with_networks=False)
        )
    return render(request, "mediation/home.html", context)


@login_required
@require_GET
def day_panel(request):
    """One panel of "Ma journée" again, for the page's live refresh (`?panneau=<key>&v=<the
    version the page holds>`): 204 when it has not changed, so the browser swaps nothing. Each
    panel scopes what it reads to the user; opened by hand, the URL leads home."""
    panel = day.refreshable_panel(request.GET.get("panneau", ""))
    if panel is None or not visible_structure_ids(request.user, "take_appointments"):
        # The page's refresh swaps nothing; a person who typed the address goes home.
        return HttpResponse(status=204) if request.htmx else redirect("home")
    rendered = day.render_panel(request, panel)
    if rendered is None or rendered.version == request.GET.get("v"):
        return HttpResponse(status=204)
    return render(request, "mediation/_day_panel.html", {"panel": rendered})


@structure_view("view_structure")
def structure_home(request, structure):
    user = request.user
    held = structure_roles(user)[structure.pk]
    return render(
        request,
        "mediation/structure_home.html",
        {
            "structure": structure,
            "roles": sorted(Role(r).label for r in held),
            "places": selectors.places_for(user, structure),
            "can_manage": user_can(user, "manage_structure", structure),
            "can_desk": user_can(user, "book_at_desk", structure),
            "can_report": user_can(user, "export_structure_report", structure),
            "can_review_access": user_can(user, "review_access_log", structure),
            "can_manage_api": user_can(user, "manage_api_clients", structure),
            "counted_links": structure_links(user, structure),
        },
    )


@structure_view("manage_structure")
@require_http_methods(["GET", "POST"])
def structure_edit(request, structure):
    form = StructureForm(request.POST or None, instance=structure)
    if request.method == "POST" and form.is_valid():
        services.structure_update(structure=form.instance, by=request.user)
        messages.success(request, _("Les informations de la structure sont enregistrées."))
        return redirect("structure_home", structure=structure.slug)
    return render(
        request,
        "mediation/form_page.html",
        {
            "structure": structure,
            "form": form,
            "title": _("Informations de la structure"),
            "back_url": structure.get_absolute_url(),
        },
    )


@structure_view("view_structure")
def place_list(request, structure):
    return render(
        request,
        "mediation/place_list.html",
        {
            "structure": structure,
            "places": selectors.places_for(request.user, structure, include_inactive=True),
            "can_manage": user_can(request.user, "manage_structure", structure),
        },
    )


@structure_view("manage_structure")
@require_http_methods(["GET", "POST"])
def place_edit(request, structure, place: int | None = None):
    instance = (
        access_object(Place, request.user, "manage_structure", pk=place, structure=structure)
        if place is not None
        else Place(structure=structure)
    )
    form = PlaceForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        try:
            services.place_save(place=form.instance, by=request.user)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request, _("Le lieu « %(name)s » est enregistré.") % {"name": form.instance.name}
            )
            return redirect("place_list", structure=structure.slug)
    title = _("Modifier le lieu") if place is not None else _("Nouveau lieu")
    return render(
        request,
        "mediation/form_page.html",
        {
            "structure": structure,
            "form": form,
            "title": title,
            "back_url": reverse_lazy("place_list", kwargs={"structure": structure.slug}),
        },
    )


@structure_view("view_team")
def team(request, structure):
    memberships = list(selectors.team_of(request.user, structure))
    return render(
        request,
        "mediation/team.html",
        {
            "structure": structure,
            "memberships": memberships,
            "can_manage": user_can(request.user, "manage_team", structure),
            "two_factor_user_ids": two_factor.users_with_two_factor(
                {m.user_id for m in memberships}
            ),
        },
    )


@structure_view("manage_team")
@require_http_methods(["GET", "POST"])
def team_invite(request, structure):
    form = InvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            membership = services.membership_invite(
                structure=structure, by=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                _("%(person)s a été ajouté·e à l'équipe. Une invitation a été envoyée à %(email)s.")
                % {"person": membership.user, "email": membership.user.email},
            )
            return redirect("team", structure=structure.slug)
    return render(
        request,
        "mediation/form_page.html",
        {
            "structure": structure,
            "form": form,
            "title": _("Inviter une personne"),
            "intro": _(
                "La personne reçoit un e-mail avec un lien pour choisir son mot de passe. "
                "Si elle a déjà un compte, elle retrouve cette structure à sa connexion."
            ),
            "back_url": reverse_lazy("team", kwargs={"structure": structure.slug}),
        },
    )


@structure_view("manage_team")
@require_http_methods(["GET", "POST"])
def membership_edit(request, structure, membership: int):
    instance = access_object(
        Membership, request.user, "manage_team", pk=membership, structure=structure
    )
    current_role = instance.role
    form = MembershipRoleForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        try:
            services.membership_change_role(
                membership=instance, role=form.cleaned_data["role"], by=request.user
            )
        except ValidationError as error:
            instance.role = current_role
            add_service_errors(form, error)
        else:
            messages.success(
                request, _("Le rôle de %(person)s est modifié.") % {"person": instance.user}
            )
            return redirect("team", structure=structure.slug)
    return render(
        request,
        "mediation/membership_edit.html",
        {
            "structure": structure,
            "form": form,
            "membership": instance,
        },
    )


@structure_view("manage_team")
@require_http_methods(["GET", "POST"])
def membership_remove(request, structure, membership: int):
    """GET shows what removing the role does and asks for a confirmation; POST removes it."""
    instance = access_object(
        Membership, request.user, "manage_team", pk=membership, structure=structure
    )
    team_url = reverse("team", kwargs={"structure": structure.slug})
    if request.method == "GET":
        person = {
            "person": instance.user.get_full_name() or instance.user.email,
            "role": instance.get_role_display(),
            "structure": structure.name,
        }
        keeps_access = (
            Membership.objects.filter(user_id=instance.user_id).exclude(pk=instance.pk).exists()
            or NetworkMembership.objects.filter(user_id=instance.user_id).exists()
        )
        consequences = [
            _("%(person)s n'aura plus le rôle « %(role)s » dans %(structure)s.") % person,
            _("Son compte n'est pas supprimé et ce qu'elle a enregistré reste en place."),
        ]
        if keeps_access:
            consequences.append(_("La personne garde ses autres rôles et ses autres accès."))
        else:
            consequences.append(
                _(
                    "C'est son seul rôle : elle perd l'accès à Permanence dès sa prochaine "
                    "page, jusqu'à une nouvelle invitation."
                )
            )
        return render(
            request,
            "mediation/confirm.html",
            {
                "structure": structure,
                "title": _("Retirer un rôle"),
                "parent_title": _("Équipe"),
                "question": _("Retirer le rôle « %(role)s » de %(person)s ?") % person,
                "consequences": consequences,
                "cancel_url": team_url,
            },
        )
    try:
        services.membership_remove(membership=instance, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("%(person)s n'a plus le rôle « %(role)s » dans la structure.")
            % {"person": instance.user, "role": instance.get_role_display()},
        )
    return redirect(team_url)


class PasswordResetView(auth_views.PasswordResetView):
    """The "forgotten password" form, rate-limited per address and per IP: it sends e-mails,
    and must not serve to flood a staff member's mailbox. The limit applies whether the
    address exists or not (the answer says nothing about that)."""

    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"

    def form_valid(self, form):
        email = form.cleaned_data["email"].strip().lower()
        ip = client_ip(self.request)
        if not hit("password-reset-ip", ip, limit=10, window=3600) or not hit(
            "password-reset-email", email, limit=3, window=3600
        ):
            form.add_error(
                None,
                _("Trop de demandes de réinitialisation. Réessayez dans une heure."),
            )
            return self.render_to_response(self.get_context_data(form=form), status=429)
        return super().form_valid(form)


class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    form_class = LoginForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        # The password is right. With a second factor, the session is opened only once the
        # code step (two_factor_views.login_code) has checked a code.
        user = form.get_user()
        if two_factor.two_factor_state(user).enabled:
            two_factor.pending_login_set(self.request, user)
            query = urlencode({"next": self.get_success_url()})
            return redirect(f"{reverse('login_code')}?{query}")
        return super().form_valid(form)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if settings.DEMO_MODE:
            from mediation.demo import DEMO_ACCOUNTS, DEMO_PASSWORD

            emails = [account.email for account in DEMO_ACCOUNTS]
            existing = set(User.objects.filter(email__in=emails).values_list("email", flat=True))
            if existing:
                # Only those in the base: one filled by an older demo lacks the newer accounts.
                context["demo_logins"] = [a for a in DEMO_ACCOUNTS if a.email in existing]
                context["demo_password"] = DEMO_PASSWORD
        return context


class InvitationAcceptView(auth_views.PasswordResetConfirmView):
    template_name = "registration/invitation_accept.html"
    success_url = reverse_lazy("login")
    post_reset_login = False

    def form_valid(self, form):
        messages.success(
            self.request, _("Votre mot de passe est enregistré : vous pouvez vous connecter.")
        )
        return super().form_valid(form)


def error_403(request, exception=None):
    return render(request, "403.html", status=403)


def error_404(request, exception=None):
    return render(request, "404.html", status=404)


def error_500(request):
    # No request context: the failure may come from the database the context would query.
    from django.http import HttpResponseServerError
    from django.template.loader import get_template

    return HttpResponseServerError(get_template("500.html").render({}))


def error_400(request, exception=None):
    return render(request, "400.html", status=400)
