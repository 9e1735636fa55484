"""Issue 13, delivery receipts and STOP: the messages page shows each SMS's segments and
"Remis" / "Échec de remise", the resident's page shows the STOP. At 360 and 1280 px, with axe
(0 serious or critical)."""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from bookings import notifications
from bookings.choices import Channel, Delivery, MessageKind, MessageStatus
from bookings.models import Notification, SmsOptOut
from mediation.choices import Role
from tests.bookings.test_notifications import make_appointment
from tests.browser.axe import assert_accessible
from tests.browser.conftest import DESKTOP, MOBILE
from tests.browser.test_login_and_home import assert_no_horizontal_scroll
from tests.factories import MembershipFactory, UserFactory

PASSWORD = "mot-de-passe-de-test-42"


@pytest.fixture
def receipts(transactional_db, settings, tmp_path):
    settings.SMS_BACKEND = "bookings.messaging.FileOutboxSmsBackend"
    settings.SMS_OUTBOX_PATH = tmp_path / "sms.jsonl"
    delivered = make_appointment()
    place = delivered.place
    bounced = make_appointment(place=place, motif=delivered.motif, phone="+33698765432")
    for appointment, delivery, segments in (
        (delivered, Delivery.DELIVERED, 2),
        (bounced, Delivery.UNDELIVERED, 1),
    ):
        notifications.on_booked(appointment)
        Notification.objects.filter(
            appointment=appointment, kind=MessageKind.CONFIRMATION, channel=Channel.SMS
        ).update(
            status=MessageStatus.SENT,
            sent_at=timezone.now(),
            segments=segments,
            encoding="gsm7",
            delivery=delivery,
            delivery_at=timezone.now(),
        )
    SmsOptOut.objects.create(structure=place.structure, phone="+33698765432")
    user = UserFactory(email="camille@exemple.fr", password=PASSWORD)
    MembershipFactory(user=user, structure=place.structure, role=Role.MEDIATOR)
    return place.structure, user, bounced.resident


@pytest.mark.parametrize("viewport", [MOBILE, DESKTOP], ids=["360px", "1280px"])
def test_messages_page_shows_delivery_and_resident_page_shows_stop(
    page, live_server, login, screenshot, receipts, viewport
):
    structure, user, resident = receipts
    page.set_viewport_size(viewport)
    login(page, live_server, user.email, PASSWORD)
    page.goto(f"{live_server.url}/s/{structure.slug}/messages/")
    expect(page.get_by_text("Remis", exact=True)).to_be_visible()
    expect(page.get_by_text("Échec de remise", exact=True)).to_be_visible()
    expect(page.get_by_text("2 segments").first).to_be_visible()
    assert_accessible(page)
    screenshot(page, f"sms-receipts-{viewport['width']}")
    page.goto(f"{live_server.url}/s/{structure.slug}/usagers/{resident.pk}/")
    expect(page.get_by_text("SMS refusés (STOP)")).to_be_visible()
    assert_accessible(page)
    assert_no_horizontal_scroll(page)
    screenshot(page, f"sms-stop-{viewport['width']}")
