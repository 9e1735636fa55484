"""Two-factor authentication of staff: who must use it, the login's code step, setting up an
app, recovery codes, the account page, an admin's reset, and the operators' admin.

These tests are marked `real_two_factor`: `client.force_login()` leaves the session without a
second factor, as a stolen password would (see tests/conftest.py)."""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from mediation.choices import Role
from mediation.two_factor import (
    RECOVERY_CODE_COUNT,
    recovery_codes_regenerate,
    two_factor_state,
)
from tests.conftest import member
from tests.factories import (
    DEFAULT_PASSWORD,
    NetworkFactory,
    NetworkMembershipFactory,
    StructureFactory,
    UserFactory,
)
from tests.otp import current_code, totp_app, verify_session
from tests.seeded import RESIDENTS_PER_STRUCTURE, seeded_demo

pytestmark = [pytest.mark.django_db, pytest.mark.real_two_factor]

CODE_URL = reverse("login_code")
SETUP_URL = reverse("two_factor_setup")


def password_step(client, user, next_url=""):
    data = {"username": user.email, "password": DEFAULT_PASSWORD}
    url = reverse("login") + (f"?next={next_url}" if next_url else "")
    return client.post(url, data)


def errors_of(response) -> str:
    return response.content.decode()


# --- Who must use a second factor -------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.STRUCTURE_ADMIN])
def test_coordinators_and_structure_admins_must_use_a_second_factor(structure, role):
    assert two_factor_state(member(structure, role)).required


def test_network_coordinators_and_platform_operators_must_use_a_second_factor(db):
    hub = UserFactory()
    NetworkMembershipFactory(user=hub, network=NetworkFactory())
    operator = UserFactory(is_staff=True)
    assert two_factor_state(hub).required
    assert two_factor_state(operator).required


def test_mediators_must_use_it_only_where_their_structure_asks_for_it(structure, mediator):
    assert not two_factor_state(mediator).required
    strict = StructureFactory(mediators_need_two_factor=True)
    other = member(strict, Role.MEDIATOR)
    assert two_factor_state(other).required


# --- The one place that enforces it -----------------------------------------------------------


def test_a_coordinator_signed_in_without_second_factor_is_sent_to_set_one_up(
    client, structure, coordinator
):
    client.force_login(coordinator)
    for url in (
        reverse("home"),
        structure.get_absolute_url(),
        reverse("team", kwargs={"structure": structure.slug}),
        reverse("account"),
        reverse("password_change"),
    ):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(SETUP_URL + "?next="), url


def test_a_posted_form_of_an_unverified_session_changes_nothing(client, structure, structure_admin):
    client.force_login(structure_admin)
    response = client.post(
        reverse("structure_edit", kwargs={"structure": structure.slug}),
        {"name": "Piratée", "kind": structure.kind},
    )
    assert response.status_code == 302
    structure.refresh_from_db()
    assert structure.name == "Mairie de Lohéac"


def test_a_mediator_of_a_structure_that_does_not_ask_goes_on_without_a_code(
    client, structure, mediator
):
    client.force_login(mediator)
    assert client.get(structure.get_absolute_url()).status_code == 200


def test_a_mediator_whose_structure_starts_asking_must_set_up_a_second_factor(
    client, structure, mediator
):
    client.force_login(mediator)
    structure.mediators_need_two_factor = True
    structure.save()
    response = client.get(structure.get_absolute_url())
    assert response["Location"].startswith(SETUP_URL)


def test_an_unverified_session_of_someone_with_an_app_is_sent_to_the_code_step(
    client, structure, mediator
):
    totp_app(mediator)  # turned on by choice
    client.force_login(mediator)
    response = client.get(structure.get_absolute_url())
    assert response["Location"].startswith(CODE_URL + "?next=")
    response = client.post(CODE_URL, {"code": current_code(totp_app(mediator))})
    assert response.status_code == 302
    assert client.get(structure.get_absolute_url()).status_code == 200


