"""SMS texts: in the GSM 03.38 alphabet, transliterated when a name is not, their segments
counted exactly, stored with each message, and Unicode asked of the provider only when needed.

The counts are checked against a second implementation written here from the standard's tables
(3GPP TS 23.038 § 6.2.1 and its extension table), independent of the `gsm0338` codec the
application uses."""

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bookings import tasks
from bookings.choices import AppointmentStatus, Channel, MessageKind, MotifMode, SmsEncoding
from bookings.messaging import (
    BrevoSmsBackend,
    read_outbox,
    sms_encoding,
    sms_prepare,
    sms_segments,
)
from bookings.models import Notification, WaitlistEntry
from bookings.notifications import on_booked
from cases.synthetic import MOTIF_SPECS
from mediation.demo import STRUCTURES
from tests.bookings.factories import MotifFactory
from tests.bookings.test_notifications import make_appointment
from tests.factories import PlaceFactory, StructureFactory

# --- A second implementation, from the standard's tables ------------------------------------

#: The default alphabet, codes 0x00 to 0x7F in order (0x1B, the escape, is not a character).
GSM_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
#: The extension table: each is sent as the escape then its code, two septets.
GSM_EXTENSION = "\f^{}\\[]~|€"
ESCAPE = "\x1b"


def independent_count(text: str) -> tuple[str, int]:
    """(encoding, segments): septets (or UTF-16 units) cut in parts of 153 (67), a part never
    ending in the middle of an escape sequence (a surrogate pair)."""
    assert len(GSM_BASIC) == 128
    if all((c in GSM_BASIC and c != ESCAPE) or c in GSM_EXTENSION for c in text):
        units = []
        for char in text:
            units += [ESCAPE, char] if char in GSM_EXTENSION else [char]
        single, part = 160, 153
        encoding = "gsm7"
    else:
        raw = text.encode("utf-16-be")
        units = [raw[i : i + 2] for i in range(0, len(raw), 2)]
        single, part = 70, 67
        encoding = "ucs2"
    if len(units) <= single:
        return encoding, 1
    segments, start = 0, 0
    while start < len(units):
        end = min(start + part, len(units))
        last = units[end - 1]
        if end < len(units) and (last == ESCAPE if encoding == "gsm7" else 0xD8 <= last[0] <= 0xDB):
            end -= 1  # the escape (high surrogate) goes with its character, in the next part
        segments, start = segments + 1, end
    return encoding, segments


# --- The codec and the counts ---------------------------------------------------------------


def test_the_alphabet_is_the_standard_one():
    for char in GSM_BASIC.replace(ESCAPE, ""):
        assert sms_encoding(char) == "gsm7" and sms_segments(char * 160) == 1, repr(char)
    for char in GSM_EXTENSION:
        assert sms_encoding(char) == "gsm7" and sms_segments(char * 80) == 1, repr(char)
        assert sms_segments("a" + char * 80) == 2
    # French letters: in it, and not.
    assert all(sms_encoding(c) == "gsm7" for c in "éèàùìòÉÇ")
    assert all(sms_encoding(c) == "ucs2" for c in "êôûîâëïçœÈÀ—…’«»")


@pytest.mark.parametrize(
    ("text", "encoding", "segments"),
    [
        ("x" * 160, "gsm7", 1),
        ("x" * 161, "gsm7", 2),
        ("x" * 306, "gsm7", 2),
        ("x" * 307, "gsm7", 3),
        ("€" * 80, "gsm7", 1),  # 160 septets
        ("x" + "€" * 80, "gsm7", 2),
        # 152 septets then an escaped character: it does not fit in part 1 (153).
        ("x" * 152 + "€" + "x" * 152, "gsm7", 3),
        ("x" * 151 + "€" + "x" * 153, "gsm7", 2),
        ("ж" * 70, "ucs2", 1),
        ("ж" * 71, "ucs2", 2),
        ("ж" * 134, "ucs2", 2),
        ("ж" * 135, "ucs2", 3),
        # An emoji is two UTF-16 units, never split.
        ("ж" * 66 + "😀" + "ж" * 66, "ucs2", 3),
        ("ж" * 65 + "😀" + "ж" * 67, "ucs2", 2),
    ],
)
def test_segments_are_counted_exactly(text, encoding, segments):
    assert (sms_encoding(text), sms_segments(text)) == (encoding, segments)
    assert independent_count(text) == (encoding, segments)


MIXED = GSM_BASIC.replace(ESCAPE, "") + GSM_EXTENSION + "êôçœ—…’«»жΩ😀"


@given(st.text(alphabet=MIXED, max_size=420))
def test_counts_agree_with_the_independent_implementation(text):
    assert (sms_encoding(text), sms_segments(text)) == independent_count(text)


