"""A task cluster stopped in the middle of sending reminders, and started again, sends no
duplicate and misses none.

Each test books a batch of appointments whose reminders (SMS and e-mail) are due, then
interrupts `send_due_notifications` part-way: the way a cluster is stopped (SIGTERM), a worker
dying between two messages, a worker dying while the provider has a message. Then it runs
again, as the restarted cluster's every-minute schedule would, and counts what the providers
received: the SMS backend's calls and Django's mail outbox.
"""

from __future__ import annotations

import os
import signal
import threading
from collections import Counter
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone

from bookings import notifications, tasks
from bookings.choices import Channel, MessageKind, MessageStatus
from bookings.models import Notification
from tests.bookings.test_notifications import make_appointment

APPOINTMENTS = 6
BACKEND = "tests.bookings.test_reminder_restart.RecordingBackend"


class ClusterStopped(BaseException):
    """What the end of the worker process looks like from inside it, in a test."""


class RecordingBackend:
    """An SMS provider that counts what it accepted; `on_send(n)` runs before the n-th SMS
    is accepted (`before`) or after it (`after`)."""

    sent: Counter = Counter()
    calls = 0
    lock = threading.Lock()
    before = None
    after = None

    def send_sms(self, to, body):
        cls = RecordingBackend
        with cls.lock:
            cls.calls += 1
            number = cls.calls
        if cls.before:
            cls.before(number)
        with cls.lock:
            cls.sent[(to, body)] += 1
        if cls.after:
            cls.after(number)
        return f"ref-{number}"


@pytest.fixture(autouse=True)
def backend(settings):
    settings.SMS_BACKEND = BACKEND
    settings.SITE_URL = "https://rdv.example.org"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    RecordingBackend.sent = Counter()
    RecordingBackend.calls = 0
    RecordingBackend.before = RecordingBackend.after = None
    yield RecordingBackend
    RecordingBackend.before = RecordingBackend.after = None


def due_reminders(count: int = APPOINTMENTS):
    """`count` appointments in three days, each with an SMS and an e-mail reminder, their
    confirmations already sent; returns the time at which every reminder is due."""
    now = timezone.now()
    for index in range(count):
        appointment = make_appointment(
            phone=f"+3361234{index:04d}",
            email=f"usager{index}@example.org",
            starts_at=now.replace(microsecond=0) + timedelta(days=3, minutes=30 * index),
        )
        notifications.on_booked(appointment, now=now)
    Notification.objects.filter(kind=MessageKind.CONFIRMATION).update(status=MessageStatus.SENT)
    # Outside a test transaction (the PostgreSQL race) the confirmations went on commit.
    RecordingBackend.sent.clear()
    RecordingBackend.calls = 0
    mail.outbox.clear()
    reminders = Notification.objects.filter(kind=MessageKind.REMINDER)
    assert reminders.count() == 2 * count
    return max(reminders.values_list("send_after", flat=True)) + timedelta(minutes=1)


def delivered() -> Counter:
    """(channel, recipient) → how many times the providers accepted a reminder for it."""
    counts: Counter = Counter()
    for (to, body), times in RecordingBackend.sent.items():
        assert body.startswith("Rappel")
        counts[(Channel.SMS, to)] += times
    for message in mail.outbox:
        counts[(Channel.EMAIL, message.to[0])] += 1
    return counts


def expected() -> Counter:
    return Counter(
        (n.channel, n.recipient) for n in Notification.objects.filter(kind=MessageKind.REMINDER)
    )


def reminder_statuses() -> Counter:
    return Counter(
        Notification.objects.filter(kind=MessageKind.REMINDER).values_list("status", flat=True)
    )


@pytest.fixture
def stop_signal_ends_the_worker():
    """In a worker, SIGTERM ends the process (SIG_DFL). Here it raises ClusterStopped."""

    def stop(signum, frame):
        raise ClusterStopped

    previous = signal.signal(signal.SIGTERM, stop)
    yield
    signal.signal(signal.SIGTERM, previous)


