"""Brevo's SMS webhook: delivery receipts ("Remis" / "Échec de remise", e-mail fallback once) and
STOP answers (an opt-out per structure, honoured by every later SMS, shown on the resident's
page). Authenticated by a secret in the URL; unknown messages and numbers are ignored."""

import json
import logging
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from bookings import notifications, tasks
from bookings.choices import Channel, Delivery, MessageKind, MessageStatus
from bookings.models import Notification, SmsOptOut, WaitlistEntry
from bookings.slots import FreeSlot
from mediation.choices import Role
from tests.bookings.test_notifications import MOBILE, make_appointment, outbox_url, rows
from tests.conftest import member
from tests.factories import PlaceFactory, StructureFactory

pytestmark = pytest.mark.django_db

SECRET = "s3cret-webhook-token-0123456789abcdef"


@pytest.fixture(autouse=True)
def webhook_settings(settings, tmp_path):
    settings.SMS_BACKEND = "bookings.messaging.FileOutboxSmsBackend"
    settings.SMS_OUTBOX_PATH = tmp_path / "sms.jsonl"
    settings.SITE_URL = "https://rdv.example.org"
    settings.BREVO_WEBHOOK_SECRET = SECRET


def url(token=SECRET):
    return reverse("brevo_sms_webhook", kwargs={"token": token})


def post(client, payload, token=SECRET):
    return client.post(url(token), data=json.dumps(payload), content_type="application/json")


def sent_sms(*, email="", kind=MessageKind.CONFIRMATION, reference="brevo-ref-1"):
    appointment = make_appointment(email=email)
    notifications.on_booked(appointment)
    sms = rows(appointment)[kind, Channel.SMS]
    Notification.objects.filter(pk=sms.pk).update(
        status=MessageStatus.SENT, sent_at=timezone.now(), provider_reference=reference, segments=2
    )
    sms.refresh_from_db()
    return appointment, sms


def receipt(status, reference="brevo-ref-1", message_id=1511882900176220):
    return {
        "id": 1,
        "to": MOBILE.lstrip("+"),
        "sms_count": 2,
        "messageId": message_id,
        "reference": reference,
        "msg_status": status,
        "date": "2026-12-03 17:00:00",
        "type": "sms",
    }


def snapshot():
    return sorted(
        Notification.objects.values_list("pk", "status", "delivery", "delivery_at", "channel")
    ) + sorted(SmsOptOut.objects.values_list("pk", "structure_id", "phone", "lifted_at"))


# --- Authentication -------------------------------------------------------------------------


def test_a_forged_token_is_refused_and_nothing_is_recorded(client, caplog):
    _appointment, sms = sent_sms()
    before = snapshot()
    with caplog.at_level(logging.WARNING, logger="bookings.webhooks"):
        response = post(client, receipt("delivered"), token="s3cret-webhook-token-0123456789abcdeX")
    assert response.status_code == 403
    assert "wrong token" in caplog.text
    assert snapshot() == before
    sms.refresh_from_db()
    assert sms.delivery == ""


def test_the_real_token_records_the_delivery(client):
    _appointment, sms = sent_sms()
    response = post(client, receipt("delivered"))
    assert response.status_code == 200
    assert response.json()["status"] == "recorded"
    sms.refresh_from_db()
    assert sms.delivery == Delivery.DELIVERED and sms.delivery_at is not None
    assert sms.status == MessageStatus.SENT  # the bill still counts it


def test_without_a_configured_secret_the_endpoint_does_not_exist(client, settings):
    settings.BREVO_WEBHOOK_SECRET = ""
    assert post(client, receipt("delivered"), token="anything").status_code == 404


def test_the_webhook_takes_only_posts_without_a_session_or_csrf(client):
    client.handler.enforce_csrf_checks = True
    assert client.get(url()).status_code == 405
    sent_sms()
    assert post(client, receipt("delivered")).status_code == 200


def test_repeated_forged_tokens_are_rate_limited(client):
    for _ in range(21):
        post(client, receipt("delivered"), token="wrong")
    assert post(client, receipt("delivered")).status_code == 429


# --- Receipts -------------------------------------------------------------------------------


def test_the_message_is_found_by_brevo_message_id_too(client):
    _appointment, sms = sent_sms(reference="1511882900176220")
    assert post(client, receipt("delivered", reference="")).json()["status"] == "recorded"
    sms.refresh_from_db()
    assert sms.delivery == Delivery.DELIVERED


