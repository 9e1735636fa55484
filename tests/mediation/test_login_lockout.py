"""Login brute force: the lockout counts one account whatever the case or the spaces typed,
and one address whatever the accounts it tries (issue 17, fix 1)."""

import pytest
from django.core.cache import cache
from django.urls import reverse

from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clear_rate_limits():
    cache.clear()
    yield
    cache.clear()


def variants(email: str) -> list[str]:
    local, domain = email.split("@")
    return [
        email.upper(),
        local.capitalize() + "@" + domain,
        f"  {email.swapcase()} ",
        local[0].upper() + local[1:] + "@" + domain.upper(),
        "\uff41" + email[1:] if email.startswith("a") else email.title(),  # fullwidth "a"
    ]


def test_case_variants_of_an_address_share_one_count_of_failures(client):
    user = UserFactory(email="agent.tanguy@exemple.fr")
    url = reverse("login")
    for username in variants(user.email):
        client.post(url, {"username": username, "password": "faux"})
    locked = client.post(url, {"username": user.email.upper(), "password": DEFAULT_PASSWORD})
    assert locked.status_code == 429
    assert "Connexion bloquée" in locked.content.decode()
    # The lowercase spelling is locked too, even with the right password.
    assert (
        client.post(url, {"username": user.email, "password": DEFAULT_PASSWORD}).status_code == 429
    )


def test_a_locked_address_cannot_be_opened_by_another_spelling(client):
    user = UserFactory(email="agent.tanguy@exemple.fr")
    url = reverse("login")
    for _ in range(5):
        client.post(url, {"username": user.email, "password": "faux"})
    for username in variants(user.email):
        response = client.post(url, {"username": username, "password": DEFAULT_PASSWORD})
        assert response.status_code == 429, username
    assert "_auth_user_id" not in client.session


def test_another_spelling_with_the_right_password_logs_in(client):
    user = UserFactory(email="agent.tanguy@exemple.fr")
    response = client.post(
        reverse("login"), {"username": "  Agent.TANGUY@Exemple.FR ", "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_failures_are_stored_under_the_normalised_address(client):
    from axes.models import AccessAttempt

    client.post(reverse("login"), {"username": " Agent.Tanguy@EXEMPLE.fr", "password": "faux"})
    assert AccessAttempt.objects.get().username == "agent.tanguy@exemple.fr"


def test_one_address_trying_many_accounts_is_locked_out(client, settings):
    user = UserFactory(email="agent.tanguy@exemple.fr")
    url = reverse("login")
    answers = [
        client.post(url, {"username": f"personne{n}@exemple.fr", "password": "faux"}).status_code
        for n in range(40)
    ]
    limit = settings.LOGIN_FAILURES_PER_ADDRESS
    assert limit < 40
    assert answers[:limit] == [200] * limit
    assert set(answers[limit:]) == {429}
    # Even a real account with its right password, from that address.
    assert (
        client.post(url, {"username": user.email, "password": DEFAULT_PASSWORD}).status_code == 429
    )
    # Another address is not concerned.
    other = client.post(
        url, {"username": user.email, "password": DEFAULT_PASSWORD}, REMOTE_ADDR="203.0.113.9"
    )
    assert other.status_code == 302
