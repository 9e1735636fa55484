"""The waiting list's lifecycle (issue #14): an entry ends when its person books, leaves the
list from the link in their SMS, or after `WAITLIST_DAYS`; staff see each motif's list and book
from it; the list never texts an entry that ended."""

from datetime import UTC, datetime, time, timedelta
from html import unescape

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from bookings import tasks
from bookings.choices import MessageKind, MessageStatus, WaitlistStatus
from bookings.models import Notification, WaitlistEntry
from bookings.selectors import waitlist_entries
from bookings.services import booking as services
from mediation.choices import Role
from tests.bookings.factories import MotifFactory, OpeningHoursFactory
from tests.conftest import member
from tests.factories import PlaceFactory, ResidentFactory, StructureFactory, UserFactory

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=0)
MOBILE = "+33612345678"
W = WaitlistStatus


@pytest.fixture
def desk(structure, place):
    motif = MotifFactory(structure=structure, name="Aide CAF", min_delay_minutes=0)
    mediator = member(structure, Role.MEDIATOR)
    OpeningHoursFactory(
        place=place,
        mediator=mediator,
        motifs=[motif],
        weekdays=list(range(7)),
        start_time=time(9),
        end_time=time(17),
        first_day=timezone.localdate(timezone=place.tzinfo),
    )
    return place, motif, mediator


def _tomorrow_9h(place):
    day = timezone.localdate(timezone=place.tzinfo) + timedelta(days=1)
    return datetime.combine(day, time(9), tzinfo=place.tzinfo).astimezone(UTC)


def _book(desk, *, starts_at, resident=None):
    place, motif, mediator = desk
    return services.appointment_book(
        place=place,
        motif=motif,
        mediator=mediator,
        starts_at=starts_at,
        resident=resident or ResidentFactory(structure=place.structure),
        now=NOW,
    )


def _join(desk, *, phone=MOBILE, first_name="Awa"):
    place, motif, _mediator = desk
    return services.waitlist_join(place=place, motif=motif, first_name=first_name, phone=phone)


def _offers(entry):
    return Notification.objects.filter(waitlist_entry=entry, kind=MessageKind.WAITLIST_OFFER)


# --- The list never texts an ended entry ----------------------------------------------------


def test_the_list_never_texts_someone_who_has_since_booked_the_motif(desk):
    place, _motif, _mediator = desk
    start = _tomorrow_9h(place)
    entry = _join(desk)
    # The person books the motif (here at the desk, with the same mobile): that ends the entry.
    _book(desk, starts_at=start, resident=ResidentFactory(structure=place.structure, phone=MOBILE))
    other = _book(desk, starts_at=start + timedelta(minutes=30))
    services.appointment_cancel(appointment=other, by_resident=True, now=NOW)
    entry.refresh_from_db()
    assert entry.status == W.BOOKED and entry.ended_at == NOW
    assert not _offers(entry).exists()


def test_the_list_never_texts_an_entry_past_its_period(desk, settings):
    settings.WAITLIST_DAYS = 30
    place, _motif, _mediator = desk
    entry = _join(desk)
    WaitlistEntry.objects.filter(pk=entry.pk).update(created_at=NOW - timedelta(days=31))
    appointment = _book(desk, starts_at=_tomorrow_9h(place))
    services.appointment_cancel(appointment=appointment, by_resident=True, now=NOW)
    assert not _offers(entry).exists()


def test_an_offer_still_pending_is_not_sent_once_the_entry_has_ended(
    desk, settings, django_capture_on_commit_callbacks
):
    settings.SMS_BACKEND = "bookings.messaging.FileOutboxSmsBackend"
    place, _motif, _mediator = desk
    entry = _join(desk)
    appointment = _book(desk, starts_at=_tomorrow_9h(place))
    with django_capture_on_commit_callbacks(execute=False):
        services.appointment_cancel(appointment=appointment, by_resident=True, now=NOW)
    [offer] = _offers(entry)
    assert offer.status == MessageStatus.PENDING
    assert services.waitlist_leave(entry=entry)
    offer.refresh_from_db()
    assert offer.status == MessageStatus.CANCELLED
    assert tasks.send_notification(offer.pk) != "sent"


def test_the_claim_drops_an_offer_whose_entry_ended_without_the_service(desk, settings):
    """Belt and braces: whatever ended the entry, the sender checks it again."""
    settings.SMS_BACKEND = "bookings.messaging.FileOutboxSmsBackend"
    place, motif, _mediator = desk
    entry = _join(desk)
    offer = Notification.objects.create(
        structure=place.structure,
        waitlist_entry=entry,
        kind=MessageKind.WAITLIST_OFFER,
        channel="sms",
        recipient=MOBILE,
        send_before=timezone.now() + timedelta(days=1),
    )
    WaitlistEntry.objects.filter(pk=entry.pk).update(created_at=timezone.now() - timedelta(days=40))
    assert tasks.send_notification(offer.pk) == "dropped"
    offer.refresh_from_db()
    assert offer.status == MessageStatus.DROPPED and offer.sent_at is None


