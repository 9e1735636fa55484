"""SMS backends, mobile numbers, and the calendar file."""

import io
import json
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from icalendar import Calendar

from bookings import messaging
from bookings.choices import AppointmentStatus
from bookings.ics import appointment_ics
from bookings.messaging import (
    BrevoSmsBackend,
    ConsoleSmsBackend,
    FileOutboxSmsBackend,
    SmsError,
    is_mobile,
    read_outbox,
    send_sms,
)
from tests.bookings.factories import MotifFactory
from tests.bookings.test_notifications import make_appointment
from tests.factories import PlaceFactory

MOBILE = "+33612345678"


# --- Console and file outbox ----------------------------------------------------------------


def test_console_backend_prints_the_sms_and_returns_a_reference():
    stream = io.StringIO()
    reference = ConsoleSmsBackend(stream=stream).send_sms(MOBILE, "Bonjour")
    assert reference.startswith("console-")
    assert MOBILE in stream.getvalue() and "Bonjour" in stream.getvalue()


def test_send_sms_uses_the_backend_named_in_the_settings(settings, tmp_path):
    settings.SMS_BACKEND = "bookings.messaging.FileOutboxSmsBackend"
    settings.SMS_OUTBOX_PATH = tmp_path / "outbox.jsonl"
    reference = send_sms(MOBILE, "RDV confirmé")
    assert reference.startswith("file-")
    assert messaging.outbox_enabled()
    settings.SMS_BACKEND = "bookings.messaging.ConsoleSmsBackend"
    assert not messaging.outbox_enabled()


def test_file_outbox_writes_one_json_line_per_sms_read_back_newest_first(settings, tmp_path):
    settings.SMS_OUTBOX_PATH = tmp_path / "sub" / "outbox.jsonl"
    backend = FileOutboxSmsBackend()
    references = [backend.send_sms(MOBILE, f"Message n°{i} à 14h30") for i in range(3)]
    lines = settings.SMS_OUTBOX_PATH.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 3
    assert json.loads(lines[0]) | {"at": None} == {
        "reference": references[0],
        "at": None,
        "to": MOBILE,
        "body": "Message n°0 à 14h30",
        "encoding": "ucs2",  # "°" is not in the GSM alphabet; sms_prepare would change it
        "segments": 1,
    }
    assert [e["reference"] for e in read_outbox(2)] == references[:0:-1]


def test_read_outbox_skips_torn_lines_and_reads_across_blocks(settings, tmp_path):
    settings.SMS_OUTBOX_PATH = tmp_path / "outbox.jsonl"
    backend = FileOutboxSmsBackend()
    long_text = "x" * 1000  # 300 lines of 1 kB: several 64 kB blocks
    for i in range(300):
        backend.send_sms(MOBILE, f"{i} {long_text}")
    with settings.SMS_OUTBOX_PATH.open("a", encoding="utf-8") as outbox:
        outbox.write('{"reference": "torn", "bo\n')
    entries = read_outbox(300)
    assert len(entries) == 300
    assert [int(e["body"].split()[0]) for e in entries] == list(range(299, -1, -1))
    assert len(read_outbox(300, max_bytes=10_000)) < 10


def test_read_outbox_without_a_file_is_empty(settings, tmp_path):
    settings.SMS_OUTBOX_PATH = tmp_path / "none.jsonl"
    assert read_outbox(10) == []


# --- Brevo, against a local HTTP server -----------------------------------------------------


