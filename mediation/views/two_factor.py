"""Pages of the second factor: the login's code step, setting up an authenticator app, the
recovery codes shown once, the account page, and an admin's reset of a member's second factor.
The rules live in mediation.two_factor; TwoFactorMiddleware enforces them."""

from __future__ import annotations

from urllib.parse import urlencode

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_lockout_response
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice

from mediation import ratelimit, two_factor
from mediation.access import structure_view
from mediation.models import Membership
from mediation.scoping import access_object
from mediation.views.staff import add_service_errors


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Code de vérification"),
        max_length=20,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autocapitalize": "none", "spellcheck": "false"}
        ),
    )

    def __init__(self, *args, help_text: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].help_text = help_text


def _next_url(request, default: str = "home") -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse(default)


def _demo_code(user) -> str | None:
    """On the demo only: the current code of a demo account, so that a newcomer gets in."""
    if not settings.DEMO_MODE:
        return None
    from mediation.demo import demo_current_code

    return demo_current_code(user)


@require_http_methods(["GET", "POST"])
def login_code(request):
    """The login's second step: a code from the app or a recovery code. Also verifies a
    session signed in some other way (the operators' admin) before the staff pages."""
    next_url = _next_url(request)
    if request.user.is_authenticated:
        if request.user.is_verified() or not two_factor.two_factor_state(request.user).enabled:
            return HttpResponseRedirect(next_url)
        user, backend = request.user, None
    else:
        pending = two_factor.pending_login_get(request)
        if pending is None:
            two_factor.pending_login_clear(request)
            messages.info(
                request, _("Saisissez à nouveau votre adresse e-mail et votre mot de passe.")
            )
            return redirect(f"{reverse('login')}?{urlencode({'next': next_url})}")
        user, backend = pending
    credentials = {"username": user.email}
    if AxesProxyHandler.is_locked(request, credentials) or ratelimit.login_address_locked(request):
        two_factor.pending_login_clear(request)
        if request.user.is_authenticated:
            logout(request)
        return get_lockout_response(request, None, credentials)

    form = CodeForm(
        request.POST or None,
        help_text=_(
            "Les 6 chiffres affichés par votre application d'authentification. Sans votre "
            "téléphone, saisissez l'un de vos codes de secours."
        ),
    )
    if request.method == "POST" and form.is_valid():
        try:
            device = two_factor.two_factor_check(user=user, code=form.cleaned_data["code"])
        except ValidationError as error:
            add_service_errors(form, error)
            # Counted with the wrong passwords: django-axes locks the account and address the
            # same way (and AxesMiddleware shows its page when this failure locks it).
            user_login_failed.send(sender=__name__, credentials=credentials, request=request)
        else:
            if not request.user.is_authenticated:
                two_factor.pending_login_clear(request)
                auth_login(request, user, backend=backend)
            otp_login(request, device)
            if isinstance(device, StaticDevice):
                left = two_factor.recovery_codes_left(user)
                messages.warning(
                    request,
                    ngettext(
                        "Vous vous êtes connecté·e avec un code de secours : il vous en reste "
                        "%(count)d. Créez-en de nouveaux depuis « Mon compte ».",
                        "Vous vous êtes connecté·e avec un code de secours : il vous en reste "
                        "%(count)d. Créez-en de nouveaux depuis « Mon compte ».",
                        left,
                    )
                    % {"count": left},
                )
            return HttpResponseRedirect(next_url)
    return render(
        request,
        "registration/login_code.html",
        {"form": form, "next": next_url, "demo_code": _demo_code(user)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def two_factor_setup(request):
    """Set up an authenticator app: its secret (text, link, QR code), confirmed by a first
    code; then the recovery codes, shown once."""
    user = request.user
    next_url = _next_url(request)
    state = two_factor.two_factor_state(user)
    if state.has_app:
        messages.info(request, _("La double authentification est déjà activée sur votre compte."))
        return redirect("account")
    if state.enabled and not request.user.is_verified():
        # Recovery codes left, no app: a new app only after one of them (the password alone,
        # just reset maybe, is not enough). The code step accepts recovery codes.
        return redirect(
            f"{reverse('login_code')}?{urlencode({'next': reverse('two_factor_setup')})}"
        )
    device = two_factor.two_factor_enrolment_device(user=user)
    form = CodeForm(
        request.POST or None,
        help_text=_("Les 6 chiffres que votre application affiche pour Permanence."),
    )
    form.fields["code"].widget.attrs["inputmode"] = "numeric"
    if request.method == "POST" and form.is_valid():
        try:
            codes = two_factor.two_factor_enable(
                user=user, device=device, code=form.cleaned_data["code"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            device.refresh_from_db()
            otp_login(request, device)
            two_factor.new_codes_keep(request, codes)
            messages.success(request, _("La double authentification est activée."))
            return redirect(f"{reverse('two_factor_codes')}?{urlencode({'next': next_url})}")
    config_url = device.config_url
    return render(
        request,
        "mediation/two_factor_setup.html",
        {
            "form": form,
            "next": next_url,
            "required": state.required,
            "secret": two_factor.secret_of(device),
            "config_url": config_url,
            "qr_code": two_factor.qr_code_data_uri(config_url),
        },
    )


@login_required
def two_factor_codes(request):
    """The recovery codes just made, shown once."""
    codes = two_factor.new_codes_pop(request)
    if not codes:
        return redirect("account")
    return render(
        request,
        "mediation/two_factor_codes.html",
        {"codes": codes, "next": _next_url(request, default="account")},
    )


def _disable_form(data=None) -> CodeForm:
    return CodeForm(
        data,
        prefix="disable",
        help_text=_(
            "Un code de votre application (ou un code de secours) confirme que c'est vous."
        ),
    )


@login_required
def account(request, disable_form: CodeForm | None = None):
    """Mon compte: identity, password, and the second factor."""
    user = request.user
    state = two_factor.two_factor_state(user)
    return render(
        request,
        "mediation/account.html",
        {
            "state": state,
            "codes_left": two_factor.recovery_codes_left(user) if state.enabled else 0,
            "disable_form": disable_form or _disable_form(),
        },
        status=400 if disable_form is not None else 200,
    )


@login_required
@require_POST
def two_factor_regenerate(request):
    try:
        codes = two_factor.recovery_codes_regenerate(user=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("account")
    two_factor.new_codes_keep(request, codes)
    return redirect(f"{reverse('two_factor_codes')}?next={reverse('account')}")


@login_required
@require_POST
def two_factor_disable(request):
    form = _disable_form(request.POST)
    if form.is_valid():
        try:
            two_factor.two_factor_disable(user=request.user, code=form.cleaned_data["code"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("La double authentification est désactivée."))
            return redirect("account")
    return account(request, disable_form=form)


@structure_view("manage_team")
@require_http_methods(["GET", "POST"])
def membership_two_factor_reset(request, structure, membership: int):
    """GET shows what a reset does and asks for a confirmation; POST resets."""
    instance = access_object(
        Membership, request.user, "manage_team", pk=membership, structure=structure
    )
    team_url = reverse("team", kwargs={"structure": structure.slug})
    person = {"person": instance.user.get_full_name() or instance.user.email}
    required = two_factor.two_factor_state(instance.user).required
    if request.method == "GET":
        consequences = [
            _("Son application d'authentification et ses codes de secours ne fonctionneront plus."),
            _("La personne en sera prévenue par e-mail, avec votre nom."),
        ]
        if required:
            consequences += [
                _(
                    "À sa prochaine connexion, après son mot de passe, la personne configurera "
                    "une nouvelle application : la double authentification est obligatoire pour "
                    "elle."
                ),
                _(
                    "Celui ou celle qui connaît son mot de passe pourra configurer la nouvelle "
                    "application : ne réinitialisez qu'après avoir vérifié qui le demande."
                ),
            ]
        else:
            consequences.append(
                _(
                    "La personne se connectera avec son seul mot de passe ; elle pourra "
                    "réactiver la double authentification depuis « Mon compte »."
                )
            )
        return render(
            request,
            "mediation/confirm.html",
            {
                "structure": structure,
                "title": _("Réinitialiser la double authentification"),
                "parent_title": _("Équipe"),
                "question": _("Réinitialiser la double authentification de %(person)s ?") % person,
                "consequences": consequences,
                "cancel_url": team_url,
            },
        )
    try:
        two_factor.two_factor_reset(membership=instance, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        if required:
            message = _(
                "La double authentification de %(person)s est réinitialisée : à sa prochaine "
                "connexion, la personne configurera sa nouvelle application."
            )
        else:
            message = _(
                "La double authentification de %(person)s est réinitialisée : la personne se "
                "connectera avec son seul mot de passe, et pourra la réactiver depuis « Mon "
                "compte »."
            )
        messages.success(request, message % person)
    return redirect(team_url)


def operators_login(request, extra_context=None):
    """The operators' admin signs in through the staff login (password, then code), never
    through Django admin's own form, which knows no second factor."""
    if request.user.is_authenticated and not request.user.is_staff:
        return redirect("home")
    next_url = _next_url(request, default="admin:index")
    if request.user.is_authenticated:
        return HttpResponseRedirect(next_url)
    return redirect(f"{reverse('login')}?{urlencode({'next': next_url})}")
