import re
from datetime import time, timedelta

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from bookings.choices import AppointmentStatus
from bookings.models import Appointment
from bookings.slots import next_free_slots
from mediation.models import Resident
from tests.bookings.factories import MotifFactory, OpeningHoursFactory
from tests.factories import PlaceFactory, StructureFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clear_rate_limits():
    cache.clear()


@pytest.fixture
def desk():
    structure = StructureFactory(name="Mairie de Lohéac", slug="mairie-loheac")
    place = PlaceFactory(structure=structure, name="Salle du conseil")
    motif = MotifFactory(
        structure=structure,
        name="Aide CAF",
        min_delay_minutes=0,
        max_delay_days=60,
        instructions="Apportez votre numéro d'allocataire.",
    )
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


def query(place, motif, **extra):
    return "?" + urlencode({"lieu": place.pk, "motif": motif.pk, **extra})


def details_url(structure, place, motif, starts_at):
    return reverse("public_details", kwargs={"structure": structure.slug}) + query(
        place, motif, debut=starts_at.isoformat()
    )


IDENTITY = {
    "first_name": "Éric",
    "last_name": "Dupont",
    "phone": "06 12 34 56 78",
    "email": "",
    "need": "Renouveler ma carte d'identité",
    "website": "",
}


def test_start_page_lists_places_and_services_offered_online(client, desk):
    structure, place, motif = desk
    MotifFactory(structure=structure, name="Réservé à l'équipe", bookable_online=False)
    body = client.get(reverse("public_start", kwargs={"structure": structure.slug}))
    text = body.content.decode()
    assert place.name in text and "Aide CAF" in text and "Réservé à l'équipe" not in text


def test_choosing_without_a_motif_says_what_is_missing(client, desk):
    structure, place, _motif = desk
    response = client.get(
        reverse("public_start", kwargs={"structure": structure.slug}), {"lieu": place.pk}
    )
    assert response.status_code == 400
    assert "Choisissez ce pour quoi vous venez." in response.content.decode()


def test_submitting_with_nothing_chosen_asks_for_a_place_and_a_motif(client, desk):
    structure, _place, _motif = desk
    PlaceFactory(structure=structure, name="Annexe")  # with one place, none is asked
    MotifFactory(structure=structure, name="Autre motif")
    url = reverse("public_start", kwargs={"structure": structure.slug})
    form = client.get(url).content.decode()
    assert 'name="envoi"' in form
    # Radio groups left empty send nothing but the form's hidden field.
    response = client.get(url, {"envoi": "1"})
    body = response.content.decode()
    assert response.status_code == 400
    assert "Choisissez un lieu." in body and "Choisissez ce pour quoi vous venez." in body
    assert 'aria-describedby="err-lieu"' in body and 'aria-describedby="err-motif"' in body


def test_slots_page_shows_free_times_in_the_places_time_zone(client, desk):
    structure, place, motif = desk
    response = client.get(
        reverse("public_slots", kwargs={"structure": structure.slug}) + query(place, motif)
    )
    first = next_free_slots(place=place, motif=motif, count=1)[0]
    local = timezone.localtime(first.starts_at, place.tzinfo)
    assert response.status_code == 200
    assert local.strftime("%H:%M") in response.content.decode()


def test_a_resident_books_in_four_screens_and_lands_on_the_private_link(client, desk):
    structure, place, motif = desk
    slot = next_free_slots(place=place, motif=motif, count=1)[0]
    response = client.post(details_url(structure, place, motif, slot.starts_at), IDENTITY)
    appointment = Appointment.objects.get()
    assert response.status_code == 302
    assert (
        response["Location"]
        == reverse("public_appointment", kwargs={"token": appointment.token}) + "?nouveau=1"
    )
    assert appointment.resident.phone.as_e164 == "+33612345678"
    page = client.get(response["Location"]).content.decode()
    assert "Votre rendez-vous est confirmé." in page
    # The first free time is soon: no reminder will follow the confirmation.
    assert "puis un rappel" not in page
    assert "Apportez votre numéro d&#x27;allocataire." in page or "allocataire" in page


def test_a_booking_days_ahead_announces_the_reminder(client, desk):
    structure, place, motif = desk
    slot = next_free_slots(
        place=place, motif=motif, count=1, now=timezone.now() + timedelta(days=4)
    )[0]
    response = client.post(details_url(structure, place, motif, slot.starts_at), IDENTITY)
    assert "puis un rappel" in client.get(response["Location"]).content.decode()


