"""A mediator's subscribed agenda: a private link (webcal://) to their appointments and
workshops, residents by initials and motif only, renewable and revocable, cheap to poll.
Read back with vobject, independent of the icalendar library that writes it."""

from datetime import timedelta

import pytest
import vobject
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from bookings.choices import AppointmentStatus
from bookings.models import Appointment, CalendarFeed
from bookings.services.feed import calendar_feed_renew
from mediation.choices import FeedDetail, Role
from tests.bookings.factories import MotifFactory, SlotFactory, WorkshopFactory
from tests.conftest import member
from tests.factories import PlaceFactory, ResidentFactory, StructureFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = "https://rdv.example.org"
    cache.clear()


def appointment(place, motif, mediator, starts_at, resident=None, **fields):
    slot = SlotFactory(place=place, motif=motif, mediator=mediator, starts_at=starts_at)
    resident = resident or ResidentFactory(
        structure=place.structure, first_name="Awa", last_name="Diallo", phone="+33612345678"
    )
    return Appointment.objects.create(
        place=place,
        motif=motif,
        mediator=mediator,
        resident=resident,
        slot=slot,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        **fields,
    )


@pytest.fixture
def agenda():
    structure = StructureFactory(name="Mairie de Lohéac")
    place = PlaceFactory(structure=structure, name="Salle du conseil")
    mediator = member(structure, Role.MEDIATOR)
    motif = MotifFactory(structure=structure, name="Aide CAF")
    soon = timezone.now().replace(microsecond=0) + timedelta(days=2)
    return structure, place, mediator, motif, soon


def feed_url(feed):
    return reverse("calendar_feed", kwargs={"token": feed.token})


def test_the_feed_shows_initials_and_motif_never_a_name_or_a_number(client, agenda):
    structure, place, mediator, motif, soon = agenda
    mine = appointment(place, motif, mediator, soon)
    cancelled = AppointmentStatus.CANCELLED_BY_STAFF
    appointment(place, motif, mediator, soon + timedelta(hours=2), status=cancelled)
    other_mediator = member(structure, Role.MEDIATOR)
    appointment(place, motif, other_mediator, soon + timedelta(hours=3))
    elsewhere = StructureFactory()
    mediator_elsewhere_place = PlaceFactory(structure=elsewhere)
    appointment(
        mediator_elsewhere_place,
        MotifFactory(structure=elsewhere),
        mediator,
        soon + timedelta(hours=4),
        resident=ResidentFactory(structure=elsewhere),
    )
    feed = calendar_feed_renew(structure=structure, user=mediator, by=mediator)
    response = client.get(feed_url(feed))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    body = response.content.decode()
    calendar = vobject.readOne(body)
    [event] = calendar.vevent_list
    assert event.summary.value == "A. D. — Aide CAF"
    assert event.dtstart.value == mine.starts_at
    assert event.dtstart.value.utcoffset() == timedelta(0)
    assert "Diallo" not in body and "Awa" not in body
    assert "612345678" not in body and "12 34 56 78" not in body
    assert calendar.x_wr_calname.value == "Permanence — Mairie de Lohéac"


def test_a_workshop_is_one_event_with_its_number_of_participants(client, agenda):
    structure, place, mediator, _motif, soon = agenda
    workshop = WorkshopFactory(structure=structure, name="Atelier smartphone")
    slot = SlotFactory(place=place, motif=workshop, mediator=mediator, starts_at=soon, capacity=3)
    for first_name in ("Awa", "Léo"):
        Appointment.objects.create(
            place=place,
            motif=workshop,
            mediator=mediator,
            resident=ResidentFactory(structure=structure, first_name=first_name),
            slot=slot,
            starts_at=slot.starts_at,
            ends_at=slot.ends_at,
        )
    feed = calendar_feed_renew(structure=structure, user=mediator, by=mediator)
    [event] = vobject.readOne(client.get(feed_url(feed)).content.decode()).vevent_list
    assert event.summary.value == "Atelier : Atelier smartphone (2 participants)"


