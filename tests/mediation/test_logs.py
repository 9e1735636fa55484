"""No personal data in the logs: the request logger, the message tasks, the privacy task and
the login lockouts write ids, counts and kinds of error (mediation/logs.py)."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.db import IntegrityError
from django.urls import reverse
from django.utils import timezone

from bookings import notifications, tasks
from bookings.models import Notification
from mediation import privacy
from mediation.logs import exception_summary, pseudonym
from mediation.models import Resident
from tests.bookings.test_notifications import make_appointment
from tests.factories import ResidentFactory
from tests.search import search_get

pytestmark = pytest.mark.django_db

PHONE = "+33612345678"
EMAIL = "awa.diallo@example.org"


@pytest.fixture
def caplog_all():
    """Every record any logger emits at its configured level (as caplog does; our own
    handler so that the test also runs under `-p no:logging`)."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record)

    handler = Keep(level=logging.DEBUG)
    root = logging.getLogger()
    root.addHandler(handler)
    yield records
    root.removeHandler(handler)


def logged(records) -> str:
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    return "\n".join(formatter.format(record) for record in records)


def assert_nothing_personal(text: str, *values: str) -> None:
    for value in values:
        assert value.lower() not in text.lower(), value


class QuotingBackend:
    """A provider's client library that quotes the number in its error."""

    def send_sms(self, to, body):
        raise RuntimeError(f"cannot reach {to}: {body}")


def test_the_message_tasks_log_no_personal_data(settings, tmp_path, monkeypatch, caplog_all):
    settings.SMS_OUTBOX_PATH = tmp_path / "sms.jsonl"
    settings.SMS_BACKEND = "bookings.messaging.FileOutboxSmsBackend"
    appointment = make_appointment(phone=PHONE, email=EMAIL)
    Resident.objects.filter(pk=appointment.resident_id).update(last_name="Diallo")
    notifications.on_booked(appointment)
    now = timezone.now()
    assert tasks.send_due_notifications(now=now)  # sent: SMS and e-mail
    settings.SMS_BACKEND = "tests.mediation.test_logs.QuotingBackend"
    Notification.objects.update(status="pending", send_after=now, last_error="retry")
    tasks.send_due_notifications(now=now)  # the SMS fails, retried later

    def broken(notification):  # a template error prints the object it was reading
        raise ValueError(f"Failed lookup in {notification.appointment.resident} {EMAIL}")

    monkeypatch.setattr(tasks, "render_message", broken)
    Notification.objects.update(status="pending", send_after=now, last_error="retry")
    tasks.send_due_notifications(now=now + timedelta(minutes=1))
    text = logged(caplog_all)
    assert "could not be written: ValueError at" in text  # the failures are in the log…
    assert "failed: SMS : RuntimeError" in text
    assert_nothing_personal(  # …without who they were for
        text, "Awa", "Diallo", "612345678", "06 12", EMAIL, appointment.token
    )


def test_the_retention_task_logs_no_personal_data(structure, monkeypatch, caplog_all):
    resident = ResidentFactory(structure=structure, last_name="Diallo", phone=PHONE)
    long_ago = timezone.now() - timedelta(days=800)
    Resident.objects.filter(pk=resident.pk).update(created_at=long_ago, last_contact_at=long_ago)

    def failing(**kwargs):  # PostgreSQL's DETAIL quotes the row
        raise IntegrityError(f"DETAIL: Key (phone, last_name)=({PHONE}, Diallo) already exists.")

    monkeypatch.setattr(privacy, "resident_anonymise", failing)
    result = privacy.retention_run()
    assert not result.complete
    text = logged(caplog_all)
    assert f"Anonymisation of resident {resident.pk} failed: IntegrityError at" in text
    assert_nothing_personal(text, "Diallo", "612345678")


def test_the_request_logger_never_sees_a_search_term(
    client, mediator, structure, caplog_all, settings
):
    from django.test import Client

    client.force_login(mediator)
    path = reverse("resident_search", kwargs={"structure": structure.slug})
    search_get(client, path, "Diallo 0612345678")
    client.get("/s/nulle-part/usagers/", {"q": "Diallo"})  # 404, logged by django.request
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(mediator)
    assert strict.post(path, {"q": "Diallo", "search": "1"}).status_code == 403  # logged
    text = logged(caplog_all)
    assert "Not Found" in text and "Forbidden" in text
    assert_nothing_personal(text, "Diallo", "0612345678")


def test_a_locked_out_login_is_logged_with_pseudonyms(client, mediator, caplog_all):
    for _ in range(6):
        client.post(reverse("login"), {"username": mediator.email, "password": "faux"})
    text = logged(caplog_all)
    assert "after repeated login failures" in text
    assert pseudonym(mediator.email) in text
    assert_nothing_personal(text, mediator.email, "127.0.0.1")


def test_an_exception_summary_keeps_the_kind_and_place_not_the_message():
    try:
        raise ValueError("Zéphyrine Dupont 06 12 34 56 78")
    except ValueError as exc:
        summary = exception_summary(exc)
    assert summary.startswith("ValueError at mediation/test_logs.py:")
    assert "Dupont" not in summary and "test_an_exception_summary" in summary
