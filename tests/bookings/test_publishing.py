"""Publishing (issue #14): the structure admin chooses when /rdv/<slug>/ is live; a draft's page
says so politely and takes no booking; the admin copies a link, an iframe that resizes itself,
or a button, per structure or per place; only the embeddable page may be framed."""

from datetime import time
from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from bookings.models import Appointment
from bookings.slots import next_free_slots
from mediation.models import Structure
from tests.bookings.factories import MotifFactory, OpeningHoursFactory
from tests.factories import PlaceFactory, StructureFactory, UserFactory

pytestmark = pytest.mark.django_db

DRAFT_TEXT = "La prise de rendez-vous en ligne n'est pas encore ouverte."


@pytest.fixture
def desk(structure, place):
    motif = MotifFactory(structure=structure, name="Aide CAF", min_delay_minutes=0)
    OpeningHoursFactory(
        place=place,
        mediator=UserFactory(),
        motifs=[motif],
        weekdays=list(range(7)),
        start_time=time(9),
        end_time=time(17),
        first_day=timezone.localdate(),
    )
    return structure, place, motif


def _draft(structure):
    Structure.objects.filter(pk=structure.pk).update(booking_published=False)
    structure.refresh_from_db()


def _choice(place, motif, **extra):
    return "?" + urlencode({"lieu": place.pk, "motif": motif.pk, **extra})


# --- A draft's public pages -----------------------------------------------------------------


def test_a_new_structure_is_published_by_default(db):
    assert StructureFactory().booking_published is True


def test_a_draft_structures_pages_say_so_and_offer_no_slot(client, desk):
    structure, place, motif = desk
    _draft(structure)
    slot = next_free_slots(place=place, motif=motif, count=1)[0]
    urls = [
        reverse("public_start", kwargs={"structure": structure.slug}),
        reverse("public_slots", kwargs={"structure": structure.slug}) + _choice(place, motif),
        reverse("public_details", kwargs={"structure": structure.slug})
        + _choice(place, motif, debut=slot.starts_at.isoformat()),
        reverse("public_waitlist", kwargs={"structure": structure.slug}) + _choice(place, motif),
    ]
    for url in urls:
        response = client.get(url)
        body = unescape(response.content.decode())
        assert response.status_code == 200, url
        assert DRAFT_TEXT in body, url
        assert "Voir les créneaux libres" not in body and "Aide CAF" not in body, url


def test_a_draft_structure_takes_no_booking_even_from_a_forged_post(client, desk):
    structure, place, motif = desk
    slot = next_free_slots(place=place, motif=motif, count=1)[0]
    _draft(structure)
    url = reverse("public_details", kwargs={"structure": structure.slug}) + _choice(
        place, motif, debut=slot.starts_at.isoformat()
    )
    identity = {
        "first_name": "Éric",
        "last_name": "Dupont",
        "phone": "06 12 34 56 78",
        "email": "",
        "need": "",
        "website": "",
    }
    client.post(url, identity)
    waitlist = reverse("public_waitlist", kwargs={"structure": structure.slug})
    client.post(waitlist + _choice(place, motif), {"first_name": "Léa", "phone": "0612345678"})
    from bookings.models import WaitlistEntry

    assert not Appointment.objects.exists()
    assert not WaitlistEntry.objects.exists()
    # The same form books once the page is published (the data was valid).
    Structure.objects.filter(pk=structure.pk).update(booking_published=True)
    client.post(url, identity)
    assert Appointment.objects.count() == 1


def test_publishing_again_opens_the_page(client, desk):
    structure, place, motif = desk
    _draft(structure)
    Structure.objects.filter(pk=structure.pk).update(booking_published=True)
    body = client.get(reverse("public_start", kwargs={"structure": structure.slug}))
    assert DRAFT_TEXT not in unescape(body.content.decode())
    assert "Aide CAF" in body.content.decode()


# --- The admin chooses ----------------------------------------------------------------------


def _rules(structure):
    return reverse("booking_rules", kwargs={"structure": structure.slug})


def test_the_admin_sets_the_page_to_draft_in_the_booking_rules(admin_client_structure, structure):
    page = admin_client_structure.get(_rules(structure)).content.decode()
    assert "Brouillon" in page and 'value="true"' in page
    response = admin_client_structure.post(
        _rules(structure),
        {
            "booking_published": "false",
            "cancel_cutoff_hours": 4,
            "reminder_hours_before": 48,
            "feed_detail": "initials",
        },
    )
    assert response.status_code == 302
    structure.refresh_from_db()
    assert structure.booking_published is False
    assert structure.history.first().history_user is not None


