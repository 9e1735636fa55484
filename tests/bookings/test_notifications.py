"""Messages to residents: recorded once, sent once after commit, never late, retried, shown."""

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from bookings import notifications, tasks
from bookings.choices import AppointmentStatus, Channel, MessageKind, MessageStatus, MotifMode
from bookings.messaging import SmsError, read_outbox
from bookings.models import Appointment, Notification, WaitlistEntry
from bookings.slots import FreeSlot
from mediation.choices import Role
from tests.bookings.factories import MotifFactory, SlotFactory
from tests.conftest import member
from tests.factories import PlaceFactory, ResidentFactory, StructureFactory, UserFactory

pytestmark = pytest.mark.django_db

MOBILE = "+33612345678"
LANDLINE = "+33299123456"


class FailingBackend:
    """An SMS provider that refuses everything (with a message that must not be stored)."""

    calls = 0

    def send_sms(self, to, body):
        FailingBackend.calls += 1
        raise SmsError("Brevo : HTTP 503")


class ExplodingBackend:
    """A provider whose client library raises something unexpected, quoting the number."""

    def send_sms(self, to, body):
        raise RuntimeError(f"cannot reach {to}")


class CountingBackend:
    sent: list = []

    def send_sms(self, to, body):
        CountingBackend.sent.append((to, body))
        return f"count-{len(CountingBackend.sent)}"


@pytest.fixture(autouse=True)
def sms_outbox(settings, tmp_path):
    settings.SMS_BACKEND = "bookings.messaging.FileOutboxSmsBackend"
    settings.SMS_OUTBOX_PATH = tmp_path / "sms.jsonl"
    settings.SITE_URL = "https://rdv.example.org"
    CountingBackend.sent = []
    FailingBackend.calls = 0
    return settings.SMS_OUTBOX_PATH


def make_appointment(
    *,
    place=None,
    starts_at=None,
    phone=MOBILE,
    email="",
    motif=None,
    status=AppointmentStatus.BOOKED,
):
    place = place or PlaceFactory(name="Salle du conseil", address="1 place de la Mairie")
    motif = motif or MotifFactory(
        structure=place.structure, instructions="Apportez votre carte Vitale."
    )
    starts_at = starts_at or timezone.now().replace(microsecond=0) + timedelta(days=5)
    slot = SlotFactory(place=place, motif=motif, mediator=UserFactory(), starts_at=starts_at)
    resident = ResidentFactory(
        structure=place.structure, first_name="Awa", phone=phone, email=email
    )
    return Appointment.objects.create(
        place=place,
        motif=motif,
        mediator=slot.mediator,
        resident=resident,
        slot=slot,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        status=status,
    )


def rows(appointment):
    return {(n.kind, n.channel): n for n in Notification.objects.filter(appointment=appointment)}


# --- Recording ------------------------------------------------------------------------------


def test_booking_records_a_confirmation_and_a_reminder_per_channel():
    appointment = make_appointment(email="awa@example.org")
    now = timezone.now()
    notifications.on_booked(appointment, now=now)
    found = rows(appointment)
    assert set(found) == {
        (MessageKind.CONFIRMATION, Channel.SMS),
        (MessageKind.CONFIRMATION, Channel.EMAIL),
        (MessageKind.REMINDER, Channel.SMS),
        (MessageKind.REMINDER, Channel.EMAIL),
    }
    reminder = found[MessageKind.REMINDER, Channel.SMS]
    assert reminder.send_after == appointment.starts_at - timedelta(hours=48)
    assert reminder.send_before == appointment.starts_at
    assert reminder.recipient == MOBILE
    assert found[MessageKind.CONFIRMATION, Channel.EMAIL].recipient == "awa@example.org"
    assert all(n.structure_id == appointment.place.structure_id for n in found.values())


def test_landline_gets_no_sms_but_the_email_still_goes():
    appointment = make_appointment(phone=LANDLINE, email="awa@example.org")
    notifications.on_booked(appointment)
    assert {channel for _kind, channel in rows(appointment)} == {Channel.EMAIL}


def test_resident_with_a_landline_and_no_email_gets_no_message():
    appointment = make_appointment(phone=LANDLINE)
    assert notifications.on_booked(appointment) == []
    assert not Notification.objects.exists()


