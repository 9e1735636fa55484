"""The forgotten-password form sends e-mails: it must not serve to flood a mailbox."""

import pytest
from django.core import mail
from django.core.cache import cache
from django.urls import reverse

from tests.factories import UserFactory


@pytest.fixture(autouse=True)
def fresh_limits():
    cache.clear()
    yield
    cache.clear()


def test_three_requests_an_hour_per_address_then_a_clear_message(client, db):
    user = UserFactory(email="agent@exemple.fr")
    url = reverse("password_reset")
    for _ in range(3):
        assert client.post(url, {"email": user.email}).status_code == 302

    response = client.post(url, {"email": user.email})

    assert response.status_code == 429
    assert "Trop de demandes de réinitialisation" in response.content.decode()
    assert len(mail.outbox) == 3


def test_the_limit_applies_to_unknown_addresses_alike(client, db):
    url = reverse("password_reset")
    statuses = [client.post(url, {"email": "personne@exemple.fr"}).status_code for _ in range(4)]

    assert statuses == [302, 302, 302, 429]
    assert mail.outbox == []


def test_one_address_spraying_many_accounts_is_limited(client, db):
    url = reverse("password_reset")
    statuses = [
        client.post(url, {"email": f"inconnu{n}@exemple.fr"}).status_code for n in range(11)
    ]

    assert statuses[:10] == [302] * 10
    assert statuses[10] == 429