def test_public_pages_and_logout_stay_open_to_an_unverified_session(client, coordinator):
    client.force_login(coordinator)
    # Not sent to the second factor: /healthz answers for itself (503 here: no task cluster
    # runs under test, so its heartbeat is missing).
    assert client.get(reverse("healthz")).status_code in (200, 503)
    assert client.post(reverse("logout")).status_code == 302


# --- The login's code step ---------------------------------------------------------------------


def test_with_an_app_the_password_alone_does_not_open_the_session(client, structure, coordinator):
    app = totp_app(coordinator)
    target = reverse("team", kwargs={"structure": structure.slug})

    response = password_step(client, coordinator, next_url=target)

    assert response.status_code == 302 and response["Location"].startswith(CODE_URL)
    assert "_auth_user_id" not in client.session
    assert client.get(target)["Location"].startswith(reverse("login"))
    response = client.get(response["Location"])
    assert 'autocomplete="one-time-code"' in response.content.decode()

    response = client.post(CODE_URL, {"code": current_code(app), "next": target})

    assert response.status_code == 302 and response["Location"] == target
    assert client.get(target).status_code == 200


def test_a_code_typed_with_spaces_is_accepted(client, coordinator):
    app = totp_app(coordinator)
    password_step(client, coordinator)
    code = current_code(app)
    response = client.post(CODE_URL, {"code": f" {code[:3]} {code[3:]} "})
    assert response.status_code == 302


def test_a_wrong_code_says_so_in_french_at_the_field(client, coordinator):
    totp_app(coordinator)
    password_step(client, coordinator)

    response = client.post(CODE_URL, {"code": "000000"})

    body = errors_of(response)
    assert response.status_code == 200
    assert "Ce code n&#x27;est pas le bon" in body
    assert 'aria-invalid="true"' in body
    assert "_auth_user_id" not in client.session
    response = client.post(CODE_URL, {"code": "bonjour"})
    assert "ou un code de secours (8 caractères" in errors_of(response)


def test_wrong_codes_make_the_next_attempts_wait(client, coordinator):
    app = totp_app(coordinator)
    password_step(client, coordinator)
    client.post(CODE_URL, {"code": "000000"})

    # Even the right code waits: django-otp's throttling (1, 2, 4… seconds).
    response = client.post(CODE_URL, {"code": current_code(app)})

    assert "Trop de codes erronés : attendez" in errors_of(response)
    assert "_auth_user_id" not in client.session