def test_bad_phone_gets_a_french_message_and_keeps_the_input(client, desk):
    structure, place, motif = desk
    slot = next_free_slots(place=place, motif=motif, count=1)[0]
    response = client.post(
        details_url(structure, place, motif, slot.starts_at), {**IDENTITY, "phone": "12"}
    )
    body = response.content.decode()
    assert response.status_code == 400
    assert "Ce numéro de téléphone n&#x27;est pas valide" in body
    assert 'value="Dupont"' in body
    assert not Appointment.objects.exists() and not Resident.objects.exists()


def test_a_landline_without_email_is_refused_for_sms(client, desk):
    structure, place, motif = desk
    slot = next_free_slots(place=place, motif=motif, count=1)[0]
    url = details_url(structure, place, motif, slot.starts_at)
    response = client.post(url, {**IDENTITY, "phone": "02 99 12 34 56"})
    assert "pas un mobile" in response.content.decode()
    response = client.post(url, {**IDENTITY, "phone": "02 99 12 34 56", "email": "eric@exemple.fr"})
    assert response.status_code == 302


def test_overseas_mobile_numbers_are_accepted(client, desk):
    structure, place, motif = desk
    slot = next_free_slots(place=place, motif=motif, count=1)[0]
    response = client.post(
        details_url(structure, place, motif, slot.starts_at),
        {**IDENTITY, "phone": "+262 692 12 34 56"},
    )
    assert response.status_code == 302


def test_the_honeypot_saves_nothing(client, desk):
    structure, place, motif = desk
    slot = next_free_slots(place=place, motif=motif, count=1)[0]
    response = client.post(
        details_url(structure, place, motif, slot.starts_at),
        {**IDENTITY, "website": "http://spam.example"},
    )
    assert response.status_code == 400 and not Appointment.objects.exists()


def test_the_loser_of_a_race_sees_the_next_free_slots(client, desk):
    structure, place, motif = desk
    slot = next_free_slots(place=place, motif=motif, count=1)[0]
    url = details_url(structure, place, motif, slot.starts_at)
    client.post(url, IDENTITY)
    response = client.post(url, {**IDENTITY, "first_name": "Anne", "phone": "0698765432"})
    body = response.content.decode()
    assert response.status_code == 409
    assert "Ce créneau vient d&#x27;être pris" in body or "Ce créneau vient d'être pris" in body
    assert "Choisissez un horaire" in body
    assert Appointment.objects.count() == 1


def test_a_forged_time_or_a_slot_outside_opening_hours_is_refused(client, desk):
    structure, place, motif = desk
    base = reverse("public_details", kwargs={"structure": structure.slug})
    assert client.get(base + query(place, motif, debut="demain")).status_code == 404
    odd = (timezone.now() + timedelta(days=3)).replace(hour=2, minute=7, second=0, microsecond=0)
    response = client.post(details_url(structure, place, motif, odd), IDENTITY)
    assert response.status_code == 400
    assert "pas proposé" in response.content.decode()
    assert not Appointment.objects.exists()


def test_tampered_place_or_motif_of_another_structure_is_not_found(client, desk):
    structure, place, motif = desk
    other_place = PlaceFactory()
    other_motif = MotifFactory(structure=other_place.structure)
    url = reverse("public_slots", kwargs={"structure": structure.slug})
    assert client.get(url + query(other_place, motif)).status_code == 404
    assert client.get(url + query(place, other_motif)).status_code == 404
    assert client.get(url + "?lieu=abc&motif=1").status_code == 404


def test_bookings_are_rate_limited_per_phone(client, desk):
    structure, place, motif = desk
    # Slots two days ahead: none may pass (or enter the minimum delay) during the test.
    slots = next_free_slots(
        place=place, motif=motif, count=7, now=timezone.now() + timedelta(days=2)
    )
    statuses = [
        client.post(details_url(structure, place, motif, s.starts_at), IDENTITY).status_code
        for s in slots[:6]
    ]
    assert statuses[:5] == [302] * 5 and statuses[5] == 400


def test_the_private_link_cancels_and_offers_a_new_booking(client, desk):
    structure, place, motif = desk
    slot = next_free_slots(
        place=place, motif=motif, count=1, now=timezone.now() + timedelta(days=2)
    )[0]
    client.post(details_url(structure, place, motif, slot.starts_at), IDENTITY)
    appointment = Appointment.objects.get()
    response = client.post(
        reverse("public_cancel", kwargs={"token": appointment.token}),
        {"confirmer": "oui"},
        follow=True,
    )
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CANCELLED_BY_RESIDENT
    assert "Prendre un nouveau rendez-vous" in response.content.decode()