def test_waiting_entries_are_still_offered_first_come_first_served(desk):
    place, _motif, _mediator = desk
    entries = [_join(desk, phone=f"+3361234567{i}") for i in range(4)]
    appointment = _book(desk, starts_at=_tomorrow_9h(place))
    services.appointment_cancel(appointment=appointment, by_resident=True, now=NOW)
    statuses = [WaitlistEntry.objects.get(pk=e.pk).status for e in entries]
    assert statuses == [W.OFFERED] * 3 + [W.WAITING]


# --- Ends -----------------------------------------------------------------------------------


def test_expiry_ends_entries_older_than_the_setting_and_records_why(desk, settings):
    settings.WAITLIST_DAYS = 10
    old, young = _join(desk, phone="+33611111111"), _join(desk, phone="+33622222222")
    WaitlistEntry.objects.filter(pk=old.pk).update(created_at=NOW - timedelta(days=11))
    WaitlistEntry.objects.filter(pk=young.pk).update(created_at=NOW - timedelta(days=9))
    assert services.waitlist_expire(now=NOW) == 1
    old.refresh_from_db()
    young.refresh_from_db()
    assert (old.status, old.ended_at) == (W.EXPIRED, NOW)
    assert young.status == W.WAITING
    assert old.history.first().history_change_reason == "durée d'inscription écoulée"
    assert services.waitlist_expire(now=NOW) == 0


def test_the_daily_task_expires_in_batches(desk, settings, monkeypatch):
    monkeypatch.setattr(services, "WAITLIST_EXPIRE_BATCH", 2)
    for i in range(5):
        entry = _join(desk, phone=f"+3361234568{i}")
        WaitlistEntry.objects.filter(pk=entry.pk).update(created_at=NOW - timedelta(days=60))
    assert tasks.waitlist_expire() == 5
    assert not WaitlistEntry.objects.past_period().exists()


def test_ensure_schedules_adds_the_daily_expiry_once():
    from django_q.models import Schedule

    tasks.ensure_schedules()
    tasks.ensure_schedules()
    [schedule] = Schedule.objects.filter(name=tasks.WAITLIST_SCHEDULE_NAME)
    assert schedule.func == "bookings.tasks.waitlist_expire"
    assert schedule.schedule_type == Schedule.DAILY


def test_joining_again_after_an_end_starts_a_new_entry(desk):
    first = _join(desk)
    assert _join(desk) == first  # still on the list: once
    services.waitlist_leave(entry=first)
    second = _join(desk)
    assert second != first and second.status == W.WAITING


def test_an_entry_past_its_period_is_not_reused_by_joining_again(desk):
    first = _join(desk)
    WaitlistEntry.objects.filter(pk=first.pk).update(created_at=NOW - timedelta(days=31))
    assert _join(desk) != first


# --- The private link: leave the list -------------------------------------------------------


def _entry_url(entry):
    return reverse("public_waitlist_entry", kwargs={"token": entry.token})


def test_the_private_link_shows_the_entry_and_a_get_changes_nothing(client, desk):
    entry = _join(desk)
    response = client.get(_entry_url(entry))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Quitter la liste d'attente" in body and "Aide CAF" in body
    assert f"?lieu={entry.place_id}&amp;motif={entry.motif_id}" in body
    entry.refresh_from_db()
    assert entry.status == W.WAITING


def test_leaving_from_the_private_link_takes_one_post_and_confirms_in_french(client, desk):
    entry = _join(desk)
    response = client.post(_entry_url(entry), {"quitter": "oui"})
    assert response.status_code == 200
    assert "Vous ne figurez plus sur la liste d'attente." in response.content.decode()
    entry.refresh_from_db()
    assert entry.status == W.LEFT and entry.ended_at is not None
    # Again: harmless, says it has ended.
    again = client.post(_entry_url(entry), {"quitter": "oui"}).content.decode()
    assert "Cette inscription est terminée" in again


def test_a_post_without_the_answer_changes_nothing(client, desk):
    entry = _join(desk)
    client.post(_entry_url(entry), {})
    entry.refresh_from_db()
    assert entry.status == W.WAITING


def test_a_forged_waitlist_token_is_404(client, db):
    response = client.get(reverse("public_waitlist_entry", kwargs={"token": "x" * 43}))
    assert response.status_code == 404