def test_repeated_wrong_codes_lock_the_login_like_wrong_passwords(client, coordinator, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # only django-axes counts here
    totp_app(coordinator)
    password_step(client, coordinator)
    for _ in range(4):
        assert client.post(CODE_URL, {"code": "000000"}).status_code == 200

    response = client.post(CODE_URL, {"code": "000000"})

    assert response.status_code == 429
    assert "Connexion bloquée" in response.content.decode()
    # The password no longer opens anything either.
    assert password_step(client, coordinator).status_code == 429


def test_the_code_step_without_a_recent_password_sends_back_to_the_login(client, coordinator):
    totp_app(coordinator)
    response = client.get(CODE_URL)
    assert response["Location"].startswith(reverse("login"))
    password_step(client, coordinator)
    session = client.session
    session["permanence_2fa_at"] -= 6 * 60
    session.save()
    assert client.get(CODE_URL)["Location"].startswith(reverse("login"))


def test_the_code_step_refuses_a_next_url_on_another_site(client, coordinator):
    app = totp_app(coordinator)
    password_step(client, coordinator)
    response = client.post(CODE_URL, {"code": current_code(app), "next": "https://evil.example/"})
    assert response["Location"] == reverse("home")


# --- Setting up an app, recovery codes -------------------------------------------------------


def test_forced_set_up_shows_the_secret_then_the_recovery_codes_once(
    client, structure, structure_admin
):
    password_step(client, structure_admin)  # no app yet: the session opens, unverified
    target = reverse("team", kwargs={"structure": structure.slug})
    response = client.get(target)
    assert response["Location"] == f"{SETUP_URL}?next=%2Fs%2F{structure.slug}%2Fequipe%2F"

    page = client.get(response["Location"]).content.decode()
    device = TOTPDevice.objects.get(user=structure_admin, confirmed=False)
    assert re.search(r"[A-Z2-7]{4}( [A-Z2-7]{4}){7}", page)  # the secret, typed by hand
    assert "otpauth://totp/Permanence" in page
    assert 'src="data:image/svg+xml;base64,' in page and "alt=" in page
    # Reloading keeps the same secret (already typed into the app).
    client.get(SETUP_URL)
    assert TOTPDevice.objects.filter(user=structure_admin).count() == 1

    wrong = client.post(SETUP_URL, {"code": "000000", "next": target})
    assert "Ce code n&#x27;est pas le bon" in errors_of(wrong)
    device.throttle_reset()
    response = client.post(SETUP_URL, {"code": current_code(device), "next": target})

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("two_factor_codes"))
    codes_page = client.get(response["Location"]).content.decode()
    codes = re.findall(r"<code>([a-z2-7]{4}-[a-z2-7]{4})</code>", codes_page)
    assert len(codes) == RECOVERY_CODE_COUNT == 10
    assert f'href="{target}"' in codes_page
    # Shown once.
    assert client.get(reverse("two_factor_codes"))["Location"] == reverse("account")
    # The session is now verified.
    assert client.get(target).status_code == 200
    assert two_factor_state(structure_admin).enabled
    reasons = list(structure_admin.history.values_list("history_change_reason", flat=True))
    assert "Double authentification activée" in reasons


def test_a_recovery_code_opens_the_session_once(client, coordinator):
    totp_app(coordinator)
    code = recovery_codes_regenerate(user=coordinator)[0]

    password_step(client, coordinator)
    response = client.post(CODE_URL, {"code": code.upper()})
    assert response.status_code == 302
    assert "il vous en reste 9" in client.get(reverse("account")).content.decode()

    client.post(reverse("logout"))
    password_step(client, coordinator)
    response = client.post(CODE_URL, {"code": code})
    assert "Ce code de secours n&#x27;est pas valide ou a déjà servi." in errors_of(response)
    assert StaticToken.objects.filter(device__user=coordinator).count() == 9


# --- The account page --------------------------------------------------------------------------


def test_the_account_page_counts_recovery_codes_and_makes_new_ones(client, coordinator):
    totp_app(coordinator)
    old = recovery_codes_regenerate(user=coordinator)
    client.force_login(coordinator)
    verify_session(client, coordinator)
    page = client.get(reverse("account")).content.decode()
    assert "Il vous reste 10 codes de secours." in page
    assert "Désactiver" not in page  # required for a coordinator

    response = client.post(reverse("two_factor_regenerate"))
    new = re.findall(
        r"<code>([a-z2-7-]{9})</code>", client.get(response["Location"]).content.decode()
    )

    assert len(new) == 10 and not set(new) & set(old)
    assert StaticToken.objects.filter(device__user=coordinator).count() == 10


def test_a_required_second_factor_cannot_be_turned_off(client, coordinator):
    app = totp_app(coordinator)
    client.force_login(coordinator)
    verify_session(client, coordinator)
    response = client.post(reverse("two_factor_disable"), {"disable-code": current_code(app)})
    assert "obligatoire pour votre rôle" in errors_of(response)
    assert TOTPDevice.objects.filter(user=coordinator).exists()