def test_cancelling_from_the_private_link_asks_for_confirmation_first(client, desk):
    structure, place, motif = desk
    slot = next_free_slots(
        place=place, motif=motif, count=1, now=timezone.now() + timedelta(days=2)
    )[0]
    client.post(details_url(structure, place, motif, slot.starts_at), IDENTITY)
    appointment = Appointment.objects.get()
    cancel_url = reverse("public_cancel", kwargs={"token": appointment.token})
    private = client.get(reverse("public_appointment", kwargs={"token": appointment.token}))
    assert f'href="{cancel_url}"' in private.content.decode()
    question = client.get(cancel_url)
    body = question.content.decode()
    assert question.status_code == 200
    assert "Oui, annuler" in body and "Non, garder mon rendez-vous" in body
    # A one-click POST (an old page, a double tap) only shows the question again.
    client.post(cancel_url)
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.BOOKED


def test_the_private_link_moves_the_appointment(client, desk):
    structure, place, motif = desk
    later = next_free_slots(
        place=place, motif=motif, count=3, now=timezone.now() + timedelta(days=2)
    )
    client.post(details_url(structure, place, motif, later[0].starts_at), IDENTITY)
    old = Appointment.objects.get()
    response = client.post(
        reverse("public_move", kwargs={"token": old.token}),
        {"debut": later[2].starts_at.isoformat(), "confirmer": "oui"},
    )
    new = Appointment.objects.get(status=AppointmentStatus.BOOKED)
    assert response.status_code == 302 and new.token in response["Location"]
    assert new.starts_at == later[2].starts_at and new.moved_from_id == old.pk


def test_moving_shows_the_current_time_then_asks_to_confirm_old_and_new(client, desk):
    structure, place, motif = desk
    later = next_free_slots(
        place=place, motif=motif, count=3, now=timezone.now() + timedelta(days=2)
    )
    client.post(details_url(structure, place, motif, later[0].starts_at), IDENTITY)
    old = Appointment.objects.get()
    move_url = reverse("public_move", kwargs={"token": old.token})
    old_local = timezone.localtime(old.starts_at, place.tzinfo)
    new_local = timezone.localtime(later[2].starts_at, place.tzinfo)

    page = client.get(move_url).content.decode()
    assert "Votre rendez-vous actuel :" in page
    assert old_local.strftime("%H:%M") in page.split("Votre rendez-vous actuel :")[1][:200]
    assert 'method="post"' not in page  # picking a time only leads to the question

    # Picking a time (a link: a GET) moves nothing and asks, showing the old and the new time.
    response = client.get(move_url, {"debut": later[2].starts_at.isoformat()})
    body = response.content.decode()
    assert response.status_code == 200
    assert "Confirmer le déplacement" in body
    assert "Rendez-vous actuel" in body and "Nouveau rendez-vous" in body
    assert old_local.strftime("%H:%M") in body and new_local.strftime("%H:%M") in body
    assert Appointment.objects.get().starts_at == old.starts_at
    # "Choisir un autre horaire" comes back with that time highlighted.
    assert "choisi=" in body

    # A POST without the answer (an old page's one-click form) only asks again.
    response = client.post(move_url, {"debut": later[2].starts_at.isoformat()})
    assert "Confirmer le déplacement" in response.content.decode()
    assert Appointment.objects.count() == 1

    response = client.post(move_url, {"debut": later[2].starts_at.isoformat(), "confirmer": "oui"})
    assert response.status_code == 302
    assert Appointment.objects.get(status=AppointmentStatus.BOOKED).starts_at == later[2].starts_at


def test_coming_back_to_the_move_times_highlights_the_one_chosen(client, desk):
    structure, place, motif = desk
    later = next_free_slots(
        place=place, motif=motif, count=3, now=timezone.now() + timedelta(days=2)
    )
    client.post(details_url(structure, place, motif, later[0].starts_at), IDENTITY)
    old = Appointment.objects.get()
    body = client.get(
        reverse("public_move", kwargs={"token": old.token}),
        {"choisi": later[2].starts_at.isoformat()},
    ).content.decode()
    assert body.count('aria-current="true"') == 1
    assert "(votre choix)" in body


