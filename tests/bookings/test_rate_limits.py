"""Rate limits of the residents' public pages, counted per client address: booking, waiting
list, private link. (Login: django-axes, tests/mediation/test_security.py.)"""

import pytest
from django.core.cache import cache
from django.urls import reverse

from bookings.models import Appointment, WaitlistEntry
from bookings.slots import next_free_slots
from mediation.ratelimit import hit
from tests.bookings.test_public import IDENTITY, desk, details_url, query  # noqa: F401

pytestmark = pytest.mark.django_db

HERE = "127.0.0.1"
ELSEWHERE = "203.0.113.7"


@pytest.fixture(autouse=True)
def _clear_rate_limits():
    cache.clear()
    yield
    cache.clear()


def use_up(scope: str, limit: int, window: int, address: str = HERE) -> None:
    """Count `limit` more requests from `address`: the next one is over the limit."""
    for _ in range(limit):
        hit(scope, address, limit=limit, window=window)


def test_bookings_from_one_address_are_limited_to_20_an_hour(client, desk):  # noqa: F811
    structure, place, motif = desk
    use_up("booking-ip", 20, 3600)
    slot = next_free_slots(place=place, motif=motif, count=1)[0]
    url = details_url(structure, place, motif, slot.starts_at)
    refused = client.post(url, IDENTITY)
    assert refused.status_code == 400
    assert "Trop de demandes depuis cette connexion" in refused.content.decode()
    assert not Appointment.objects.exists()
    assert client.post(url, IDENTITY, REMOTE_ADDR=ELSEWHERE).status_code == 302


def test_waiting_list_from_one_address_is_limited_to_10_an_hour(client, desk):  # noqa: F811
    structure, place, motif = desk
    use_up("waitlist-ip", 10, 3600)
    url = reverse("public_waitlist", kwargs={"structure": structure.slug}) + query(place, motif)
    data = {"first_name": "Léa", "phone": "0612345678", "website": ""}
    assert client.post(url, data).status_code == 400
    assert not WaitlistEntry.objects.exists()
    assert client.post(url, data, REMOTE_ADDR=ELSEWHERE).status_code == 200
    assert WaitlistEntry.objects.count() == 1


def test_private_links_from_one_address_are_limited_to_120_lookups_in_10_minutes(
    client,
    desk,  # noqa: F811
):
    structure, place, motif = desk
    slot = next_free_slots(place=place, motif=motif, count=1)[0]
    booked = client.post(details_url(structure, place, motif, slot.starts_at), IDENTITY)
    link = booked["Location"].split("?")[0]
    assert client.get(link).status_code == 200
    use_up("token-ip", 120, 600)
    assert client.get(link).status_code == 404
    assert client.get(link, REMOTE_ADDR=ELSEWHERE).status_code == 200