def test_a_mediator_turns_it_on_and_off_from_the_account_page(client, mediator):
    client.force_login(mediator)
    assert "Activer la double authentification" in client.get(reverse("account")).content.decode()
    client.get(SETUP_URL)
    device = TOTPDevice.objects.get(user=mediator)
    client.post(SETUP_URL, {"code": current_code(device)})
    assert two_factor_state(mediator).enabled

    wrong = client.post(reverse("two_factor_disable"), {"disable-code": "000000"})
    assert wrong.status_code == 400 and "Ce code n&#x27;est pas le bon" in errors_of(wrong)
    device.refresh_from_db()
    device.throttle_reset()
    response = client.post(reverse("two_factor_disable"), {"disable-code": current_code(device)})

    assert response["Location"] == reverse("account")
    assert not TOTPDevice.objects.filter(user=mediator).exists()
    mediator.refresh_from_db()
    assert mediator.history.first().history_change_reason == "Double authentification désactivée"


# --- Reset by a structure admin ----------------------------------------------------------------


def reset_url(structure, membership):
    return reverse(
        "membership_two_factor_reset",
        kwargs={"structure": structure.slug, "membership": membership.pk},
    )


def test_a_structure_admin_resets_a_lost_phone_and_it_is_recorded(
    client, structure, structure_admin, coordinator
):
    totp_app(coordinator)
    recovery_codes_regenerate(user=coordinator)
    client.force_login(structure_admin)
    verify_session(client, structure_admin)
    team = client.get(reverse("team", kwargs={"structure": structure.slug})).content.decode()
    assert "Réinitialiser la double authentification" in team
    membership = coordinator.memberships.get()
    confirmation = client.get(reset_url(structure, membership)).content.decode()
    assert "configurera une nouvelle application" in confirmation
    assert ">Confirmer</button>" in confirmation
    assert TOTPDevice.objects.filter(user=coordinator).exists()

    response = client.post(reset_url(structure, membership), follow=True)

    assert "configurera sa nouvelle application" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=coordinator).exists()
    assert not StaticToken.objects.filter(device__user=coordinator).exists()
    record = coordinator.history.first()
    assert record.history_user == structure_admin
    assert record.history_change_reason.startswith("Double authentification réinitialisée")
    # Next login: the password, then a new app to set up.
    other = client.__class__()
    password_step(other, coordinator)
    assert other.get(reverse("home"))["Location"].startswith(SETUP_URL)


def test_resetting_a_mediator_who_need_not_use_it_says_the_password_alone_will_do(
    client, structure, structure_admin, mediator
):
    totp_app(mediator)
    client.force_login(structure_admin)
    verify_session(client, structure_admin)
    membership = mediator.memberships.get()
    confirmation = client.get(reset_url(structure, membership)).content.decode()
    assert "avec son seul mot de passe" in confirmation
    assert "configurera" not in confirmation

    response = client.post(reset_url(structure, membership), follow=True)

    body = response.content.decode()
    assert "avec son seul mot de passe" in body and "configurera" not in body
    assert not TOTPDevice.objects.filter(user=mediator).exists()


def test_only_an_admin_of_the_structure_resets_a_second_factor(client, structure, coordinator):
    totp_app(coordinator)
    membership = coordinator.memberships.get()
    outsider = member(StructureFactory(), Role.STRUCTURE_ADMIN)
    client.force_login(outsider)
    verify_session(client, outsider)
    assert client.post(reset_url(structure, membership)).status_code == 404
    colleague = member(structure, Role.COORDINATOR)
    client.force_login(colleague)
    verify_session(client, colleague)
    assert client.post(reset_url(structure, membership)).status_code == 403
    assert TOTPDevice.objects.filter(user=coordinator).exists()


def test_an_operators_second_factor_is_not_reset_from_a_structure(
    client, structure, structure_admin
):
    operator = member(structure, Role.MEDIATOR, is_staff=True)
    totp_app(operator)
    client.force_login(structure_admin)
    verify_session(client, structure_admin)
    response = client.post(reset_url(structure, operator.memberships.get()), follow=True)
    assert "l&#x27;administration de la plateforme" in response.content.decode()
    assert TOTPDevice.objects.filter(user=operator).exists()


# --- The operators' admin ---------------------------------------------------------------------


