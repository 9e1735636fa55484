"""Two-factor authentication of staff accounts: TOTP (an authenticator app) on django-otp, with
single-use recovery codes.

Who must use it (`two_factor_state(user).required`): platform operators (`is_staff`), anyone
holding a coordinator or structure admin role in a structure, every network coordinator, and the
mediators of a structure whose `mediators_need_two_factor` is set. Other mediators may turn it on
from their account page.

A user has at most one confirmed `TOTPDevice` (their app) and one `StaticDevice` holding their
recovery codes. A session is *verified* once `django_otp.login()` has recorded, in it, the device
that checked a code. `mediation.middleware.TwoFactorMiddleware` is the one place that refuses the
staff pages to an unverified session of a user who must use a second factor or has turned it on.

Every change of someone's second factor (turned on, off, reset by an admin, new recovery codes)
is written to the user's history (django-simple-history, with the author and a reason).
"""

from __future__ import annotations

import base64
import math
import re
from dataclasses import dataclass
from io import BytesIO

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from mediation.choices import Role
from mediation.models import Membership, NetworkMembership, User

RECOVERY_CODE_COUNT = 10
TOTP_DEVICE_NAME = "Application d'authentification"
STATIC_DEVICE_NAME = "Codes de secours"
# The second step of a login waits this long for its code, then the password is asked again.
PENDING_LOGIN_SECONDS = 5 * 60

_PENDING_USER = "permanence_2fa_user"
_PENDING_BACKEND = "permanence_2fa_backend"
_PENDING_AT = "permanence_2fa_at"
_NEW_CODES = "permanence_2fa_new_codes"

_TOTP_CODE = re.compile(r"\d{6}")
# StaticToken.random_token(): 8 characters of base32, shown as "abcd-efgh".
_RECOVERY_CODE = re.compile(r"[a-z2-7]{8}")


@dataclass(frozen=True)
class TwoFactorState:
    required: bool
    #: A second factor is set: an authenticator app, or recovery codes left from one whose
    #: app is gone (removed in the operators' admin). Either way the login asks for a code.
    enabled: bool
    #: The authenticator app itself is set up (a new one cannot be, on top of it).
    has_app: bool = False

    @property
    def must_verify(self) -> bool:
        """A session of this user must be verified by a code before any staff page."""
        return self.required or self.enabled


# --- Reads ----------------------------------------------------------------------------------


def two_factor_state(user) -> TwoFactorState:
    """Whether `user` must use a second factor and whether they have one. One query, cached on
    the user object for the request (`forget_two_factor_state` drops it)."""
    if user is None or not user.is_authenticated:
        return TwoFactorState(required=False, enabled=False)
    cached = getattr(user, "_two_factor_state", None)
    if cached is not None:
        return cached
    memberships = Membership.objects.filter(user=OuterRef("pk"))
    row = (
        User.objects.filter(pk=user.pk)
        .annotate(
            manages=Exists(memberships.filter(role__in=[Role.COORDINATOR, Role.STRUCTURE_ADMIN])),
            coordinates_network=Exists(NetworkMembership.objects.filter(user=OuterRef("pk"))),
            strict_desk=Exists(
                memberships.filter(role=Role.MEDIATOR, structure__mediators_need_two_factor=True)
            ),
            has_app=Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)),
            has_codes=Exists(
                StaticToken.objects.filter(device__user=OuterRef("pk"), device__confirmed=True)
            ),
        )
        .values("is_staff", "manages", "coordinates_network", "strict_desk", "has_app", "has_codes")
        .first()
    )
    if row is None:
        state = TwoFactorState(required=False, enabled=False)
    else:
        state = TwoFactorState(
            required=any(
                row[key] for key in ("is_staff", "manages", "coordinates_network", "strict_desk")
            ),
            enabled=row["has_app"] or row["has_codes"],
            has_app=row["has_app"],
        )
    user._two_factor_state = state
    return state


def forget_two_factor_state(user) -> None:
    if hasattr(user, "_two_factor_state"):
        del user._two_factor_state