def test_calling_on_booked_twice_records_nothing_more(django_capture_on_commit_callbacks):
    appointment = make_appointment(email="awa@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        notifications.on_booked(appointment)
    with django_capture_on_commit_callbacks(execute=True) as second:
        assert notifications.on_booked(appointment) == []
    assert Notification.objects.count() == 4
    assert second == []
    assert len(read_outbox(10)) == 1


def test_no_reminder_when_booked_after_the_reminder_time():
    # A same-day booking: the confirmation and a reminder used to leave in the same second.
    now = timezone.now()
    appointment = make_appointment(starts_at=now + timedelta(hours=20))
    notifications.on_booked(appointment, now=now)
    assert set(rows(appointment)) == {(MessageKind.CONFIRMATION, Channel.SMS)}


def test_no_reminder_when_booked_minutes_before_the_reminder_time():
    now = timezone.now()
    appointment = make_appointment(starts_at=now + timedelta(hours=48, minutes=10))
    notifications.on_booked(appointment, now=now)
    assert set(rows(appointment)) == {(MessageKind.CONFIRMATION, Channel.SMS)}


def test_reminder_kept_when_its_time_is_comfortably_after_the_booking():
    now = timezone.now()
    appointment = make_appointment(starts_at=now + timedelta(hours=50))
    notifications.on_booked(appointment, now=now)
    reminder = rows(appointment)[MessageKind.REMINDER, Channel.SMS]
    assert reminder.send_after == appointment.starts_at - timedelta(hours=48)


def test_a_move_to_the_same_day_sends_the_notice_without_a_reminder():
    now = timezone.now()
    old = make_appointment(starts_at=now + timedelta(days=5))
    new = make_appointment(place=old.place, motif=old.motif, starts_at=now + timedelta(hours=6))
    created = notifications.on_moved(old, new, now=now)
    assert {(n.kind, n.channel) for n in created} == {(MessageKind.MOVED, Channel.SMS)}


def test_no_reminder_for_an_appointment_less_than_two_hours_away():
    now = timezone.now()
    appointment = make_appointment(starts_at=now + timedelta(minutes=90))
    notifications.on_booked(appointment, now=now)
    assert set(rows(appointment)) == {(MessageKind.CONFIRMATION, Channel.SMS)}


def test_reminder_follows_the_structure_setting():
    structure = StructureFactory(reminder_hours_before=24)
    appointment = make_appointment(place=PlaceFactory(structure=structure))
    notifications.on_booked(appointment)
    reminder = rows(appointment)[MessageKind.REMINDER, Channel.SMS]
    assert reminder.send_after == appointment.starts_at - timedelta(hours=24)


# --- Sending after commit -------------------------------------------------------------------


def test_confirmation_sms_is_sent_after_commit_with_place_time_and_private_link(
    django_capture_on_commit_callbacks,
):
    place = PlaceFactory(
        name="Médiathèque", address="2 rue Hoarau", postcode="97400", commune="Saint-Denis"
    )
    place.time_zone = "Indian/Reunion"
    place.save()
    starts_at = datetime(2030, 12, 3, 10, 30, tzinfo=UTC)  # 14:30 in Saint-Denis
    appointment = make_appointment(place=place, starts_at=starts_at)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        notifications.on_booked(appointment)
    assert read_outbox(10) == []  # nothing before the commit
    for callback in callbacks:
        callback()
    [sms] = read_outbox(10)
    body = sms["body"]
    assert sms["to"] == MOBILE
    assert "mar. 3 déc. à 14h30" in body
    assert place.structure.name in body and "2 rue Hoarau, 97400 Saint-Denis" in body
    assert f"https://rdv.example.org/rdv/a/{appointment.token}/" in body
    confirmation = rows(appointment)[MessageKind.CONFIRMATION, Channel.SMS]
    assert confirmation.status == MessageStatus.SENT
    assert confirmation.provider_reference == sms["reference"]
    assert confirmation.sent_at is not None and confirmation.attempts == 1
    # The reminder waits for its time.
    assert rows(appointment)[MessageKind.REMINDER, Channel.SMS].status == MessageStatus.PENDING


def test_nothing_is_recorded_or_sent_when_the_booking_rolls_back(
    django_capture_on_commit_callbacks,
):
    appointment = make_appointment()
    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                notifications.on_booked(appointment)
                raise RuntimeError("booking failed")
        except RuntimeError:
            pass
    assert not Notification.objects.exists()
    assert read_outbox(10) == []


def test_sms_for_a_phone_appointment_says_so_instead_of_an_address():
    place = PlaceFactory()
    motif = MotifFactory(structure=place.structure, mode=MotifMode.PHONE)
    appointment = make_appointment(place=place, motif=motif)
    notifications.on_booked(appointment)
    confirmation = rows(appointment)[MessageKind.CONFIRMATION, Channel.SMS]
    tasks.send_notification(confirmation.pk)
    body = read_outbox(1)[0]["body"]
    assert "par téléphone" in body and place.address not in body


def test_email_confirmation_carries_instructions_and_the_calendar_file(mailoutbox):
    appointment = make_appointment(phone="", email="awa@example.org")
    appointment.place.structure.email = "accueil@mairie.example.org"
    appointment.place.structure.save()
    notifications.on_booked(appointment)
    confirmation = rows(appointment)[MessageKind.CONFIRMATION, Channel.EMAIL]
    assert tasks.send_notification(confirmation.pk) == "sent"
    [mail] = mailoutbox
    assert mail.to == ["awa@example.org"]
    assert mail.reply_to == ["accueil@mairie.example.org"]
    assert "Rendez-vous confirmé" in mail.subject and "\n" not in mail.subject
    assert "Bonjour Awa" in mail.body and "Apportez votre carte Vitale." in mail.body
    assert f"/rdv/a/{appointment.token}/" in mail.body
    [(filename, content, mimetype)] = mail.attachments
    assert filename == "rendez-vous.ics" and mimetype == "application/ics"
    assert "BEGIN:VEVENT" in (content if isinstance(content, str) else content.decode())
    confirmation.refresh_from_db()
    assert confirmation.status == MessageStatus.SENT and confirmation.provider_reference


# --- Once only ------------------------------------------------------------------------------


def test_send_notification_twice_sends_once(settings):
    settings.SMS_BACKEND = "tests.bookings.test_notifications.CountingBackend"
    appointment = make_appointment()
    notifications.on_booked(appointment)
    confirmation = rows(appointment)[MessageKind.CONFIRMATION, Channel.SMS]
    assert tasks.send_notification(confirmation.pk) == "sent"
    assert tasks.send_notification(confirmation.pk) == "done"
    assert len(CountingBackend.sent) == 1


def test_a_claimed_attempt_without_result_is_never_sent_again(settings):
    """A worker crashed after the provider took the message and before recording it."""
    settings.SMS_BACKEND = "tests.bookings.test_notifications.CountingBackend"
    appointment = make_appointment()
    notifications.on_booked(appointment)
    confirmation = rows(appointment)[MessageKind.CONFIRMATION, Channel.SMS]
    claimed_at = timezone.now()
    Notification.objects.filter(pk=confirmation.pk).update(attempts=1, send_after=claimed_at)

    assert tasks.send_notification(confirmation.pk) == "in_flight"
    later = claimed_at + tasks.CLAIM_TIMEOUT + timedelta(seconds=1)
    assert tasks.send_notification(confirmation.pk, now=later) == "interrupted"
    assert tasks.send_notification(confirmation.pk, now=later) == "done"
    confirmation.refresh_from_db()
    assert confirmation.status == MessageStatus.FAILED
    assert "non renvoyé" in confirmation.last_error
    assert CountingBackend.sent == []


def test_reminder_that_could_only_go_out_after_the_appointment_is_dropped(settings):
    settings.SMS_BACKEND = "tests.bookings.test_notifications.CountingBackend"
    appointment = make_appointment()
    notifications.on_booked(appointment)
    reminder = rows(appointment)[MessageKind.REMINDER, Channel.SMS]
    # The cluster was down: it comes back after the appointment has begun.
    assert tasks.send_notification(reminder.pk, now=appointment.starts_at) == "dropped"
    reminder.refresh_from_db()
    assert reminder.status == MessageStatus.DROPPED and reminder.sent_at is None
    assert CountingBackend.sent == []


def test_due_run_drops_late_reminders_and_sends_due_ones(settings):
    settings.SMS_BACKEND = "tests.bookings.test_notifications.CountingBackend"
    now = timezone.now()
    late = make_appointment(starts_at=now + timedelta(days=3))
    due = make_appointment(starts_at=now + timedelta(days=4))
    notifications.on_booked(late, now=now)
    notifications.on_booked(due, now=now)
    Notification.objects.filter(kind=MessageKind.CONFIRMATION).update(status=MessageStatus.SENT)
    # Run when the second reminder is due and the first appointment is over.
    run_at = late.starts_at + timedelta(hours=1)
    assert due.starts_at - timedelta(hours=48) < run_at
    counts = tasks.send_due_notifications(now=run_at)
    assert counts["dropped"] == 1 and counts["sent"] == 1
    assert rows(late)[MessageKind.REMINDER, Channel.SMS].status == MessageStatus.DROPPED
    assert rows(due)[MessageKind.REMINDER, Channel.SMS].status == MessageStatus.SENT
    assert [body for _to, body in CountingBackend.sent][0].startswith("Rappel ")


def test_reminder_is_not_sent_before_its_time(settings):
    settings.SMS_BACKEND = "tests.bookings.test_notifications.CountingBackend"
    appointment = make_appointment()
    notifications.on_booked(appointment)
    reminder = rows(appointment)[MessageKind.REMINDER, Channel.SMS]
    assert tasks.send_notification(reminder.pk) == "not_due"
    assert CountingBackend.sent == []


# --- Failures -------------------------------------------------------------------------------


def test_failure_is_retried_then_failed_after_five_attempts(settings):
    settings.SMS_BACKEND = "tests.bookings.test_notifications.FailingBackend"
    appointment = make_appointment(starts_at=timezone.now() + timedelta(days=20))
    notifications.on_booked(appointment)
    confirmation = rows(appointment)[MessageKind.CONFIRMATION, Channel.SMS]
    now = timezone.now()
    outcomes = []
    for _ in range(5):
        outcomes.append(tasks.send_notification(confirmation.pk, now=now))
        confirmation.refresh_from_db()
        if confirmation.status == MessageStatus.PENDING:
            assert confirmation.send_after > now  # waits before the next try
            assert tasks.send_notification(confirmation.pk, now=now) == "not_due"
            now = confirmation.send_after
    assert outcomes == ["retry", "retry", "retry", "retry", "failed"]
    assert FailingBackend.calls == 5
    assert confirmation.status == MessageStatus.FAILED and confirmation.attempts == 5
    assert confirmation.last_error == "Brevo : HTTP 503"
    assert tasks.send_notification(confirmation.pk, now=now) == "done"
    assert FailingBackend.calls == 5


def test_unexpected_error_is_recorded_without_the_number(settings):
    settings.SMS_BACKEND = "tests.bookings.test_notifications.ExplodingBackend"
    appointment = make_appointment()
    notifications.on_booked(appointment)
    confirmation = rows(appointment)[MessageKind.CONFIRMATION, Channel.SMS]
    assert tasks.send_notification(confirmation.pk) == "retry"
    confirmation.refresh_from_db()
    assert confirmation.last_error == "SMS : RuntimeError"
    assert "612345678" not in confirmation.last_error


# --- Cancellation, move, waiting list -------------------------------------------------------


def test_cancellation_drops_the_reminder_and_offers_to_book_again(settings):
    settings.SMS_BACKEND = "tests.bookings.test_notifications.CountingBackend"
    appointment = make_appointment()
    notifications.on_booked(appointment)
    appointment.status = AppointmentStatus.CANCELLED_BY_STAFF
    appointment.save()
    [cancellation] = notifications.on_cancelled(appointment, by_resident=False)
    reminder = rows(appointment)[MessageKind.REMINDER, Channel.SMS]
    assert reminder.status == MessageStatus.CANCELLED
    assert reminder.last_error == notifications.DROPPED_CANCELLED
    assert tasks.send_notification(cancellation.pk) == "sent"
    [(_to, body)] = CountingBackend.sent
    slug = appointment.place.structure.slug
    assert "nous devons annuler" in body
    assert f"https://rdv.example.org{reverse('public_start', kwargs={'structure': slug})}" in body


def test_confirmation_of_an_appointment_cancelled_meanwhile_is_dropped(settings):
    settings.SMS_BACKEND = "tests.bookings.test_notifications.CountingBackend"
    appointment = make_appointment()
    notifications.on_booked(appointment)
    Appointment.objects.filter(pk=appointment.pk).update(
        status=AppointmentStatus.CANCELLED_BY_RESIDENT
    )
    confirmation = rows(appointment)[MessageKind.CONFIRMATION, Channel.SMS]
    assert tasks.send_notification(confirmation.pk) == "dropped"
    assert CountingBackend.sent == []
    confirmation.refresh_from_db()
    assert confirmation.status == MessageStatus.CANCELLED
    assert confirmation.last_error == notifications.DROPPED_CANCELLED


def test_reminder_of_an_appointment_moved_meanwhile_is_cancelled_as_moved(settings):
    settings.SMS_BACKEND = "tests.bookings.test_notifications.CountingBackend"
    old = make_appointment()
    notifications.on_booked(old)
    new = make_appointment(place=old.place, motif=old.motif, starts_at=old.starts_at)
    Appointment.objects.filter(pk=new.pk).update(moved_from=old)
    Appointment.objects.filter(pk=old.pk).update(status=AppointmentStatus.CANCELLED_BY_STAFF)
    reminder = rows(old)[MessageKind.REMINDER, Channel.SMS]
    assert tasks.send_notification(reminder.pk, now=reminder.send_after) == "dropped"
    reminder.refresh_from_db()
    assert reminder.status == MessageStatus.CANCELLED
    assert reminder.last_error == notifications.DROPPED_MOVED


def test_move_sends_one_notice_with_the_new_time_and_link(settings):
    settings.SMS_BACKEND = "tests.bookings.test_notifications.CountingBackend"
    old = make_appointment()
    notifications.on_booked(old)
    new = make_appointment(
        place=old.place, motif=old.motif, starts_at=old.starts_at + timedelta(days=2)
    )
    new.moved_from = old
    new.save()
    old.status = AppointmentStatus.CANCELLED_BY_RESIDENT
    old.save()
    notifications.on_booked(new)  # a caller that also confirms the new booking
    created = notifications.on_moved(old, new)
    assert {(n.kind, n.channel) for n in created} == {(MessageKind.MOVED, Channel.SMS)}
    assert all(
        n.status == MessageStatus.CANCELLED for n in Notification.objects.filter(appointment=old)
    )
    assert rows(new)[MessageKind.CONFIRMATION, Channel.SMS].status == MessageStatus.CANCELLED
    assert rows(new)[MessageKind.REMINDER, Channel.SMS].status == MessageStatus.PENDING
    tasks.send_due_notifications()
    [(_to, body)] = CountingBackend.sent
    tz = new.place.tzinfo
    assert f"est déplacé au {notifications.format_when(new.starts_at, tz)}" in body
    assert f"du {notifications.format_when(old.starts_at, tz)}" in body
    assert f"/rdv/a/{new.token}/" in body


def test_waitlist_offer_names_the_free_slot_and_links_to_the_entrys_private_page(settings):
    settings.SMS_BACKEND = "tests.bookings.test_notifications.CountingBackend"
    place = PlaceFactory()
    motif = MotifFactory(structure=place.structure)
    entry = WaitlistEntry.objects.create(place=place, motif=motif, first_name="Awa", phone=MOBILE)
    starts_at = timezone.now().replace(second=0, microsecond=0) + timedelta(days=1)
    free = FreeSlot(
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=30),
        mediator_id=1,
        seats_left=1,
    )
    [offer] = notifications.on_waitlist_offer(entry, free)
    assert notifications.on_waitlist_offer(entry, free) == []
    assert offer.send_before == starts_at
    assert tasks.send_notification(offer.pk) == "sent"
    [(to, body)] = CountingBackend.sent
    assert to == MOBILE
    assert notifications.format_when(starts_at, place.tzinfo) in body
    # One link: the free times, and "Quitter la liste d'attente".
    assert f"/rdv/attente/{entry.token}/" in body