def test_brevo_documented_payload_is_read(client):
    """The SMS payload of Brevo's "Transactional webhooks" page: `messageId` an integer,
    `reference` a string, `to` without "+", `msg_status` in snake_case."""
    _appointment, sms = sent_sms(reference="ab12cd34-ref")
    documented = {
        "id": 26570,
        "to": MOBILE.lstrip("+"),
        "sms_count": 2,
        "credits_used": 1.5,
        "messageId": 123,
        "remaining_credit": 11488.845,
        "msg_status": "sent",
        "date": "2026-12-03 17:00:00",
        "type": "transactional",
        "reference": "ab12cd34-ref",
    }
    assert post(client, documented).json() == {"status": "ignored", "events": ["ignored"]}
    sms.refresh_from_db()
    assert sms.delivery == ""
    for status in ("accepted", "sent"):
        assert post(client, {**documented, "msg_status": status}).json()["status"] == "ignored"
    response = post(client, {**documented, "msg_status": "delivered"})
    assert response.json() == {"status": "recorded", "events": ["recorded"]}
    sms.refresh_from_db()
    assert sms.delivery == Delivery.DELIVERED


@pytest.mark.parametrize(
    "event",
    ["hard_bounce", "hardBounce", "soft_bounce", "softBounce", "blacklisted", "skip", "rejected"],
)
def test_a_bounce_is_recorded_as_a_failed_delivery(client, event):
    _appointment, sms = sent_sms()
    post(client, receipt(event))
    sms.refresh_from_db()
    assert sms.delivery == Delivery.UNDELIVERED


def test_a_receipt_for_an_unknown_message_is_ignored_logged_and_changes_nothing(client, caplog):
    sent_sms()
    before = snapshot()
    with caplog.at_level(logging.INFO, logger="bookings.receipts"):
        response = post(client, receipt("hard_bounce", reference="nobody", message_id=42))
    assert response.status_code == 200
    assert response.json() == {"status": "ignored", "events": ["ignored"]}
    assert "unknown message" in caplog.text
    assert snapshot() == before


@pytest.mark.parametrize(
    "body",
    [b"not json", b"\xff\xfe", b"[1, 2]", b'{"msg_status": 3}', b'{"msg_status": "delivered"}'],
)
def test_bad_bodies_get_a_clear_answer_and_change_nothing(client, body):
    sent_sms()
    before = snapshot()
    response = client.post(url(), data=body, content_type="application/json")
    assert response.status_code in (200, 400)
    assert snapshot() == before


def test_a_failed_sms_falls_back_to_email_once_even_if_the_receipt_comes_twice(
    client, django_capture_on_commit_callbacks
):
    appointment, sms = sent_sms()
    appointment.resident.email = "awa@example.org"  # given after the booking
    appointment.resident.save()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        post(client, receipt("hard_bounce"))
    with django_capture_on_commit_callbacks(execute=False) as again:
        post(client, receipt("hard_bounce"))
        post(client, receipt("soft_bounce"))
    emails = Notification.objects.filter(
        appointment=appointment, kind=MessageKind.CONFIRMATION, channel=Channel.EMAIL
    )
    assert emails.count() == 1
    email = emails.get()
    assert email.recipient == "awa@example.org" and email.status == MessageStatus.PENDING
    assert len(callbacks) == 1 and again == []
    assert tasks.send_notification(email.pk) == "sent"


def test_no_fallback_when_the_resident_already_had_the_email_or_has_none(client):
    with_email, sms = sent_sms(email="awa@example.org")
    before = Notification.objects.filter(channel=Channel.EMAIL).count()
    post(client, receipt("hard_bounce"))
    assert Notification.objects.filter(channel=Channel.EMAIL).count() == before
    _without, other = sent_sms(reference="brevo-ref-2")
    post(client, receipt("hard_bounce", reference="brevo-ref-2"))
    other.refresh_from_db()
    assert other.delivery == Delivery.UNDELIVERED
    assert Notification.objects.filter(channel=Channel.EMAIL).count() == before


def test_a_late_delivery_wins_over_a_bounce_but_not_the_reverse(client):
    _appointment, sms = sent_sms()
    post(client, receipt("soft_bounce"))
    post(client, receipt("delivered"))
    sms.refresh_from_db()
    assert sms.delivery == Delivery.DELIVERED
    post(client, receipt("hard_bounce"))
    sms.refresh_from_db()
    assert sms.delivery == Delivery.DELIVERED