def test_the_operators_admin_refuses_an_operator_without_second_factor(client):
    operator = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(operator)
    response = client.get("/operateurs/mediation/user/")
    assert response["Location"].startswith(SETUP_URL)
    totp_app(operator)
    response = client.get("/operateurs/mediation/user/")
    assert response["Location"].startswith(CODE_URL)


def test_the_operators_admin_signs_in_through_the_staff_login_and_its_code(client):
    operator = UserFactory(is_staff=True, is_superuser=True)
    app = totp_app(operator)
    response = client.get(reverse("admin:login") + "?next=/operateurs/")
    assert response["Location"] == reverse("login") + "?next=%2Foperateurs%2F"

    response = password_step(client, operator, next_url="/operateurs/")
    response = client.post(response["Location"], {"code": current_code(app)})

    assert response["Location"] == "/operateurs/"
    assert client.get("/operateurs/").status_code == 200


# --- Demo -------------------------------------------------------------------------------------


def test_demo_accounts_that_need_it_have_a_fixed_secret_and_see_their_code(client, settings):
    from mediation.demo import demo_current_code, demo_totp_secret, seed_demo

    settings.DEMO_MODE = True
    seeded_demo()  # the demo as seed_demo() leaves it (tests/seeded.py)
    seed_demo(residents_per_structure=RESIDENTS_PER_STRUCTURE)  # idempotent: still one app each
    from mediation.models import User

    admin = User.objects.get(email="admin@permanence.demo")
    device = TOTPDevice.objects.get(user=admin)
    assert TOTPDevice.objects.filter(user__email="mediatrice@permanence.demo").count() == 0
    assert TOTPDevice.objects.filter(user__email="jean-marc.payet@permanence.demo").count() == 1
    assert TOTPDevice.objects.filter(user__email="operateur@permanence.demo").count() == 1
    assert len(demo_totp_secret(admin.email)) == 32

    response = client.post(
        reverse("login"), {"username": admin.email, "password": "permanence-demo"}
    )
    page = client.get(response["Location"]).content.decode()
    code = demo_current_code(admin)
    assert f"Code du moment : <code>{code}</code>" in page
    assert client.post(CODE_URL, {"code": code}).status_code == 302
    device.refresh_from_db()
    assert device.last_t > 0


def test_demo_totp_prints_the_current_codes(capsys, db):
    seeded_demo()
    call_command("demo_totp")
    out = capsys.readouterr().out
    assert "coordinatrice@permanence.demo" in out
    assert "mediatrice@permanence.demo " not in out
    assert re.search(r"admin@permanence\.demo\s+\d{3} \d{3}", out)


def test_every_demo_app_has_a_160_bit_key_and_prints_it_in_its_otpauth_link(capsys, db):
    """Standard authenticator tools refuse 80-bit secrets: the demo's are 160 bits like
    django-otp's own (`random_hex(20)`)."""
    import base64
    from urllib.parse import parse_qs, urlparse

    seeded_demo()
    devices = list(TOTPDevice.objects.filter(user__email__endswith="@permanence.demo"))
    assert devices
    assert all(len(device.bin_key) == 20 for device in devices)

    call_command("seed_demo", "--if-empty")
    out = capsys.readouterr().out
    uris = re.findall(r"otpauth://\S+", out)
    assert uris
    for uri in uris:
        secret = parse_qs(urlparse(uri).query)["secret"][0]
        assert len(base64.b32decode(secret + "=" * (-len(secret) % 8))) == 20


def test_a_base_seeded_with_80_bit_demo_keys_gets_160_bit_ones(db):
    import hashlib

    from mediation.demo import demo_current_code, give_demo_accounts_their_second_factor
    from mediation.models import User

    seeded_demo()
    admin = User.objects.get(email="admin@permanence.demo")
    old = hashlib.sha256(f"permanence-demo-totp:{admin.email}".encode()).digest()[:10].hex()
    TOTPDevice.objects.filter(user=admin).update(key=old)

    give_demo_accounts_their_second_factor()

    assert len(TOTPDevice.objects.get(user=admin).bin_key) == 20
    assert demo_current_code(admin) is not None