# --- Schedule -------------------------------------------------------------------------------


def test_ensure_schedules_creates_one_schedule_every_minute_idempotently():
    from django_q.models import Schedule

    tasks.ensure_schedules()
    Schedule.objects.filter(name=tasks.SCHEDULE_NAME).update(minutes=15)
    tasks.ensure_schedules()
    [schedule] = Schedule.objects.filter(name=tasks.SCHEDULE_NAME)
    assert schedule.func == "bookings.tasks.send_due_notifications"
    assert schedule.schedule_type == Schedule.MINUTES and schedule.minutes == 1
    assert schedule.repeats == -1


# --- The "Messages envoyés" page ------------------------------------------------------------


def outbox_url(structure):
    return reverse("outbox", kwargs={"structure": structure.slug})


def test_outbox_lists_the_structure_messages_masked_with_failures_highlighted(client):
    appointment = make_appointment()
    structure = appointment.place.structure
    notifications.on_booked(appointment)
    confirmation = rows(appointment)[MessageKind.CONFIRMATION, Channel.SMS]
    Notification.objects.filter(pk=confirmation.pk).update(
        status=MessageStatus.FAILED, attempts=5, last_error="Brevo : HTTP 400 (invalid_parameter)"
    )
    client.force_login(member(structure, Role.MEDIATOR))
    response = client.get(outbox_url(structure))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Messages envoyés" in body
    assert "table-danger" in body and "Brevo : HTTP 400 (invalid_parameter)" in body
    assert "••••••78" in body and MOBILE not in body and "12 34 56 78" not in body
    assert "1 message n'a pas pu être envoyé" in body
    only_failures = client.get(outbox_url(structure) + "?echecs=1").content.decode()
    assert only_failures.count("<tr class=") == 1