def test_outbox_shows_segments_and_delivery_status(client, django_assert_max_num_queries):
    appointment, sms = sent_sms(reference="ok-ref")
    other = make_appointment(place=appointment.place, motif=appointment.motif)
    notifications.on_booked(other)
    bounced = rows(other)[MessageKind.CONFIRMATION, Channel.SMS]
    Notification.objects.filter(pk=bounced.pk).update(
        status=MessageStatus.SENT, sent_at=timezone.now(), provider_reference="ko-ref", segments=1
    )
    post(client, receipt("delivered", reference="ok-ref"))
    post(client, receipt("hard_bounce", reference="ko-ref"))
    structure = appointment.place.structure
    client.force_login(member(structure, Role.MEDIATOR))
    with django_assert_max_num_queries(15):
        body = client.get(outbox_url(structure)).content.decode()
    assert "Remis" in body and "Échec de remise" in body
    assert "2 segments" in body and "1 segment" in body


# --- STOP -----------------------------------------------------------------------------------


def reply(text, number=MOBILE, status="reply"):
    return {"msg_status": status, "to": number.lstrip("+"), "reply": text, "type": "transactional"}


def test_stop_records_an_opt_out_for_the_structure_that_texted_and_later_sms_are_not_sent(
    client,
):
    appointment, _sms = sent_sms()
    structure = appointment.place.structure
    elsewhere = StructureFactory()
    response = post(client, reply("Stop "))
    assert response.json()["status"] == "recorded"
    [opt_out] = SmsOptOut.objects.all()
    assert (opt_out.structure_id, opt_out.phone) == (structure.pk, MOBILE)
    # The reminder recorded before the STOP is dropped when its time comes.
    reminder = rows(appointment)[MessageKind.REMINDER, Channel.SMS]
    assert tasks.send_notification(reminder.pk, now=reminder.send_after) == "dropped"
    reminder.refresh_from_db()
    assert reminder.status == MessageStatus.DROPPED and "STOP" in reminder.last_error
    # A new booking at the structure gets no SMS; another structure still texts the number.
    again = make_appointment(place=appointment.place, motif=appointment.motif, email="a@b.fr")
    notifications.on_booked(again)
    assert {channel for _kind, channel in rows(again)} == {Channel.EMAIL}
    other = make_appointment(place=PlaceFactory(structure=elsewhere))
    notifications.on_booked(other)
    assert (MessageKind.CONFIRMATION, Channel.SMS) in rows(other)


def test_stop_also_silences_waiting_list_offers(client):
    appointment, _sms = sent_sms()
    post(client, reply("STOP"))
    place = appointment.place
    entry = WaitlistEntry.objects.create(
        place=place, motif=appointment.motif, first_name="Awa", phone=MOBILE
    )
    start = timezone.now() + timedelta(days=2)
    free = FreeSlot(
        starts_at=start, ends_at=start + timedelta(minutes=30), mediator_id=0, seats_left=1
    )
    assert notifications.on_waitlist_offer(entry, free) == []


def test_brevo_unsubscribe_event_and_french_arret_count_as_stop(client):
    sent_sms()
    post(client, {"msg_status": "unsubscribe", "to": MOBILE.lstrip("+")})
    assert SmsOptOut.objects.count() == 1
    post(client, reply("ARRÊT"))
    assert SmsOptOut.objects.count() == 1  # once per structure


def test_a_reply_that_is_not_stop_changes_nothing(client):
    sent_sms()
    before = snapshot()
    assert post(client, reply("Merci, je serai là. Stop au retard !")).json()["status"] == (
        "ignored"
    )
    assert snapshot() == before


def test_stop_from_an_unknown_number_is_ignored_logged_and_changes_nothing(client, caplog):
    sent_sms()
    before = snapshot()
    with caplog.at_level(logging.INFO, logger="bookings.receipts"):
        response = post(client, reply("STOP", number="+33698765432"))
    assert response.status_code == 200 and response.json()["status"] == "ignored"
    assert "no structure texted" in caplog.text and "98765432" not in caplog.text
    assert snapshot() == before


@pytest.mark.parametrize("number", ["", "abc", "+0", "336" + "9" * 30, None, 12])
def test_stop_with_a_bad_number_is_ignored(client, number):
    sent_sms()
    before = snapshot()
    event = {"msg_status": "replied", "to": number, "reply": "STOP"}
    assert post(client, event).status_code == 200
    assert snapshot() == before


def test_the_opt_out_is_shown_on_the_resident_page(client, django_assert_max_num_queries):
    appointment, _sms = sent_sms()
    structure = appointment.place.structure
    page = reverse(
        "resident_detail", kwargs={"structure": structure.slug, "resident": appointment.resident_id}
    )
    client.force_login(member(structure, Role.MEDIATOR))
    assert "SMS refusés (STOP)" not in client.get(page).content.decode()
    post(client, reply("STOP"))
    body = client.get(page).content.decode()
    assert "SMS refusés (STOP)" in body
    assert timezone.localdate().strftime("%d/%m/%Y") in body