def test_a_cluster_stopped_during_a_delivery_records_it_then_the_restart_sends_the_rest(
    backend, stop_signal_ends_the_worker, db
):
    run_at = due_reminders()

    def stop_the_cluster(number):
        if number == 3:
            os.kill(os.getpid(), signal.SIGTERM)  # while the provider has the 3rd SMS

    backend.before = stop_the_cluster
    with pytest.raises(ClusterStopped):
        tasks.send_due_notifications(now=run_at)
    # The message in hand was recorded before the worker stopped; nothing is left in flight.
    assert not Notification.objects.filter(
        status=MessageStatus.PENDING, attempts__gt=0, last_error=""
    ).exists()
    sent_before_restart = reminder_statuses()[MessageStatus.SENT]
    assert 0 < sent_before_restart < 2 * APPOINTMENTS

    backend.before = None
    tasks.send_due_notifications(now=run_at + timedelta(minutes=1))  # the restarted cluster
    assert delivered() == expected()
    assert reminder_statuses() == {MessageStatus.SENT: 2 * APPOINTMENTS}


def test_a_worker_dying_between_two_messages_loses_none_and_repeats_none(backend, db):
    run_at = due_reminders()
    done = []
    real_send = tasks.send_notification

    def dies_after_four(pk, **kwargs):
        if len(done) == 4:
            raise ClusterStopped
        outcome = real_send(pk, **kwargs)
        done.append(outcome)
        return outcome

    tasks.send_notification = dies_after_four
    try:
        with pytest.raises(ClusterStopped):
            tasks.send_due_notifications(now=run_at)
    finally:
        tasks.send_notification = real_send
    assert done == ["sent"] * 4

    tasks.send_due_notifications(now=run_at + timedelta(minutes=1))
    assert delivered() == expected()
    assert reminder_statuses() == {MessageStatus.SENT: 2 * APPOINTMENTS}


def test_a_worker_killed_while_the_provider_has_a_message_never_sends_it_twice(backend, db):
    """SIGKILL, a power cut: the process ends with the provider's answer unknown. That one
    message is never sent again and is shown as failed to staff ("Envoi interrompu"); every
    other reminder goes exactly once."""
    run_at = due_reminders()

    def killed(number):
        if number == 2:
            raise ClusterStopped  # after the provider accepted the 2nd SMS

    backend.after = killed
    with pytest.raises(ClusterStopped):
        tasks.send_due_notifications(now=run_at)
    backend.after = None

    tasks.send_due_notifications(now=run_at + timedelta(minutes=1))  # restart: in flight
    tasks.send_due_notifications(now=run_at + tasks.CLAIM_TIMEOUT + timedelta(minutes=2))
    got = delivered()
    assert set(got.values()) == {1}, "a reminder was sent twice"
    assert got == expected()  # the interrupted one did reach its resident, once
    assert reminder_statuses() == {
        MessageStatus.SENT: 2 * APPOINTMENTS - 1,
        MessageStatus.FAILED: 1,
    }
    interrupted = Notification.objects.get(status=MessageStatus.FAILED)
    assert interrupted.last_error == tasks.INTERRUPTED


def test_stop_requests_outside_a_delivery_are_left_alone(stop_signal_ends_the_worker):
    with tasks.finish_before_stopping():
        pass
    with pytest.raises(ClusterStopped):
        os.kill(os.getpid(), signal.SIGTERM)


@pytest.mark.django_db(transaction=True)
def test_two_workers_sending_the_same_due_batch_send_each_reminder_once(backend):
    if connection.vendor != "postgresql":
        pytest.skip(
            "SQLite runs one write transaction at a time (BEGIN IMMEDIATE): the race needs "
            "PostgreSQL's row locks; run with DATABASE_URL=postgres://…"
        )
    run_at = due_reminders(count=10)
    start = threading.Barrier(2)
    errors = []

    def worker():
        try:
            start.wait()
            tasks.send_due_notifications(now=run_at)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    got = delivered()
    assert set(got.values()) == {1}, "a reminder was sent twice"
    assert got == expected()
    assert reminder_statuses() == {MessageStatus.SENT: 20}