def test_a_bad_publication_choice_is_a_french_error_and_saves_nothing(
    admin_client_structure, structure
):
    for value in ("peut-être", ""):
        response = admin_client_structure.post(
            _rules(structure),
            {
                "booking_published": value,
                "cancel_cutoff_hours": 2,
                "reminder_hours_before": 48,
                "feed_detail": "initials",
            },
        )
        body = unescape(response.content.decode())
        assert response.status_code == 200
        assert "Choisissez" in body
    structure.refresh_from_db()
    assert structure.booking_published is True and structure.cancel_cutoff_hours == 4


def test_a_mediator_cannot_publish_or_get_the_snippets(mediator_client, structure):
    assert mediator_client.get(_rules(structure)).status_code == 403
    embed = reverse("booking_embed", kwargs={"structure": structure.slug})
    assert mediator_client.get(embed).status_code == 403


# --- Link and embed snippets ----------------------------------------------------------------


def test_the_admin_gets_a_link_an_iframe_and_a_button_per_structure_and_per_place(
    admin_client_structure, structure, place, settings
):
    settings.SITE_URL = "https://rdv.example.fr"
    other = PlaceFactory(structure=structure, name="Annexe")
    hub = admin_client_structure.get(
        reverse("booking_settings", kwargs={"structure": structure.slug})
    )
    embed_page = reverse("booking_embed", kwargs={"structure": structure.slug})
    assert embed_page in hub.content.decode()
    body = unescape(admin_client_structure.get(embed_page).content.decode())
    frame = f"https://rdv.example.fr/rdv/{structure.slug}/integration/"
    assert f"https://rdv.example.fr/rdv/{structure.slug}/" in body
    assert f'<iframe src="{frame}"' in body
    assert "/static/bookings/embed" in body and "data-permanence-embed" in body
    for each in (place, other):
        assert f'<iframe src="{frame}?lieu={each.pk}"' in body
        assert f"https://rdv.example.fr/rdv/{structure.slug}/?lieu_choisi={each.pk}" in body
    assert "Prendre rendez-vous en ligne</a>" in body


def test_only_the_embeddable_page_may_be_framed(client, desk):
    structure, place, motif = desk
    embed = client.get(reverse("public_embed", kwargs={"structure": structure.slug}))
    assert embed.status_code == 200
    assert "X-Frame-Options" not in embed.headers
    assert "frame-ancestors *" in embed.headers["Content-Security-Policy"]
    start = client.get(reverse("public_start", kwargs={"structure": structure.slug}))
    assert start.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in start.headers["Content-Security-Policy"]


def test_the_embed_links_open_the_booking_in_a_new_tab(client, desk):
    structure, place, motif = desk
    url = reverse("public_embed", kwargs={"structure": structure.slug})
    body = client.get(url, {"lieu": place.pk}).content.decode()
    slots = reverse("public_slots", kwargs={"structure": structure.slug})
    assert f'href="{slots}?lieu={place.pk}&amp;motif={motif.pk}" target="_blank"' in body
    assert "bookings/embed_frame.js" in body


@pytest.mark.parametrize("value", ["abc", "999999"])
def test_a_bad_place_in_the_embed_is_404(client, desk, value):
    structure, _place, _motif = desk
    url = reverse("public_embed", kwargs={"structure": structure.slug})
    assert client.get(url, {"lieu": value}).status_code == 404


def test_another_structures_place_in_the_embed_is_404(client, desk):
    structure, _place, _motif = desk
    foreign = PlaceFactory(structure=StructureFactory())
    url = reverse("public_embed", kwargs={"structure": structure.slug})
    assert client.get(url, {"lieu": foreign.pk}).status_code == 404


def test_a_draft_structures_embed_says_so(client, desk):
    structure, _place, _motif = desk
    _draft(structure)
    body = client.get(reverse("public_embed", kwargs={"structure": structure.slug}))
    text = unescape(body.content.decode())
    assert DRAFT_TEXT in text and "Aide CAF" not in text


def test_a_booked_appointment_keeps_its_private_link_but_cannot_move_while_draft(client, desk):
    from bookings.services import booking as services

    structure, place, motif = desk
    slot = next_free_slots(place=place, motif=motif, count=1)[0]
    appointment = services.public_booking_make(
        place=place,
        motif=motif,
        starts_at=slot.starts_at,
        first_name="Éric",
        last_name="Dupont",
        phone="+33612345678",
    )
    _draft(structure)
    token = {"token": appointment.token}
    assert client.get(reverse("public_appointment", kwargs=token)).status_code == 200
    move = client.get(reverse("public_move", kwargs=token))
    assert DRAFT_TEXT in unescape(move.content.decode())