def test_outbox_says_why_messages_of_a_cancelled_or_moved_appointment_were_not_sent(client):
    cancelled = make_appointment()
    structure = cancelled.place.structure
    moved = make_appointment(place=cancelled.place, motif=cancelled.motif)
    new = make_appointment(
        place=cancelled.place, motif=cancelled.motif, starts_at=moved.starts_at + timedelta(days=1)
    )
    for appointment in (cancelled, moved):
        notifications.on_booked(appointment)
    notifications.on_cancelled(cancelled, by_resident=True)
    notifications.on_moved(moved, new)
    client.force_login(member(structure, Role.MEDIATOR))
    body = client.get(outbox_url(structure)).content.decode()
    assert "Annulé : rendez-vous annulé" in body
    assert "Annulé : rendez-vous déplacé" in body
    assert "trop tard" not in body


def test_outbox_shows_the_sms_texts_of_this_structure_only(
    client, django_capture_on_commit_callbacks
):
    ours = make_appointment()
    theirs = make_appointment()  # another structure, same number
    with django_capture_on_commit_callbacks(execute=True):
        notifications.on_booked(ours)
        notifications.on_booked(theirs)
    assert len(read_outbox(10)) == 2
    structure = ours.place.structure
    client.force_login(member(structure, Role.STRUCTURE_ADMIN))
    body = client.get(outbox_url(structure)).content.decode()
    assert "Textes des SMS" in body
    assert ours.token in body and theirs.token not in body
    assert theirs.place.structure.name not in body