def totp_device(user) -> TOTPDevice | None:
    """The user's confirmed authenticator app, if any."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def recovery_codes_left(user) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def users_with_two_factor(user_ids) -> set[int]:
    """Among `user_ids`, those who have a confirmed authenticator app (one query)."""
    return set(
        TOTPDevice.objects.filter(user_id__in=list(user_ids), confirmed=True).values_list(
            "user_id", flat=True
        )
    )


def secret_of(device: TOTPDevice) -> str:
    """The device's secret as an authenticator app takes it typed by hand (base32, by fours)."""
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def qr_code_data_uri(text: str) -> str:
    """An SVG QR code of `text` as a data: URI (an <img>, so the page needs no inline SVG)."""
    import qrcode
    import qrcode.image.svg

    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathFillImage, border=2)
    buffer = BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


def format_recovery_code(token: str) -> str:
    return f"{token[:4]}-{token[4:]}"


# --- Checking a code ------------------------------------------------------------------------


def _normalise(code: str) -> str:
    return re.sub(r"[\s-]", "", code or "").lower()


def _wait_message(info: dict | None) -> str:
    locked_until = (info or {}).get("locked_until")
    seconds = (
        max(1, math.ceil((locked_until - timezone.now()).total_seconds())) if locked_until else 1
    )
    return ngettext(
        "Trop de codes erronés : attendez %(seconds)d seconde avant de réessayer.",
        "Trop de codes erronés : attendez %(seconds)d secondes avant de réessayer.",
        seconds,
    ) % {"seconds": seconds}


def _check_with(device_qs, token: str, wrong: str) -> Device:
    # Locked, like django_otp.verify_token: a recovery code cannot be used twice at once, and
    # the failure count is saved even when the code is wrong (nothing raised in the block).
    with transaction.atomic():
        device = device_qs.select_for_update().order_by("pk").first()
        if device is None:
            error = wrong
        else:
            allowed, info = device.verify_is_allowed()
            if not allowed:
                error = _wait_message(info)
            elif device.verify_token(token):
                return device
            else:
                error = wrong
    raise ValidationError({"code": error})


def two_factor_check(*, user: User, code: str, device: TOTPDevice | None = None) -> Device:
    """The device that accepts `code`: six digits from the authenticator app (the user's
    confirmed one, or `device` during enrolment), or one of the user's recovery codes, which is
    then used up. Raises ValidationError on `code` with a French message otherwise. Wrong codes
    slow down the next attempts (django-otp's throttling: 1, 2, 4, 8… seconds)."""
    token = _normalise(code)
    if _TOTP_CODE.fullmatch(token):
        devices = (
            TOTPDevice.objects.filter(pk=device.pk, user=user)
            if device is not None
            else TOTPDevice.objects.filter(user=user, confirmed=True)
        )
        return _check_with(
            devices,
            token,
            _(
                "Ce code n'est pas le bon. Saisissez les 6 chiffres affichés en ce moment par "
                "votre application (ils changent toutes les 30 secondes) ; vérifiez aussi que "
                "l'heure de votre téléphone est juste."
            ),
        )
    if device is None and _RECOVERY_CODE.fullmatch(token):
        return _check_with(
            StaticDevice.objects.filter(user=user, confirmed=True),
            token,
            _("Ce code de secours n'est pas valide ou a déjà servi."),
        )
    if device is not None:
        raise ValidationError(
            {"code": _("Saisissez les 6 chiffres affichés par votre application.")}
        )
    raise ValidationError(
        {
            "code": _(
                "Saisissez les 6 chiffres affichés par votre application, ou un code de secours "
                "(8 caractères, par exemple abcd-efgh)."
            )
        }
    )


# --- Writes ---------------------------------------------------------------------------------


def _record(user: User, *, by: User | None, reason: str) -> None:
    """A history row on the user: who changed their second factor, and what."""
    user._history_user = by
    user._change_reason = reason
    user.save()
    forget_two_factor_state(user)


def _new_recovery_codes(user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=STATIC_DEVICE_NAME, confirmed=True)
    tokens = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=t) for t in tokens])
    return [format_recovery_code(t) for t in tokens]