def test_the_feed_is_one_query_cached_and_answers_304(
    client, agenda, django_assert_max_num_queries, django_assert_num_queries
):
    structure, place, mediator, motif, soon = agenda
    for hour in range(20):
        appointment(place, motif, mediator, soon + timedelta(hours=hour))
    feed = calendar_feed_renew(structure=structure, user=mediator, by=mediator)
    # The rate limit's counter (a database row without Redis), the token, the mediator's roles
    # (memberships, networks), the appointments: whatever their number.
    with django_assert_num_queries(5):
        first = client.get(feed_url(feed))
    assert first.status_code == 200 and first["ETag"] and first["Last-Modified"]
    assert len(vobject.readOne(first.content.decode()).vevent_list) == 20
    with django_assert_max_num_queries(4):  # cached: no appointment read
        again = client.get(feed_url(feed))
    assert again.content == first.content
    assert client.get(feed_url(feed), headers={"If-None-Match": first["ETag"]}).status_code == 304
    since = client.get(feed_url(feed), headers={"If-Modified-Since": first["Last-Modified"]})
    assert since.status_code == 304


def test_renewing_revokes_the_old_link_and_revoking_stops_it(client, agenda):
    structure, _place, mediator, _motif, _soon = agenda
    client.force_login(mediator)
    page = reverse("agenda_feed", kwargs={"structure": structure.slug})
    assert "Créer mon lien d'abonnement" in client.get(page).content.decode()
    client.post(page, {"action": "renew"})
    first = CalendarFeed.objects.get()
    body = client.get(page).content.decode()
    assert f"webcal://rdv.example.org/agenda/{first.token}.ics" in body
    assert f"https://rdv.example.org/agenda/{first.token}.ics" in body
    client.post(page, {"action": "renew"})
    second = CalendarFeed.objects.active().get()
    assert second.token != first.token
    assert client.get(feed_url(first)).status_code == 410
    assert client.get(feed_url(second)).status_code == 200
    client.post(page, {"action": "revoke"})
    assert client.get(feed_url(second)).status_code == 410
    assert not CalendarFeed.objects.active().exists()
    assert client.get("/agenda/no-such-token.ics").status_code == 404


def test_a_mediator_who_left_the_structure_gets_410(client, agenda):
    structure, _place, mediator, _motif, _soon = agenda
    feed = calendar_feed_renew(structure=structure, user=mediator, by=mediator)
    mediator.memberships.all().delete()
    assert client.get(feed_url(feed)).status_code == 410


def test_the_page_is_the_mediators_own_in_their_structure_only(client, agenda):
    structure, _place, _mediator, _motif, _soon = agenda
    page = reverse("agenda_feed", kwargs={"structure": structure.slug})
    client.force_login(member(StructureFactory(), Role.MEDIATOR))
    assert client.get(page).status_code == 404
    client.force_login(member(structure, Role.STRUCTURE_ADMIN))
    assert client.get(page).status_code == 403


def test_only_the_owner_renews_a_feed(agenda):
    structure, _place, mediator, _motif, _soon = agenda
    with pytest.raises(PermissionError):
        calendar_feed_renew(structure=structure, user=mediator, by=member(structure))


def test_the_agenda_links_to_the_page_for_mediators(client, agenda):
    structure, _place, mediator, _motif, _soon = agenda
    client.force_login(mediator)
    body = client.get(reverse("agenda", kwargs={"structure": structure.slug})).content.decode()
    assert reverse("agenda_feed", kwargs={"structure": structure.slug}) in body


def test_the_structure_may_allow_full_names_never_the_phone(client, agenda):
    structure, place, mediator, motif, soon = agenda
    appointment(place, motif, mediator, soon, need="Dossier RSA")
    feed = calendar_feed_renew(structure=structure, user=mediator, by=mediator)
    first = client.get(feed_url(feed)).content.decode()
    assert vobject.readOne(first).vevent.summary.value == "A. D. — Aide CAF"
    structure.feed_detail = FeedDetail.FULL_NAME
    structure.save(update_fields=["feed_detail"])
    # Not the cached initials: the choice shows at the next poll.
    body = client.get(feed_url(feed)).content.decode()
    assert vobject.readOne(body).vevent.summary.value == "Awa Diallo — Aide CAF"
    assert "612345678" not in body and "12 34 56 78" not in body
    assert "RSA" not in body