def test_moving_to_a_time_not_offered_says_so_and_moves_nothing(client, desk):
    structure, place, motif = desk
    later = next_free_slots(
        place=place, motif=motif, count=3, now=timezone.now() + timedelta(days=2)
    )
    client.post(details_url(structure, place, motif, later[0].starts_at), IDENTITY)
    old = Appointment.objects.get()
    response = client.post(
        reverse("public_move", kwargs={"token": old.token}),
        {"debut": "pas une date", "confirmer": "oui"},
    )
    assert response.status_code == 409
    assert "Choisissez un horaire dans la liste." in response.content.decode()
    assert Appointment.objects.get().starts_at == old.starts_at


def test_the_old_link_of_a_moved_appointment_says_moved_and_leads_to_the_new_one(client, desk):
    structure, place, motif = desk
    later = next_free_slots(
        place=place, motif=motif, count=3, now=timezone.now() + timedelta(days=2)
    )
    client.post(details_url(structure, place, motif, later[0].starts_at), IDENTITY)
    old = Appointment.objects.get()
    client.post(
        reverse("public_move", kwargs={"token": old.token}),
        {"debut": later[2].starts_at.isoformat(), "confirmer": "oui"},
    )
    new = Appointment.objects.get(status=AppointmentStatus.BOOKED)
    body = client.get(reverse("public_appointment", kwargs={"token": old.token})).content.decode()
    assert "<strong>Déplacé</strong>" in body and "Annulé" not in body
    assert "Ce rendez-vous a été déplacé au" in body
    assert timezone.localtime(new.starts_at, place.tzinfo).strftime("%H:%M") in body
    assert f'href="{reverse("public_appointment", kwargs={"token": new.token})}"' in body


@pytest.mark.parametrize(
    "when",
    [
        "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:59-14:00",
        "9999-12-31T23:59:59+00:00",
        "9999-12-20T00:00:00+00:00",
    ],
)
def test_a_time_at_the_ends_of_the_calendar_is_not_an_error(client, desk, when):
    # These overflowed (500) converting to UTC or adding the days of a page.
    structure, place, motif = desk
    slots = reverse("public_slots", kwargs={"structure": structure.slug})
    assert client.get(slots + query(place, motif, apres=when)).status_code == 200
    details = reverse("public_details", kwargs={"structure": structure.slug})
    assert client.get(details + query(place, motif, debut=when)).status_code == 404


def test_a_forged_token_finds_nothing(client):
    response = client.get(reverse("public_appointment", kwargs={"token": "x" * 43}))
    assert response.status_code == 404


def _booked_inside_the_cutoff(client, desk):
    structure, place, motif = desk
    slot = next_free_slots(place=place, motif=motif, count=1)[0]
    client.post(details_url(structure, place, motif, slot.starts_at), IDENTITY)
    structure.cancel_cutoff_hours = 168  # online changes are closed for this one
    structure.save()
    return Appointment.objects.get()


def test_too_late_to_change_online_shows_the_places_phone_and_the_structures_email(client, desk):
    structure, place, _motif = desk
    place.phone = "+33299123456"
    place.save()
    structure.email = "accueil@loheac.example"
    structure.save()
    appointment = _booked_inside_the_cutoff(client, desk)
    body = client.get(
        reverse("public_appointment", kwargs={"token": appointment.token})
    ).content.decode()
    assert "Annuler le rendez-vous" not in body
    assert 'href="tel:+33299123456"' in body and "02 99 12 34 56" in body
    assert 'href="mailto:accueil@loheac.example"' in body


def test_too_late_to_change_online_without_any_contact_does_not_say_call(client, desk):
    appointment = _booked_inside_the_cutoff(client, desk)
    body = client.get(
        reverse("public_appointment", kwargs={"token": appointment.token})
    ).content.decode()
    assert "ne peut plus être changé ni annulé en ligne" in body
    assert "ppelez" not in body and "tel:" not in body
    assert "Prendre un nouveau rendez-vous" in body


def test_a_past_appointment_link_shows_only_its_status(client, desk):
    structure, place, motif = desk
    slot = next_free_slots(place=place, motif=motif, count=1)[0]
    client.post(details_url(structure, place, motif, slot.starts_at), IDENTITY)
    appointment = Appointment.objects.get()
    Appointment.objects.filter(pk=appointment.pk).update(status=AppointmentStatus.SEEN)
    body = client.get(reverse("public_appointment", kwargs={"token": appointment.token}))
    text = body.content.decode()
    assert "Honoré" in text and "Annuler le rendez-vous" not in text