@pytest.mark.parametrize(
    ("text", "sent"),
    [
        ("Empêchement ?", "Empechement ?"),
        ("CCAS de Redon — pôle inclusion", "CCAS de Redon - pole inclusion"),
        ("5 rue de l’Aumônerie", "5 rue de l'Aumonerie"),
        ("ça, Ça, œuvre, Œil…", "ca, Ça, oeuvre, OEil..."),
        ("« Île-de-France » août", '" Ile-de-France " aout'),
        ("Numérik, Lohéac, où, à, è, É, ì, ò", "Numérik, Lohéac, où, à, è, É, ì, ò"),
        ("n°\u00a012\u202f:", "no 12 :"),
        # Decomposed accents are composed first: "é" stays é.
        ("Le\u0301a", "Léa"),
    ],
)
def test_transliteration_replaces_only_what_the_alphabet_lacks(text, sent):
    sms = sms_prepare(text)
    assert sms.body == sent
    assert sms.encoding == "gsm7" and independent_count(sms.body)[0] == "gsm7"


def test_a_name_with_no_gsm_form_is_sent_as_written_in_unicode():
    sms = sms_prepare("Rappel pour Сергей : RDV mer. à 14h, à côté")
    assert sms.body == "Rappel pour Сергей : RDV mer. à 14h, à côté"  # "ô" kept too
    assert (sms.encoding, sms.segments) == ("ucs2", 1)


def test_encoding_values_are_the_model_choices():
    assert {"gsm7", "ucs2"} == set(SmsEncoding.values)


# --- Every template, with the demo's longest names ------------------------------------------

TEMPLATES = Path(tasks.__file__).parent / "templates" / "bookings" / "messages"
#: A plausible production address, longer than most.
SITE_URL = "https://rdv.vallons-haute-bretagne.example.fr"
#: The longest French date in an SMS: "mer. 15 sept. à 14h30".
STARTS_AT = datetime(2027, 9, 15, 14, 30, tzinfo=ZoneInfo("Europe/Paris"))


def test_every_sms_template_is_written_in_the_gsm_alphabet():
    templates = sorted(TEMPLATES.glob("*_sms.txt"))
    assert {t.name for t in templates} == {f"{kind}_sms.txt" for kind in MessageKind.values}
    for template in templates:
        source = template.read_text(encoding="utf-8").strip()
        outside = {c for c in source if sms_encoding(c) != "gsm7"}
        assert not outside, f"{template.name}: {outside}"


def longest(values):
    return max(values, key=len)


def demo_longest():
    places = [place for structure in STRUCTURES for place in structure["places"]]
    return {
        "structure": longest(s["name"] for s in STRUCTURES),
        "slug": longest(s["slug"] for s in STRUCTURES),
        "place": longest(p["name"] for p in places),
        "address": longest(p["address"] for p in places),
        "commune": longest(p["commune"] for p in places),
        "motif": longest(MOTIF_SPECS),
    }


def sms_variants(language="fr"):
    """Every SMS the application writes, rendered: each kind, each mode, each wording, in the
    language the resident booked in."""
    names = demo_longest()
    structure = StructureFactory(name=names["structure"], slug=names["slug"])
    # Ids of a large instance: the waiting list's link carries two.
    place = PlaceFactory(
        id=123456,
        structure=structure,
        name=names["place"],
        address=names["address"],
        postcode="35580",
        commune=names["commune"],
    )
    motif = MotifFactory(id=123456, structure=structure, name=names["motif"])
    old = make_appointment(place=place, motif=motif, starts_at=STARTS_AT - timedelta(days=7))
    appointment = make_appointment(place=place, motif=motif, starts_at=STARTS_AT)
    appointment.moved_from = old
    appointment.language = language
    appointment.save()
    rendered = []

    def render(label, notification):
        notification.channel, notification.structure = Channel.SMS, structure
        rendered.append((label, tasks.render_message(notification)))

    for mode in MotifMode.values:
        motif.mode = mode  # the appointments hold this very object
        for kind in (MessageKind.CONFIRMATION, MessageKind.REMINDER, MessageKind.MOVED):
            render(f"{kind} {mode}", Notification(appointment=appointment, kind=kind))
    motif.mode = MotifMode.ON_SITE
    for status in (AppointmentStatus.CANCELLED_BY_RESIDENT, AppointmentStatus.CANCELLED_BY_STAFF):
        cancelled = make_appointment(place=place, motif=motif, starts_at=STARTS_AT, status=status)
        cancelled.language = language
        render(status, Notification(appointment=cancelled, kind=MessageKind.CANCELLATION))
    entry = WaitlistEntry.objects.create(
        place=place,
        motif=motif,
        first_name="Marie-Thérèse",
        phone="+33612345678",
        language=language,
    )
    render(
        "waitlist_offer",
        Notification(waitlist_entry=entry, kind=MessageKind.WAITLIST_OFFER, send_before=STARTS_AT),
    )
    return rendered


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["fr", "en"])
def test_every_sms_is_gsm_and_at_most_two_segments_with_the_demo_longest_names(settings, language):
    settings.SITE_URL = SITE_URL
    variants = sms_variants(language)
    assert len(variants) == 15
    texts = set()
    for label, message in variants:
        body = message.body
        texts.add(body)
        assert message.sms.body == body
        assert independent_count(body) == ("gsm7", message.sms.segments), (label, body)
        assert message.sms.segments <= 2, (label, len(body), body)
        # What the demo's names brought outside the alphabet is transliterated.
        assert "—" not in body and "ô" not in body
        if language == "en":  # written in the language the resident booked in
            assert " RDV " not in body and " à " not in body, (label, body)
            assert any(w in body for w in ("appointment", "place is free")), (label, body)
    assert len(texts) == 15  # the variants do differ