def test_the_private_link_is_rate_limited_like_appointment_links(client, desk):
    cache.clear()
    entry = _join(desk)
    for _ in range(120):
        client.get(_entry_url(entry))
    assert client.get(_entry_url(entry)).status_code == 404


# --- Staff: the list, and booking from it ---------------------------------------------------


def test_staff_see_each_motifs_list_without_ended_entries_or_other_structures(
    mediator_client, desk, structure
):
    place, motif, _mediator = desk
    other_motif = MotifFactory(structure=structure, name="Atelier ANTS")
    awa = _join(desk, first_name="Awa")
    services.waitlist_join(place=place, motif=other_motif, first_name="Bruno", phone="+33622222222")
    left = _join(desk, phone="+33633333333", first_name="Carole")
    services.waitlist_leave(entry=left)
    elsewhere = PlaceFactory(structure=StructureFactory())
    services.waitlist_join(
        place=elsewhere,
        motif=MotifFactory(structure=elsewhere.structure),
        first_name="Dounia",
        phone="+33644444444",
    )
    url = reverse("agenda_waitlist", kwargs={"structure": structure.slug})
    body = mediator_client.get(url).content.decode()
    assert "Awa" in body and "Bruno" in body and "Aide CAF" in body and "Atelier ANTS" in body
    assert "Carole" not in body and "Dounia" not in body
    assert f"?attente={awa.pk}" in body
    only = mediator_client.get(url, {"motif": motif.pk}).content.decode()
    assert "Awa" in only and "Bruno" not in only


def test_a_bad_motif_filter_is_a_french_error_not_a_crash(mediator_client, desk, structure):
    url = reverse("agenda_waitlist", kwargs={"structure": structure.slug})
    for value in ("abc", "999999"):
        response = mediator_client.get(url, {"motif": value})
        assert response.status_code == 400
        assert "Ce motif n'existe pas ou plus" in unescape(response.content.decode())


def test_the_waitlist_page_is_reachable_from_the_agenda(mediator_client, structure):
    body = mediator_client.get(reverse("agenda", kwargs={"structure": structure.slug}))
    assert reverse("agenda_waitlist", kwargs={"structure": structure.slug}) in body.content.decode()


def test_the_waitlist_selector_is_scoped(desk, mediator):
    place, _motif, _mediator = desk
    _join(desk)
    assert waitlist_entries(mediator, place.structure).count() == 1
    assert waitlist_entries(UserFactory(), place.structure).count() == 0


def test_booking_from_the_list_prefills_the_resident_and_the_slot_search(
    mediator_client, desk, structure
):
    place, motif, _mediator = desk
    entry = _join(desk, first_name="Awa")
    url = reverse("agenda_book", kwargs={"structure": structure.slug})
    body = mediator_client.get(url, {"attente": entry.pk}).content.decode()
    assert "Depuis la liste d'attente" in body
    assert 'value="Awa"' in body and 'value="06 12 34 56 78"' in body
    # A resident with that mobile is found; the next step searches the entry's place and motif.
    resident = ResidentFactory(structure=structure, phone=MOBILE, first_name="Awa")
    body = mediator_client.get(url, {"attente": entry.pk}).content.decode()
    step2 = reverse(
        "agenda_book_slot", kwargs={"structure": structure.slug, "resident": resident.pk}
    )
    assert f"{step2}?place={place.pk}&amp;motif={motif.pk}" in body


def test_booking_from_the_list_creates_the_resident_and_goes_to_the_slots(
    mediator_client, desk, structure
):
    place, motif, _mediator = desk
    entry = _join(desk, first_name="Awa")
    url = reverse("agenda_book", kwargs={"structure": structure.slug})
    response = mediator_client.post(
        f"{url}?attente={entry.pk}",
        {"first_name": "Awa", "last_name": "Diallo", "phone": "06 12 34 56 78"},
    )
    assert response.status_code == 302
    assert response.url.endswith(f"?place={place.pk}&motif={motif.pk}")


@pytest.mark.parametrize("value", ["abc", "999999", ""])
def test_a_bad_or_foreign_entry_is_404(mediator_client, structure, value):
    url = reverse("agenda_book", kwargs={"structure": structure.slug})
    assert mediator_client.get(url, {"attente": value}).status_code == 404


def test_an_ended_entry_cannot_be_booked_from(mediator_client, desk, structure):
    entry = _join(desk)
    services.waitlist_leave(entry=entry)
    url = reverse("agenda_book", kwargs={"structure": structure.slug})
    assert mediator_client.get(url, {"attente": entry.pk}).status_code == 404