def test_an_opt_out_is_personal_data_declared_with_retention():
    from mediation.privacy import declaration

    entry = declaration(SmsOptOut)
    assert entry.expires is not None and entry.owned_rows is not None


# --- START ----------------------------------------------------------------------------------


@pytest.mark.parametrize("answer", ["START", "start merci", "Unstop"])
def test_start_lifts_the_stop_and_sms_go_again(client, answer):
    appointment, _sms = sent_sms()
    post(client, reply("STOP"))
    response = post(client, reply(answer, status="replied"))
    assert response.json()["status"] == "recorded"
    [opt_out] = SmsOptOut.objects.all()
    assert opt_out.lifted_at is not None and opt_out.lifted_by is None
    assert opt_out.history.first().history_change_reason == "START reçu de l'usager"
    again = make_appointment(place=appointment.place, motif=appointment.motif)
    notifications.on_booked(again)
    assert (MessageKind.CONFIRMATION, Channel.SMS) in rows(again)


def test_brevo_subscribe_event_lifts_the_stop_and_a_new_stop_wins_again(client):
    appointment, _sms = sent_sms()
    post(client, {"msg_status": "unsubscribe", "to": MOBILE.lstrip("+")})
    post(client, {"msg_status": "subscribe", "to": MOBILE.lstrip("+")})
    assert not SmsOptOut.objects.active().exists()
    post(client, reply("STOP"))
    [opt_out] = SmsOptOut.objects.active()
    assert opt_out.lifted_at is None
    reasons = list(opt_out.history.values_list("history_change_reason", flat=True))
    assert reasons == ["STOP reçu de l'usager", "START reçu de l'usager", "STOP reçu de l'usager"]


def test_start_without_a_stop_is_ignored_logged_and_changes_nothing(client, caplog):
    sent_sms()
    before = snapshot()
    with caplog.at_level(logging.INFO, logger="bookings.receipts"):
        response = post(client, reply("START"))
    assert response.json()["status"] == "ignored"
    assert "START from a number without a STOP" in caplog.text
    assert snapshot() == before


# --- Lifting a STOP from the resident's page -------------------------------------------------


def resume_url(appointment):
    return reverse(
        "resident_sms_resume",
        kwargs={
            "structure": appointment.place.structure.slug,
            "resident": appointment.resident_id,
        },
    )


def test_staff_lift_a_stop_only_with_the_residents_consent_recorded_in_history(client):
    appointment, _sms = sent_sms()
    structure = appointment.place.structure
    post(client, reply("STOP"))
    mediator = member(structure, Role.MEDIATOR)
    client.force_login(mediator)
    detail = reverse(
        "resident_detail", kwargs={"structure": structure.slug, "resident": appointment.resident_id}
    )
    assert resume_url(appointment) in client.get(detail).content.decode()
    page = client.get(resume_url(appointment))
    assert page.status_code == 200 and 'type="checkbox"' in page.content.decode()
    # Without the box ticked: a French message at the field, the STOP stays.
    refused = client.post(resume_url(appointment), {})
    assert refused.status_code == 200
    assert "accord pour recevoir" in refused.context["form"].errors["consent"][0]
    assert SmsOptOut.objects.active().count() == 1
    done = client.post(resume_url(appointment), {"consent": "on"})
    assert done.status_code == 302 and done["Location"] == detail
    [opt_out] = SmsOptOut.objects.all()
    assert opt_out.lifted_at is not None and opt_out.lifted_by == mediator
    last = opt_out.history.first()
    assert last.history_user == mediator and "accord de l'usager" in last.history_change_reason
    assert "SMS refusés (STOP)" not in client.get(detail).content.decode()
    again = make_appointment(place=appointment.place, motif=appointment.motif)
    notifications.on_booked(again)
    assert (MessageKind.CONFIRMATION, Channel.SMS) in rows(again)


def test_the_lift_page_without_a_stop_goes_back_to_the_resident(client):
    appointment, _sms = sent_sms()
    client.force_login(member(appointment.place.structure, Role.MEDIATOR))
    response = client.get(resume_url(appointment))
    assert response.status_code == 302
    assert SmsOptOut.objects.count() == 0


def test_the_service_refuses_a_lift_without_consent():
    from django.core.exceptions import ValidationError

    from bookings.services.receipts import sms_opt_out_lift, sms_opt_out_record

    appointment, _sms = sent_sms()
    [opt_out] = sms_opt_out_record(phone=MOBILE)
    staff = member(appointment.place.structure, Role.MEDIATOR)
    with pytest.raises(ValidationError) as error:
        sms_opt_out_lift(opt_out=opt_out, consent=False, by=staff)
    assert "consent" in error.value.message_dict
    opt_out.refresh_from_db()
    assert opt_out.lifted_at is None