def test_outbox_hides_sms_texts_when_a_real_provider_is_used(client, settings):
    settings.SMS_BACKEND = "bookings.messaging.ConsoleSmsBackend"
    appointment = make_appointment()
    structure = appointment.place.structure
    client.force_login(member(structure, Role.MEDIATOR))
    assert "Textes des SMS" not in client.get(outbox_url(structure)).content.decode()


def test_outbox_is_for_the_desk_of_the_structure_only(client):
    appointment = make_appointment()
    structure = appointment.place.structure
    notifications.on_booked(appointment)
    client.force_login(member(StructureFactory(), Role.STRUCTURE_ADMIN))
    assert client.get(outbox_url(structure)).status_code == 404
    client.force_login(member(structure, Role.COORDINATOR))
    assert client.get(outbox_url(structure)).status_code == 403


def test_outbox_runs_a_bounded_number_of_queries(
    client, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    structure = StructureFactory()
    places = [PlaceFactory(structure=structure) for _ in range(3)]
    with django_capture_on_commit_callbacks(execute=True):
        for index in range(30):
            appointment = make_appointment(
                place=places[index % 3],
                email=f"usager{index}@example.org",
                starts_at=timezone.now() + timedelta(days=3, hours=index),
            )
            notifications.on_booked(appointment)
    assert Notification.objects.count() == 120
    client.force_login(member(structure, Role.MEDIATOR))
    with django_assert_max_num_queries(11):  # 10, and the second-factor check
        response = client.get(outbox_url(structure))
    assert response.status_code == 200
    with django_assert_max_num_queries(11):
        assert client.get(outbox_url(structure) + "?page=3").status_code == 200


def test_resident_email_has_html_and_text_the_structure_as_sender_and_reply_to(
    mailoutbox, settings
):
    from email import message_from_bytes
    from email.header import decode_header, make_header
    from email.utils import parseaddr

    settings.DEFAULT_FROM_EMAIL = "Permanence <ne-pas-repondre@rdv.example.org>"
    appointment = make_appointment(phone="", email="awa@example.org")
    structure = appointment.place.structure
    structure.name = "Mairie de Lohéac"
    structure.email = "accueil@mairie.example.org"
    structure.save()
    notifications.on_booked(appointment)
    confirmation = rows(appointment)[MessageKind.CONFIRMATION, Channel.EMAIL]
    assert tasks.send_notification(confirmation.pk) == "sent"
    [mail] = mailoutbox
    parsed = message_from_bytes(mail.message().as_bytes())
    name, address = parseaddr(str(make_header(decode_header(parsed["From"]))))
    assert (name, address) == ("Mairie de Lohéac", "ne-pas-repondre@rdv.example.org")
    assert parsed["Reply-To"] == "accueil@mairie.example.org"
    parts = {part.get_content_type(): part for part in parsed.walk()}
    assert {"text/plain", "text/html", "text/calendar", "application/ics"} <= set(parts)
    assert parts["text/calendar"].get_param("method") == "REQUEST"
    text = parts["text/plain"].get_payload(decode=True).decode()
    html = parts["text/html"].get_payload(decode=True).decode()
    assert "Bonjour Awa" in text and "Bonjour Awa" in html
    link = f"https://rdv.example.org/rdv/a/{appointment.token}/"
    assert f'<a href="{link}"' in html and '<html lang="fr">' in html
    # Nothing to load from elsewhere: the only URLs are the links of the text.
    assert "<img" not in html and "<link" not in html and "<script" not in html
    assert "src=" not in html and "url(" not in html
    # The alternatives: text first, then HTML, then the event.
    [alternative] = [p for p in parsed.walk() if p.get_content_type() == "multipart/alternative"]
    assert [p.get_content_type() for p in alternative.get_payload()] == [
        "text/plain",
        "text/html",
        "text/calendar",
    ]


def test_resident_email_escapes_names_in_html_and_has_no_reply_to_without_address(mailoutbox):
    appointment = make_appointment(phone="", email="awa@example.org")
    appointment.resident.first_name = "<b>Awa</b>"
    appointment.resident.save()
    appointment.place.structure.email = ""
    appointment.place.structure.save()
    notifications.on_booked(appointment)
    confirmation = rows(appointment)[MessageKind.CONFIRMATION, Channel.EMAIL]
    assert tasks.send_notification(confirmation.pk) == "sent"
    [mail] = mailoutbox
    assert mail.reply_to == []
    [(html, mimetype)] = [a for a in mail.alternatives if a[1] == "text/html"]
    assert "&lt;b&gt;Awa&lt;/b&gt;" in html and "<b>Awa" not in html


def test_the_default_sender_is_on_the_sites_domain():
    import subprocess
    import sys

    code = "from django.conf import settings; print(settings.DEFAULT_FROM_EMAIL)"
    env = {
        **__import__("os").environ,
        "SITE_URL": "https://rdv.mairie-loheac.fr",
        "DJANGO_SETTINGS_MODULE": "mediation.settings",
    }
    env.pop("DEFAULT_FROM_EMAIL", None)
    out = subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); " + code],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert out == "Permanence <ne-pas-repondre@rdv.mairie-loheac.fr>"