def test_waiting_list_takes_a_mobile_number_once(client, desk):
    structure, place, motif = desk
    url = reverse("public_waitlist", kwargs={"structure": structure.slug}) + query(place, motif)
    data = {"first_name": "Léa", "phone": "0612345678", "website": ""}
    assert client.post(url, data).status_code == 200
    assert client.post(url, data).status_code == 200
    from bookings.models import WaitlistEntry

    assert WaitlistEntry.objects.count() == 1
    landline = client.post(url, {**data, "phone": "0299123456"})
    assert landline.status_code == 400


def test_public_pages_switch_to_english(client, desk):
    structure, _place, _motif = desk
    url = reverse("public_start", kwargs={"structure": structure.slug})
    english = client.get(url + "?lang=en").content.decode()
    assert 'lang="en"' in english and "Book an appointment" in english
    # The choice is remembered on the residents' pages only.
    assert "Book an appointment" in client.get(url).content.decode()
    assert client.get(reverse("login")).content.decode().count('lang="fr"') >= 1


def test_public_pages_run_a_bounded_number_of_queries(client, desk, django_assert_max_num_queries):
    structure, place, motif = desk
    for _ in range(5):
        OpeningHoursFactory(
            place=place,
            mediator=UserFactory(),
            motifs=[motif],
            weekdays=list(range(7)),
            start_time=time(9),
            end_time=time(17),
            first_day=timezone.localdate(),
        )
    with django_assert_max_num_queries(8):
        client.get(
            reverse("public_slots", kwargs={"structure": structure.slug}) + query(place, motif)
        )


def test_slots_come_a_few_days_a_page_with_a_link_to_the_next(client, desk):
    structure, place, motif = desk
    url = reverse("public_slots", kwargs={"structure": structure.slug})
    page = client.get(url + query(place, motif))
    days = page.context["days"]
    assert 1 <= len(days) <= 4 and page.context["next_page"]
    later = client.get(url + query(place, motif, apres=page.context["next_page"]))
    assert min(later.context["days"]) > max(days)


def test_a_reunion_desk_reads_local_numbers_the_local_way(client, desk):
    structure, place, motif = desk
    place.time_zone = "Indian/Reunion"
    place.save()
    slot = next_free_slots(place=place, motif=motif, count=1)[0]
    response = client.post(
        details_url(structure, place, motif, slot.starts_at), {**IDENTITY, "phone": "0692 12 34 56"}
    )
    assert response.status_code == 302
    assert Appointment.objects.get().resident.phone.as_e164 == "+262692123456"


# --- One place, chosen cards ------------------------------------------------------------------


def test_a_structure_with_one_place_does_not_ask_where(client, desk):
    structure, place, motif = desk
    body = client.get(reverse("public_start", kwargs={"structure": structure.slug})).content
    body = body.decode()
    assert f'type="hidden" name="lieu" value="{place.pk}"' in body
    assert 'type="radio" name="lieu"' not in body
    assert place.name in body
    # Only the motif is asked: choosing it leads to the times.
    response = client.get(
        reverse("public_start", kwargs={"structure": structure.slug}),
        {"envoi": "1", "lieu": place.pk, "motif": motif.pk},
    )
    assert response.status_code == 302 and "/creneaux/" in response["Location"]


def test_a_structure_with_two_places_asks_where(client, desk):
    structure, place, _motif = desk
    PlaceFactory(structure=structure, name="Annexe")
    body = client.get(reverse("public_start", kwargs={"structure": structure.slug})).content
    assert b'type="radio" name="lieu"' in body


def test_changing_a_choice_comes_back_to_the_start_with_it_ticked_without_looping(client, desk):
    structure, place, motif = desk
    PlaceFactory(structure=structure, name="Annexe")
    MotifFactory(structure=structure, name="Autre motif", min_delay_minutes=0)
    slots = client.get(
        reverse("public_slots", kwargs={"structure": structure.slug}) + query(place, motif)
    ).content.decode()
    change = re.search(r'href="([^"]*)">Modifier ce choix', slots).group(1).replace("&amp;", "&")
    response = client.get(change)
    assert response.status_code == 200  # the start page itself, not a redirect to the times
    body = response.content.decode()
    assert re.search(rf'id="lieu-{place.pk}" value="{place.pk}" checked', body)
    assert re.search(rf'id="motif-{motif.pk}" value="{motif.pk}" checked', body)