class FakeBrevo(BaseHTTPRequestHandler):
    requests: list = []
    status = 201
    answer: dict = {"reference": "ab1cde2fgh3i4jklmno", "messageId": 1511882900176220}
    delay = 0.0

    def do_POST(self):  # noqa: N802 - http.server's naming
        length = int(self.headers["Content-Length"])
        FakeBrevo.requests.append(
            {
                "path": self.path,
                "api-key": self.headers["api-key"],
                "content-type": self.headers["content-type"],
                "json": json.loads(self.rfile.read(length)),
            }
        )
        time.sleep(FakeBrevo.delay)
        body = json.dumps(FakeBrevo.answer).encode()
        try:
            self.send_response(FakeBrevo.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up waiting (timeout test)

    def log_message(self, *args):
        pass


@pytest.fixture
def brevo(settings):
    FakeBrevo.requests = []
    FakeBrevo.status, FakeBrevo.delay = 201, 0.0
    FakeBrevo.answer = {"reference": "ab1cde2fgh3i4jklmno", "messageId": 1511882900176220}
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeBrevo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.SMS_BACKEND = "bookings.messaging.BrevoSmsBackend"
    settings.BREVO_API_URL = f"http://127.0.0.1:{server.server_address[1]}/v3"
    settings.BREVO_API_KEY = "cle-de-test"
    settings.SMS_SENDER = "Permanence"
    settings.SMS_TIMEOUT = 2
    yield FakeBrevo
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_brevo_posts_the_transactional_sms_and_returns_its_reference(brevo):
    assert send_sms(MOBILE, "RDV confirmé le mar. 3 déc. à 14h30") == "ab1cde2fgh3i4jklmno"
    [request] = brevo.requests
    assert request["path"] == "/v3/transactionalSMS/sms"
    assert request["api-key"] == "cle-de-test"
    assert request["content-type"] == "application/json"
    assert request["json"] == {
        "sender": "Permanence",
        "recipient": "33612345678",
        "content": "RDV confirmé le mar. 3 déc. à 14h30",
        "type": "transactional",
        "unicodeEnabled": False,
    }


def test_brevo_error_status_raises_sms_error_without_personal_data(brevo):
    brevo.status = 400
    brevo.answer = {"code": "invalid_parameter", "message": "recipient 33612345678 is invalid"}
    with pytest.raises(SmsError) as error:
        send_sms(MOBILE, "Bonjour")
    assert str(error.value) == "Brevo : HTTP 400 (invalid_parameter)"
    assert "612345678" not in str(error.value)


def test_brevo_that_does_not_answer_in_time_raises_sms_error(brevo, settings):
    brevo.delay = 1.0
    settings.SMS_TIMEOUT = 0.2
    with pytest.raises(SmsError, match="délai"):
        send_sms(MOBILE, "Bonjour")


def test_brevo_unreachable_raises_sms_error():
    backend = BrevoSmsBackend(api_key="k", api_url="http://127.0.0.1:9/v3", timeout=2)
    with pytest.raises(SmsError, match="Brevo"):
        backend.send_sms(MOBILE, "Bonjour")


def test_brevo_without_an_api_key_refuses_to_send(settings):
    settings.BREVO_API_KEY = ""
    with pytest.raises(SmsError, match="BREVO_API_KEY"):
        BrevoSmsBackend().send_sms(MOBILE, "Bonjour")


# --- Mobile numbers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "number",
    [
        "+33612345678",  # métropole 06
        "+33756123456",  # métropole 07
        "0612345678",  # national format
        "+262692123456",  # La Réunion
        "+262639401234",  # Mayotte
        "+590690123456",  # Guadeloupe
        "+594694123456",  # Guyane
        "+596696123456",  # Martinique
    ],
)
def test_french_and_overseas_mobiles_get_sms(number):
    assert is_mobile(number)


@pytest.mark.parametrize(
    "number",
    ["+33299123456", "+262262123456", "+596596123456", "+33800123456", "not a number", ""],
)
def test_landlines_and_garbage_get_no_sms(number):
    assert not is_mobile(number)


# --- Calendar file --------------------------------------------------------------------------


@pytest.mark.django_db
def test_calendar_file_parses_back_with_utc_times_for_a_reunion_place(settings):
    settings.SITE_URL = "https://rdv.example.org"
    place = PlaceFactory(
        name="Médiathèque", address="2 rue Hoarau", postcode="97400", commune="Saint-Denis"
    )
    place.time_zone = "Indian/Reunion"
    place.save()
    motif = MotifFactory(
        structure=place.structure, name="Aide CAF", instructions="Apportez votre carte Vitale."
    )
    # 14:30 in Saint-Denis (UTC+4, no daylight saving time).
    appointment = make_appointment(
        place=place, motif=motif, starts_at=datetime(2030, 12, 3, 10, 30, tzinfo=UTC)
    )
    calendar = Calendar.from_ical(appointment_ics(appointment))
    [event] = calendar.walk("VEVENT")
    assert str(calendar["method"]) == "PUBLISH"
    assert event.decoded("dtstart") == datetime(2030, 12, 3, 10, 30, tzinfo=UTC)
    assert event.decoded("dtstart").utcoffset().total_seconds() == 0
    assert event.decoded("dtend") == datetime(2030, 12, 3, 11, 0, tzinfo=UTC)
    assert b"DTSTART:20301203T103000Z" in appointment_ics(appointment)
    assert str(event["uid"]) == f"appointment-{appointment.pk}@rdv.example.org"
    assert str(event["summary"]) == "Rendez-vous : Aide CAF"
    assert str(event["location"]) == "Médiathèque, 2 rue Hoarau, 97400 Saint-Denis"
    description = str(event["description"])
    assert "Apportez votre carte Vitale." in description
    assert f"https://rdv.example.org/rdv/a/{appointment.token}/" in description
    assert str(event["status"]) == "CONFIRMED"


@pytest.mark.django_db
def test_calendar_file_of_a_cancelled_appointment_says_so():
    appointment = make_appointment(status=AppointmentStatus.CANCELLED_BY_STAFF)
    [event] = Calendar.from_ical(appointment_ics(appointment)).walk("VEVENT")
    assert str(event["status"]) == "CANCELLED"