# --- Language -------------------------------------------------------------------------------


def test_a_resident_who_booked_in_english_gets_sms_and_email_in_english(
    mailoutbox, settings, tmp_path
):
    import vobject

    settings.SMS_BACKEND = "bookings.messaging.FileOutboxSmsBackend"
    settings.SMS_OUTBOX_PATH = tmp_path / "sms.jsonl"
    settings.SITE_URL = "https://rdv.example.org"
    starts_at = datetime(2027, 9, 15, 14, 30, tzinfo=ZoneInfo("Europe/Paris"))
    appointment = make_appointment(email="awa@example.org", starts_at=starts_at)
    appointment.language = "en"
    appointment.save(update_fields=["language"])
    notifications.on_booked(appointment)
    sms = rows(appointment)[MessageKind.CONFIRMATION, Channel.SMS]
    email = rows(appointment)[MessageKind.CONFIRMATION, Channel.EMAIL]
    assert tasks.send_notification(sms.pk) == "sent"
    assert tasks.send_notification(email.pk) == "sent"
    [line] = read_outbox(1)
    assert "appointment confirmed on Wed 15 Sep at 2:30pm" in line["body"]
    assert "Move or cancel:" in line["body"] and "RDV" not in line["body"]
    [mail] = mailoutbox
    assert mail.subject.startswith("Appointment confirmed on Wed 15 Sep at 2:30pm")
    assert "Hello Awa," in mail.body and "Wednesday 15 September 2027 at 2:30pm" in mail.body
    assert "Bonjour" not in mail.body and "To see, move or cancel this appointment:" in mail.body
    [(html, _mime)] = [a for a in mail.alternatives if a[1] == "text/html"]
    assert '<html lang="en">' in html and "Hello Awa," in html
    [(_filename, ics, _ics_mime)] = mail.attachments
    event = vobject.readOne(ics.decode() if isinstance(ics, bytes) else ics).vevent
    assert event.summary.value.startswith("Appointment: ")