def test_coming_back_from_the_details_highlights_the_time_chosen(client, desk):
    structure, place, motif = desk
    later = next_free_slots(
        place=place, motif=motif, count=3, now=timezone.now() + timedelta(days=1)
    )
    details = client.get(details_url(structure, place, motif, later[1].starts_at)).content
    change = re.search(r'href="([^"]*)">Modifier ce choix', details.decode()).group(1)
    body = client.get(change.replace("&amp;", "&")).content.decode()
    chosen = re.findall(
        r'<a class="[^"]*slot-chosen[^"]*" aria-current="true" href="([^"]*)"', body
    )
    assert len(chosen) == 1
    assert later[1].starts_at.isoformat().replace("+", "%2B").replace(":", "%3A") in chosen[0]
    assert "(votre choix)" in body


def test_a_time_chosen_far_ahead_is_shown_highlighted_when_coming_back(client, desk):
    structure, place, motif = desk
    far = next_free_slots(
        place=place, motif=motif, count=1, now=timezone.now() + timedelta(days=20)
    )[0]
    body = client.get(
        reverse("public_slots", kwargs={"structure": structure.slug})
        + query(place, motif, choisi=far.starts_at.isoformat())
    ).content.decode()
    assert body.count('aria-current="true"') == 1


def test_a_noumea_place_booked_from_a_metropolitan_browser_keeps_noumea_time(client, desk):
    # The resident's browser is in Paris; the place is in Nouméa (UTC+11, no DST). Every time
    # shown and stored is the place's: the offer, the stored instant, the confirmation page.
    structure, place, motif = desk
    place.insee_code, place.time_zone = "98818", "Pacific/Noumea"
    place.full_clean()
    place.save()
    slot = next_free_slots(place=place, motif=motif, count=1)[0]
    local = timezone.localtime(slot.starts_at, place.tzinfo)
    assert time(9) <= local.time() < time(17)  # the opening hours, read in Nouméa
    slots_page = client.get(
        reverse("public_slots", kwargs={"structure": structure.slug}) + query(place, motif),
        HTTP_ACCEPT_LANGUAGE="fr-FR",
    ).content.decode()
    assert local.strftime("%H:%M") in slots_page

    paris = timezone.localtime(slot.starts_at).strftime("%H:%M")  # what Paris' clock says
    assert paris not in slots_page
    details = client.get(details_url(structure, place, motif, slot.starts_at)).content.decode()
    assert local.strftime("%H:%M") in details and paris not in details

    response = client.post(
        details_url(structure, place, motif, slot.starts_at), {**IDENTITY, "phone": "75 12 34"}
    )

    appointment = Appointment.objects.get()
    assert appointment.starts_at == slot.starts_at
    assert appointment.resident.phone.as_e164 == "+687751234"  # a local number, read locally
    page = client.get(response["Location"]).content.decode()
    assert local.strftime("%H:%M") in page and paris not in page


def test_the_booking_language_is_recorded_and_kept_by_a_move(client, desk):
    structure, place, motif = desk
    later = next_free_slots(
        place=place, motif=motif, count=3, now=timezone.now() + timedelta(days=2)
    )
    client.get(reverse("public_start", kwargs={"structure": structure.slug}) + "?lang=en")
    client.post(details_url(structure, place, motif, later[0].starts_at), IDENTITY)
    old = Appointment.objects.get()
    assert old.language == "en"
    client.post(
        reverse("public_move", kwargs={"token": old.token}),
        {"debut": later[2].starts_at.isoformat(), "confirmer": "oui"},
    )
    new = Appointment.objects.get(status=AppointmentStatus.BOOKED)
    assert new.language == "en"


def test_a_french_booking_is_recorded_in_french_and_the_waiting_list_in_english(client, desk):
    from bookings.models import WaitlistEntry

    structure, place, motif = desk
    slot = next_free_slots(place=place, motif=motif, count=1)[0]
    client.post(details_url(structure, place, motif, slot.starts_at), IDENTITY)
    assert Appointment.objects.get().language == "fr"
    url = reverse("public_waitlist", kwargs={"structure": structure.slug}) + query(place, motif)
    client.post(url + "&lang=en", {"first_name": "Awa", "phone": "0612345678"})
    assert WaitlistEntry.objects.get().language == "en"