@pytest.mark.django_db
def test_a_sent_sms_stores_its_encoding_and_segments(settings, tmp_path):
    settings.SMS_BACKEND = "bookings.messaging.FileOutboxSmsBackend"
    settings.SMS_OUTBOX_PATH = tmp_path / "sms.jsonl"
    structure = StructureFactory(name="CCAS de Redon — pôle inclusion")
    appointment = make_appointment(place=PlaceFactory(structure=structure), email="a@example.org")
    on_booked(appointment)
    sms = Notification.objects.get(
        appointment=appointment, kind=MessageKind.CONFIRMATION, channel=Channel.SMS
    )
    email = Notification.objects.get(
        appointment=appointment, kind=MessageKind.CONFIRMATION, channel=Channel.EMAIL
    )
    assert tasks.send_notification(sms.pk) == "sent"
    assert tasks.send_notification(email.pk) == "sent"
    sms.refresh_from_db()
    email.refresh_from_db()
    [line] = read_outbox(5)
    assert line["body"].startswith("CCAS de Redon - pole inclusion : RDV confirmé")
    assert (sms.encoding, sms.segments) == ("gsm7", independent_count(line["body"])[1])
    assert (line["encoding"], line["segments"]) == (sms.encoding, sms.segments)
    assert (email.encoding, email.segments) == ("", None)


# --- Providers ------------------------------------------------------------------------------


class RecordingBrevo(BrevoSmsBackend):
    """Brevo's backend with the HTTP call replaced: the payload it would post."""

    payloads: list = []

    def __init__(self):
        super().__init__(api_key="k", api_url="http://brevo.invalid/v3")

    def send_sms(self, to, body):
        import json
        from unittest import mock

        class Answer:
            status = 201

            def read(self, size):
                return b'{"reference": "r1"}'

            def __enter__(self):
                return self

            def __exit__(self, *args):
                return False

        def fake_urlopen(request, timeout):
            RecordingBrevo.payloads.append(json.loads(request.data))
            return Answer()

        with mock.patch("bookings.messaging.urlrequest.urlopen", fake_urlopen):
            return super().send_sms(to, body)


@pytest.mark.parametrize(
    ("body", "unicode"),
    [
        ("RDV confirmé le mer. 15 sept. à 14h30 : 12 € {x}", False),
        ("RDV pour Сергей le mer. 15 sept.", True),
    ],
)
def test_brevo_asks_for_unicode_only_when_the_text_needs_it(body, unicode):
    RecordingBrevo.payloads = []
    assert RecordingBrevo().send_sms("+33612345678", body) == "r1"
    [payload] = RecordingBrevo.payloads
    assert payload["unicodeEnabled"] is unicode
    assert payload["content"] == body


# --- The messages page ----------------------------------------------------------------------


@pytest.mark.django_db
def test_messages_page_shows_each_sms_segments_and_the_month_total(client, settings, tmp_path):
    from django.urls import reverse
    from django.utils import timezone

    from mediation.choices import Role
    from tests.conftest import member

    settings.SMS_BACKEND = "bookings.messaging.FileOutboxSmsBackend"
    settings.SMS_OUTBOX_PATH = tmp_path / "sms.jsonl"
    settings.SITE_URL = SITE_URL
    appointment = make_appointment()
    structure = appointment.place.structure
    on_booked(appointment)
    confirmation = Notification.objects.get(appointment=appointment, kind="confirmation")
    assert tasks.send_notification(confirmation.pk) == "sent"
    confirmation.refresh_from_db()
    assert confirmation.segments == 2  # the private link makes it longer than 160
    # An older message, sent last month, is not in this month's bill.
    last_month = timezone.now() - timedelta(days=40)
    reminder = Notification.objects.get(appointment=appointment, kind="reminder")
    Notification.objects.filter(pk=reminder.pk).update(
        status="sent", sent_at=last_month, segments=3, encoding="ucs2"
    )
    client.force_login(member(structure, Role.MEDIATOR))
    body = client.get(reverse("outbox", kwargs={"structure": structure.slug})).content.decode()
    assert "2 segments SMS</strong> facturés" in body
    assert "(1 SMS envoyé)." in body
    assert body.count("2 segments") == 3  # the total, the row, the demo text
    assert "3 segments (Unicode)" in body