def test_french_stays_the_default_and_staff_bookings_are_french(mailoutbox):
    appointment = make_appointment(phone="", email="awa@example.org")
    assert appointment.language == "fr"
    notifications.on_booked(appointment)
    confirmation = rows(appointment)[MessageKind.CONFIRMATION, Channel.EMAIL]
    assert tasks.send_notification(confirmation.pk) == "sent"
    [mail] = mailoutbox
    assert "Bonjour Awa," in mail.body and '<html lang="fr">' in mail.alternatives[0][0]


def test_an_accented_subject_folds_and_reads_back_the_same(mailoutbox, settings):
    # A long subject with accents is encoded (RFC 2047) and folded in lines of at most 78
    # characters; a standard parser reads back exactly what was written.
    from email import message_from_bytes
    from email.policy import default

    appointment = make_appointment(phone="", email="awa@example.org")
    structure = appointment.place.structure
    structure.name = "Maison France Services de Saint-Méen-le-Grand et des communes voisines"
    structure.save()
    notifications.on_booked(appointment)
    confirmation = rows(appointment)[MessageKind.CONFIRMATION, Channel.EMAIL]
    assert tasks.send_notification(confirmation.pk) == "sent"
    [mail] = mailoutbox
    raw = mail.message().as_bytes()
    head = raw.split(b"\n\n", 1)[0].decode("ascii")  # accents encoded, never raw 8-bit
    subject = re.search(r"^Subject:.*(?:\n[ \t].*)*", head, re.M).group(0).splitlines()
    assert [line for line in subject if len(line.rstrip("\r")) > 78] == []
    parsed = message_from_bytes(raw, policy=default)
    # (Django folds right after "Subject:"; a strict parser keeps that fold's space.)
    assert parsed["Subject"].strip() == mail.subject
    assert "é" in mail.subject and len(mail.subject) > 78  # long enough to be folded