@transaction.atomic
def two_factor_enrolment_device(*, user: User) -> TOTPDevice:
    """The not yet confirmed device an enrolment shows: the same one until it is confirmed,
    so that reloading the page keeps the secret already typed into the app."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)
    return device


def two_factor_enable(*, user: User, device: TOTPDevice, code: str) -> list[str]:
    """Turn on the second factor: `code` from the app proves the secret was saved. Returns the
    new recovery codes (to be shown once)."""
    if totp_device(user) is not None:
        raise ValidationError(_("La double authentification est déjà activée sur ce compte."))
    two_factor_check(user=user, code=code, device=device)
    with transaction.atomic():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        codes = _new_recovery_codes(user)
        _record(user, by=user, reason="Double authentification activée")
    return codes


@transaction.atomic
def recovery_codes_regenerate(*, user: User) -> list[str]:
    """New recovery codes; the previous ones stop working."""
    if totp_device(user) is None:
        raise ValidationError(_("Activez d'abord la double authentification."))
    codes = _new_recovery_codes(user)
    _record(user, by=user, reason="Nouveaux codes de secours")
    return codes


def two_factor_disable(*, user: User, code: str) -> None:
    """Turn the second factor off (only for those who need not use it), confirmed by a code."""
    if two_factor_state(user).required:
        raise ValidationError(
            _("La double authentification est obligatoire pour votre rôle : elle reste activée.")
        )
    two_factor_check(user=user, code=code)
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        _record(user, by=user, reason="Double authentification désactivée")


@transaction.atomic
def two_factor_reset(*, membership: Membership, by: User) -> None:
    """A structure admin removes a member's second factor (a lost phone): the member sets up a
    new one at their next login if they must use one. Platform operators are reset by other
    operators, in their admin; an admin resets their own from their account page."""
    user = User.objects.select_for_update().get(pk=membership.user_id)
    if user.pk == by.pk:
        raise ValidationError(_("Pour votre propre compte, passez par la page « Mon compte »."))
    if user.is_staff:
        raise ValidationError(
            _(
                "Le second facteur d'un·e opérateur·rice de la plateforme se réinitialise dans "
                "l'administration de la plateforme."
            )
        )
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    _record(
        user,
        by=by,
        reason=f"Double authentification réinitialisée ({membership.structure.name})"[:100],
    )
    # The person is told, by e-mail, at once: a reset asked for by someone else (who holds
    # the password) is noticed by the account's owner.
    from django_q.tasks import async_task

    transaction.on_commit(
        lambda: async_task(
            "mediation.two_factor.two_factor_reset_notify",
            user_id=user.pk,
            by_name=by.get_full_name() or by.email,
            structure_name=membership.structure.name,
        )
    )


def two_factor_reset_notify(*, user_id: int, by_name: str, structure_name: str) -> None:
    """Task: the e-mail telling someone their second factor was reset, by whom."""
    from django.conf import settings
    from django.core.mail import send_mail
    from django.template.loader import render_to_string
    from django.urls import reverse

    user = User.objects.get(pk=user_id)
    context = {
        "user": user,
        "by_name": by_name,
        "structure_name": structure_name,
        "login_url": settings.SITE_URL + reverse("login"),
    }
    send_mail(
        subject=_("Votre double authentification a été réinitialisée"),
        message=render_to_string("mediation/email/two_factor_reset.txt", context),
        from_email=None,
        recipient_list=[user.email],
    )


# --- The login's second step and the codes shown once -----------------------------------------


def pending_login_set(request, user: User) -> None:
    """The password was right: remember who is logging in until the code is typed."""
    request.session.cycle_key()
    request.session[_PENDING_USER] = user.pk
    request.session[_PENDING_BACKEND] = user.backend
    request.session[_PENDING_AT] = int(timezone.now().timestamp())


def pending_login_get(request) -> tuple[User, str] | None:
    """(user, authentication backend) of the login waiting for its code, if it is recent."""
    user_id = request.session.get(_PENDING_USER)
    started = request.session.get(_PENDING_AT, 0)
    if user_id is None or timezone.now().timestamp() - started > PENDING_LOGIN_SECONDS:
        return None
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return None
    return user, request.session.get(_PENDING_BACKEND)


def pending_login_clear(request) -> None:
    for key in (_PENDING_USER, _PENDING_BACKEND, _PENDING_AT):
        request.session.pop(key, None)


def new_codes_keep(request, codes: list[str]) -> None:
    request.session[_NEW_CODES] = codes


def new_codes_pop(request) -> list[str]:
    """The recovery codes just made, once: a reload does not show them again."""
    return request.session.pop(_NEW_CODES, [])
