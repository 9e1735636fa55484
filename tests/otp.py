"""Second factor in tests: an authenticator app for a user, the code it shows now, and a
client session verified as the code step would verify it."""

from __future__ import annotations

from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from mediation.two_factor import forget_two_factor_state, totp_device, two_factor_state


def totp_app(user) -> TOTPDevice:
    """The user's confirmed authenticator app, created if they have none."""
    device = totp_device(user)
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Téléphone de test", confirmed=True)
        forget_two_factor_state(user)
    return device


def current_code(device: TOTPDevice) -> str:
    """The code the app shows now; the next one if this one was already used (django-otp
    refuses a code twice, and accepts the next time step)."""
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    if totp.t() <= device.last_t:
        totp.drift += device.last_t + 1 - totp.t()
    return f"{totp.token():0{device.digits}d}"


def verify_session(client, user) -> None:
    """Mark the client's session as verified by the user's app (created if needed), when the
    user must use a second factor or has one. What the code step does after a right code."""
    forget_two_factor_state(user)
    if not two_factor_state(user).must_verify:
        return
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = totp_app(user).persistent_id
    session.save()
