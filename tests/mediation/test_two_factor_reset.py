"""Resetting a second factor (issue 17, fix 8): whoever holds the password (after a password
reset, say) cannot set up a new app on an account that has a second factor. It takes one of
the single-use recovery codes issued at enrolment, or a structure admin's reset, which is
recorded and e-mailed to the person."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from mediation.choices import Role
from mediation.two_factor import recovery_codes_regenerate, two_factor_enrolment_device
from tests.conftest import member
from tests.factories import DEFAULT_PASSWORD
from tests.otp import current_code, totp_app, verify_session

pytestmark = [pytest.mark.django_db, pytest.mark.real_two_factor]

CODE_URL = reverse("login_code")
SETUP_URL = reverse("two_factor_setup")
NEW_PASSWORD = "un-tout-nouveau-mot-de-passe-77"


def lost_app_after_a_password_reset(user) -> list[str]:
    """The user had an app and recovery codes; the app is gone (removed in the operators'
    admin, say) and someone has just reset the password."""
    totp_app(user)
    codes = recovery_codes_regenerate(user=user)
    TOTPDevice.objects.filter(user=user).delete()
    user.set_password(NEW_PASSWORD)
    user.save()
    return codes


def login(client, user):
    return client.post(reverse("login"), {"username": user.email, "password": NEW_PASSWORD})


def test_the_password_alone_cannot_set_up_a_new_app_on_an_account_with_recovery_codes(
    client, structure
):
    coordinator = member(structure, Role.COORDINATOR)
    lost_app_after_a_password_reset(coordinator)

    response = login(client, coordinator)

    # Not signed in: the code step asks for a recovery code.
    assert response.status_code == 302 and response["Location"].startswith(CODE_URL)
    assert "_auth_user_id" not in client.session
    assert client.get(SETUP_URL).status_code == 302
    assert not TOTPDevice.objects.filter(user=coordinator, confirmed=True).exists()


def test_a_recovery_code_lets_the_person_set_up_a_new_app(client, structure):
    coordinator = member(structure, Role.COORDINATOR)
    codes = lost_app_after_a_password_reset(coordinator)
    login(client, coordinator)

    response = client.post(CODE_URL, {"code": codes[0]})
    assert response.status_code == 302
    assert client.get(SETUP_URL).status_code == 200
    device = two_factor_enrolment_device(user=coordinator)
    done = client.post(SETUP_URL, {"code": current_code(device)})
    assert done.status_code == 302
    assert TOTPDevice.objects.filter(user=coordinator, confirmed=True).count() == 1


def test_a_signed_in_session_not_verified_cannot_replace_the_app(client, structure):
    coordinator = member(structure, Role.COORDINATOR)
    lost_app_after_a_password_reset(coordinator)
    client.force_login(coordinator)  # a session without a code

    response = client.get(SETUP_URL)

    assert response.status_code == 302 and response["Location"].startswith(CODE_URL)


def test_an_admins_reset_is_recorded_and_e_mailed_to_the_person(
    client, structure, structure_admin, django_capture_on_commit_callbacks
):
    coordinator = member(structure, Role.COORDINATOR)
    totp_app(coordinator)
    recovery_codes_regenerate(user=coordinator)
    client.force_login(structure_admin)
    verify_session(client, structure_admin)
    membership = coordinator.memberships.get()
    url = reverse(
        "membership_two_factor_reset",
        kwargs={"structure": structure.slug, "membership": membership.pk},
    )
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        client.post(url)

    assert coordinator.history.first().history_user == structure_admin
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [coordinator.email]
    assert "double authentification" in message.subject.lower()
    assert structure_admin.get_full_name() in message.body
    assert DEFAULT_PASSWORD not in message.body
