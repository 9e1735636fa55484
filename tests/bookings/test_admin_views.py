"""Structure pages of the booking service: motifs, opening hours, absences, rules, hub."""

import re
from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bookings.choices import AppointmentStatus
from bookings.models import Absence, Appointment, Motif, OpeningHours
from mediation.choices import Role
from tests.bookings.factories import (
    AbsenceFactory,
    MotifFactory,
    OpeningHoursFactory,
    SlotFactory,
    WorkshopFactory,
)
from tests.conftest import member
from tests.factories import PlaceFactory, ResidentFactory, StructureFactory

pytestmark = pytest.mark.django_db

MONDAY = date(2027, 1, 4)


def url(name, structure, **kwargs):
    return reverse(name, kwargs={"structure": structure.slug, **kwargs})


def body(response):
    return response.content.decode()


def make_appointment(*, place, motif, mediator, starts_at, status=AppointmentStatus.BOOKED):
    slot = SlotFactory(place=place, motif=motif, mediator=mediator, starts_at=starts_at)
    return Appointment.objects.create(
        place=place,
        motif=motif,
        mediator=mediator,
        resident=ResidentFactory(structure=place.structure),
        slot=slot,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        status=status,
    )


@pytest.fixture
def motif(structure):
    return MotifFactory(structure=structure, name="Démarches CAF")


# --- Motifs ---------------------------------------------------------------------------------


def motif_data(**overrides):
    data = {
        "name": "Aide aux impôts en ligne",
        "duration_minutes": "45",
        "mode": "on_site",
        "bookable_online": "on",
        "capacity": "1",
        "min_delay_hours": "2.5",
        "max_delay_days": "60",
        "instructions": "Apportez votre numéro fiscal.",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_structure_admin_creates_a_motif_with_its_booking_window_in_hours(
    admin_client_structure, structure, structure_admin
):
    response = admin_client_structure.post(url("motif_create", structure), motif_data())
    assert response.status_code == 302
    motif = Motif.objects.get(structure=structure, name="Aide aux impôts en ligne")
    assert (motif.duration_minutes, motif.min_delay_minutes, motif.max_delay_days) == (45, 150, 60)
    assert motif.bookable_online and not motif.is_collective
    assert motif.history.first().history_user == structure_admin


def test_motif_form_shows_french_errors_at_the_field_and_keeps_the_input(
    admin_client_structure, structure
):
    response = admin_client_structure.post(
        url("motif_create", structure), motif_data(duration_minutes="2", min_delay_hours="abc")
    )
    page = body(response)
    assert response.status_code == 200
    assert "Un rendez-vous dure au moins 5 minutes." in page
    assert "Saisissez un nombre d&#x27;heures" in page
    assert 'value="Aide aux impôts en ligne"' in page
    assert not Motif.objects.exists()


def test_minimum_delay_may_be_typed_with_a_french_decimal_comma(admin_client_structure, structure):
    admin_client_structure.post(url("motif_create", structure), motif_data(min_delay_hours="1,5"))
    assert Motif.objects.get().min_delay_minutes == 90


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    name=st.text(max_size=160),
    duration=st.text(max_size=8),
    hours=st.text(max_size=8) | st.decimals(allow_nan=True, allow_infinity=True).map(str),
    days=st.text(max_size=6),
)
def test_motif_form_never_fails_on_free_input(
    admin_client_structure, structure, name, duration, hours, days
):
    data = motif_data(name=name, duration_minutes=duration, min_delay_hours=hours)
    data["max_delay_days"] = days
    response = admin_client_structure.post(url("motif_create", structure), data)
    assert response.status_code in (200, 302)
    for motif in Motif.objects.all():
        assert 5 <= motif.duration_minutes <= 480
        assert motif.min_delay_minutes < motif.max_delay_days * 24 * 60


def test_motif_name_already_used_in_the_structure_is_refused_at_the_name(
    admin_client_structure, structure, motif
):
    response = admin_client_structure.post(
        url("motif_create", structure), motif_data(name="démarches caf")
    )
    assert "Un motif porte déjà ce nom dans la structure." in body(response)
    assert Motif.objects.count() == 1


def test_workshop_needs_at_least_two_seats(admin_client_structure, structure):
    response = admin_client_structure.post(
        url("motif_create", structure), motif_data(is_collective="on", capacity="1")
    )
    assert "Un atelier collectif accueille au moins 2 personnes." in body(response)
    assert not Motif.objects.exists()


def test_workshop_is_saved_with_its_capacity(admin_client_structure, structure):
    admin_client_structure.post(
        url("motif_create", structure), motif_data(is_collective="on", capacity="12")
    )
    motif = Motif.objects.get()
    assert motif.is_collective and motif.capacity == 12


def test_individual_motif_keeps_one_seat_whatever_was_typed(admin_client_structure, structure):
    admin_client_structure.post(url("motif_create", structure), motif_data(capacity="12"))
    assert Motif.objects.get().capacity == 1


def test_minimum_delay_beyond_the_maximum_is_refused_at_the_hours_field(
    admin_client_structure, structure
):
    response = admin_client_structure.post(
        url("motif_create", structure), motif_data(min_delay_hours="72", max_delay_days="2")
    )
    page = body(response)
    assert "Le délai minimum doit être plus court que le délai maximum" in page
    assert 'id="error_1_id_min_delay_hours"' in page
    assert not Motif.objects.exists()


def test_motif_edit_shows_the_minimum_delay_in_hours(admin_client_structure, structure):
    motif = MotifFactory(structure=structure, min_delay_minutes=90)
    page = body(admin_client_structure.get(url("motif_edit", structure, motif=motif.pk)))
    assert 'name="min_delay_hours" value="1.5"' in page
    MotifFactory(structure=structure, min_delay_minutes=600)
    other = Motif.objects.get(min_delay_minutes=600)
    page = body(admin_client_structure.get(url("motif_edit", structure, motif=other.pk)))
    assert 'name="min_delay_hours" value="10"' in page


def test_deactivated_motif_stays_listed_and_can_be_reactivated(
    admin_client_structure, structure, motif
):
    response = admin_client_structure.post(url("motif_deactivate", structure, motif=motif.pk))
    assert response.status_code == 302
    motif.refresh_from_db()
    assert not motif.is_active
    page = body(admin_client_structure.get(url("motif_list", structure)))
    assert "Démarches CAF" in page and "désactivé" in page
    admin_client_structure.post(url("motif_reactivate", structure, motif=motif.pk))
    motif.refresh_from_db()
    assert motif.is_active


def test_motif_with_appointments_cannot_be_deleted(
    admin_client_structure, structure, place, mediator, motif
):
    make_appointment(
        place=place, motif=motif, mediator=mediator, starts_at=datetime(2027, 1, 4, 9, tzinfo=UTC)
    )
    response = admin_client_structure.post(url("motif_delete", structure, motif=motif.pk))
    assert response.status_code == 302
    assert Motif.objects.filter(pk=motif.pk).exists()
    page = body(admin_client_structure.get(response["Location"]))
    assert "Désactivez-le plutôt" in page


def test_unused_motif_is_deleted_after_confirmation(admin_client_structure, structure, motif):
    delete = url("motif_delete", structure, motif=motif.pk)
    assert "Supprimer le motif « Démarches CAF » ?" in body(admin_client_structure.get(delete))
    admin_client_structure.post(delete)
    assert not Motif.objects.filter(pk=motif.pk).exists()


def test_mediator_sees_the_motifs_but_cannot_change_them(mediator_client, structure, motif):
    page = body(mediator_client.get(url("motif_list", structure)))
    assert "Démarches CAF" in page and "Ajouter un motif" not in page
    for name, kwargs in [
        ("motif_create", {}),
        ("motif_edit", {"motif": motif.pk}),
        ("motif_delete", {"motif": motif.pk}),
    ]:
        assert mediator_client.get(url(name, structure, **kwargs)).status_code == 403
    posted = mediator_client.post(url("motif_edit", structure, motif=motif.pk), motif_data())
    assert posted.status_code == 403
    assert mediator_client.post(url("motif_deactivate", structure, motif=motif.pk)).status_code == (
        403
    )
    motif.refresh_from_db()
    assert motif.name == "Démarches CAF" and motif.is_active


def test_motif_of_another_structure_is_not_found(admin_client_structure, structure):
    other = MotifFactory(structure=StructureFactory())
    response = admin_client_structure.get(url("motif_edit", structure, motif=other.pk))
    assert response.status_code == 404


# --- Opening hours --------------------------------------------------------------------------


def opening_data(place, mediator, motif_list, **overrides):
    data = {
        "place": str(place.pk),
        "mediator": str(mediator.pk),
        "weekdays": ["1", "3"],
        "start_time": "09:00",
        "end_time": "12:00",
        "every_n_weeks": "1",
        "first_day": "2027-01-04",
        "last_day": "",
        "motifs": [str(m.pk) for m in motif_list],
    }
    data.update(overrides)
    return data


def test_structure_admin_creates_opening_hours(
    admin_client_structure, structure, place, mediator, motif, structure_admin
):
    response = admin_client_structure.post(
        url("opening_hours_create", structure), opening_data(place, mediator, [motif])
    )
    assert response.status_code == 302
    opening = OpeningHours.objects.get()
    assert opening.weekdays == [1, 3] and opening.start_time == time(9, 0)
    assert list(opening.motifs.all()) == [motif]
    assert opening.history.first().history_user == structure_admin


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"end_time": "08:30"}, "L&#x27;heure de fin doit être après l&#x27;heure de début."),
        ({"last_day": "2027-01-01"}, "Le dernier jour doit être après le premier."),
        ({"weekdays": []}, "Choisissez au moins un jour de la semaine."),
        ({"motifs": []}, "Choisissez au moins un motif."),
        ({"every_n_weeks": "0"}, "Au moins 1 (chaque semaine)."),
        ({"start_time": "25:00"}, "Saisissez une heure valide."),
    ],
)
def test_opening_hours_form_refuses_bad_input_in_french_and_keeps_it(
    admin_client_structure, structure, place, mediator, motif, overrides, message
):
    response = admin_client_structure.post(
        url("opening_hours_create", structure), opening_data(place, mediator, [motif], **overrides)
    )
    page = body(response)
    assert response.status_code == 200
    assert message in page
    assert 'value="2027-01-04"' in page
    assert not OpeningHours.objects.exists()


@pytest.mark.parametrize("weekdays", [3, -5547, "lundi", {"0": 1}, None, [], [7], ["0"]])
def test_weekdays_that_are_not_a_list_of_days_are_refused_at_the_field(weekdays):
    # The operators' admin lets any JSON into the field: an integer made clean() fail (500).
    hours = OpeningHoursFactory.build(weekdays=weekdays)
    with pytest.raises(ValidationError) as error:
        hours.clean()
    assert "weekdays" in error.value.message_dict


def test_overlapping_opening_hours_of_a_mediator_are_refused_naming_the_other(
    admin_client_structure, structure, place, mediator, motif
):
    other_place = PlaceFactory(structure=structure, name="Médiathèque")
    OpeningHoursFactory(
        place=other_place,
        mediator=mediator,
        weekdays=[3],
        start_time=time(11, 0),
        end_time=time(14, 0),
        first_day=date(2026, 9, 1),
        motifs=[motif],
    )
    response = admin_client_structure.post(
        url("opening_hours_create", structure), opening_data(place, mediator, [motif])
    )
    page = body(response)
    assert "Cette plage chevauche une autre plage de Camille Le Goff" in page
    assert "Médiathèque" in page and "jeudi, 11h00–14h00" in page
    assert OpeningHours.objects.count() == 1


def test_opening_hours_on_alternate_weeks_do_not_overlap(
    admin_client_structure, structure, place, mediator, motif
):
    OpeningHoursFactory(
        place=place, mediator=mediator, weekdays=[1], every_n_weeks=2, motifs=[motif]
    )
    response = admin_client_structure.post(
        url("opening_hours_create", structure),
        opening_data(
            place, mediator, [motif], weekdays=["1"], every_n_weeks="2", first_day="2027-01-11"
        ),
    )
    assert response.status_code == 302
    assert OpeningHours.objects.count() == 2


def test_opening_hours_that_end_before_the_other_starts_do_not_overlap(
    admin_client_structure, structure, place, mediator, motif
):
    OpeningHoursFactory(
        place=place, mediator=mediator, weekdays=[1], first_day=date(2027, 2, 1), motifs=[motif]
    )
    response = admin_client_structure.post(
        url("opening_hours_create", structure),
        opening_data(place, mediator, [motif], last_day="2027-01-31"),
    )
    assert response.status_code == 302


def test_overlap_with_another_structure_is_refused_without_its_details(
    admin_client_structure, structure, place, mediator, motif
):
    elsewhere = PlaceFactory(name="Lieu Confidentiel")
    OpeningHoursFactory(place=elsewhere, mediator=mediator, weekdays=[1], first_day=MONDAY)
    response = admin_client_structure.post(
        url("opening_hours_create", structure), opening_data(place, mediator, [motif])
    )
    page = body(response)
    assert "dans une autre structure" in page and "Lieu Confidentiel" not in page
    assert OpeningHours.objects.count() == 1


def test_opening_hours_offer_only_the_structure_places_mediators_and_active_motifs(
    admin_client_structure, structure, place, mediator, motif
):
    coordinator = member(structure, Role.COORDINATOR, first_name="Côme", last_name="Ordinal")
    MotifFactory(structure=structure, name="Ancien motif", is_active=False)
    outside = StructureFactory()
    PlaceFactory(structure=outside, name="Lieu d'ailleurs")
    MotifFactory(structure=outside, name="Motif d'ailleurs")
    page = body(admin_client_structure.get(url("opening_hours_create", structure)))
    assert place.name in page and "Camille Le Goff" in page and "Démarches CAF" in page
    for absent in ("Ordinal", "Ancien motif", "Lieu d&#x27;ailleurs", "Motif d&#x27;ailleurs"):
        assert absent not in page
    response = admin_client_structure.post(
        url("opening_hours_create", structure), opening_data(place, coordinator, [motif])
    )
    assert "Sélectionnez un choix valide" in body(response)
    assert not OpeningHours.objects.exists()


def test_opening_hours_are_edited_and_keep_their_motifs(
    admin_client_structure, structure, place, mediator, motif
):
    opening = OpeningHoursFactory(place=place, mediator=mediator, motifs=[motif])
    edit = url("opening_hours_edit", structure, opening_hours=opening.pk)
    page = body(admin_client_structure.get(edit))
    assert 'value="09:00"' in page and 'value="2027-01-04"' in page
    response = admin_client_structure.post(
        edit, opening_data(place, mediator, [motif], weekdays=["0"], end_time="13:00")
    )
    assert response.status_code == 302
    opening.refresh_from_db()
    assert opening.end_time == time(13, 0) and list(opening.motifs.all()) == [motif]


def test_opening_hours_are_deleted_after_confirmation(
    admin_client_structure, structure, place, mediator, motif
):
    opening = OpeningHoursFactory(place=place, mediator=mediator, motifs=[motif])
    delete = url("opening_hours_delete", structure, opening_hours=opening.pk)
    assert "Camille Le Goff" in body(admin_client_structure.get(delete))
    admin_client_structure.post(delete)
    assert not OpeningHours.objects.exists()


def test_mediator_sees_opening_hours_but_cannot_change_them(
    mediator_client, structure, place, mediator, motif
):
    opening = OpeningHoursFactory(place=place, mediator=mediator, motifs=[motif])
    page = body(mediator_client.get(url("opening_hours_list", structure)))
    assert "Camille Le Goff" in page and "Ajouter une plage" not in page
    assert mediator_client.get(url("opening_hours_create", structure)).status_code == 403
    edit = url("opening_hours_edit", structure, opening_hours=opening.pk)
    assert mediator_client.post(edit, opening_data(place, mediator, [motif])).status_code == 403
    delete = url("opening_hours_delete", structure, opening_hours=opening.pk)
    assert mediator_client.post(delete).status_code == 403
    assert OpeningHours.objects.filter(pk=opening.pk, weekdays=[0]).exists()


def test_opening_hours_list_is_grouped_by_place_and_hides_ended_ones(
    admin_client_structure, structure, place, mediator, motif
):
    annex = PlaceFactory(structure=structure, name="Annexe")
    OpeningHoursFactory(place=place, mediator=mediator, motifs=[motif])
    OpeningHoursFactory(
        place=annex, mediator=mediator, weekdays=[4], first_day=date(2020, 1, 6),
        last_day=date(2020, 6, 26), motifs=[motif],
    )  # fmt: skip
    page = body(admin_client_structure.get(url("opening_hours_list", structure)))
    assert "Salle du conseil" in page and "Annexe" not in page
    page = body(admin_client_structure.get(url("opening_hours_list", structure) + "?terminees=1"))
    assert "Annexe" in page and "terminée" in page
    assert page.index("Annexe") < page.index("Salle du conseil")


# --- Absences -------------------------------------------------------------------------------


def test_mediator_records_their_own_absence_in_local_time(
    mediator_client, structure, place, mediator
):
    response = mediator_client.post(
        url("absence_create", structure),
        {
            "mediator": mediator.pk,
            "starts_at": "2027-01-04T09:00",
            "ends_at": "2027-01-08T18:00",
            "reason": "Formation",
        },
    )
    assert response.status_code == 302
    absence = Absence.objects.get()
    assert absence.starts_at == datetime(2027, 1, 4, 8, 0, tzinfo=UTC)  # Paris is UTC+1
    assert absence.mediator == mediator and absence.structure == structure
    assert absence.history.first().history_user == mediator


def test_absence_of_an_overseas_structure_is_typed_in_its_time_zone(client):
    structure = StructureFactory()
    PlaceFactory(structure=structure, time_zone="Indian/Reunion")
    mediator = member(structure, Role.MEDIATOR)
    client.force_login(mediator)
    page = body(client.get(url("absence_create", structure)))
    assert "Indian/Reunion" in page
    client.post(
        url("absence_create", structure),
        {"mediator": mediator.pk, "starts_at": "2027-01-04T09:00", "ends_at": "2027-01-04T12:00"},
    )
    assert Absence.objects.get().starts_at == datetime(2027, 1, 4, 5, 0, tzinfo=UTC)


def test_absence_over_booked_appointments_warns_with_their_count(
    admin_client_structure, structure, place, mediator, motif
):
    for hour in (9, 10):
        make_appointment(
            place=place,
            motif=motif,
            mediator=mediator,
            starts_at=datetime(2027, 1, 5, hour, tzinfo=UTC),
        )
    make_appointment(
        place=place,
        motif=motif,
        mediator=mediator,
        starts_at=datetime(2027, 1, 5, 11, tzinfo=UTC),
        status=AppointmentStatus.CANCELLED_BY_RESIDENT,
    )
    response = admin_client_structure.post(
        url("absence_create", structure),
        {"mediator": mediator.pk, "starts_at": "2027-01-05T08:00", "ends_at": "2027-01-05T18:00"},
        follow=True,
    )
    page = body(response)
    assert "2 rendez-vous déjà pris tombent pendant cette absence" in page
    assert "l&#x27;accueil doit appeler les usagers" in page
    assert Appointment.objects.filter(status=AppointmentStatus.BOOKED).count() == 2


@pytest.mark.parametrize(
    ("starts_at", "ends_at", "message"),
    [
        ("2027-01-05T10:00", "2027-01-05T09:00", "La fin doit être après le début."),
        ("2027-01-05T10:00", "2029-01-05T09:00", "Une absence dure au plus un an"),
        ("demain", "2027-01-05T09:00", "Saisissez une date et une heure valides."),
        ("2027-03-28T02:30", "2027-03-28T09:00", "fuseau horaire"),
    ],
)
def test_absence_form_refuses_bad_dates_in_french_and_keeps_the_input(
    mediator_client, structure, place, mediator, starts_at, ends_at, message
):
    response = mediator_client.post(
        url("absence_create", structure),
        {"mediator": mediator.pk, "starts_at": starts_at, "ends_at": ends_at, "reason": "Congés"},
    )
    page = body(response)
    assert response.status_code == 200
    assert message in page
    assert 'value="Congés"' in page
    assert not Absence.objects.exists()


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(starts_at=st.text(max_size=25), ends_at=st.text(max_size=25), reason=st.text(max_size=200))
def test_absence_form_never_fails_on_free_input(
    mediator_client, structure, mediator, starts_at, ends_at, reason
):
    response = mediator_client.post(
        url("absence_create", structure),
        {"mediator": mediator.pk, "starts_at": starts_at, "ends_at": ends_at, "reason": reason},
    )
    assert response.status_code in (200, 302)
    for absence in Absence.objects.all():
        assert absence.ends_at > absence.starts_at


def test_mediator_cannot_record_a_colleagues_absence(mediator_client, structure, mediator):
    colleague = member(structure, Role.MEDIATOR)
    page = body(mediator_client.get(url("absence_create", structure)))
    assert colleague.last_name not in page
    response = mediator_client.post(
        url("absence_create", structure),
        {"mediator": colleague.pk, "starts_at": "2027-01-05T08:00", "ends_at": "2027-01-05T18:00"},
    )
    assert "Choisissez une personne de la liste." in body(response)
    assert not Absence.objects.exists()


def test_structure_admin_records_a_mediators_absence(admin_client_structure, structure, mediator):
    response = admin_client_structure.post(
        url("absence_create", structure),
        {"mediator": mediator.pk, "starts_at": "2027-01-05T08:00", "ends_at": "2027-01-05T18:00"},
    )
    assert response.status_code == 302
    assert Absence.objects.get().mediator == mediator


def test_mediator_deletes_their_own_absence_but_not_a_colleagues(
    mediator_client, structure, mediator
):
    colleague = member(structure, Role.MEDIATOR)
    own = AbsenceFactory(structure=structure, mediator=mediator)
    theirs = AbsenceFactory(structure=structure, mediator=colleague)
    assert mediator_client.post(
        url("absence_delete", structure, absence=theirs.pk)
    ).status_code == (403)
    mediator_client.post(url("absence_delete", structure, absence=own.pk))
    assert list(Absence.objects.all()) == [theirs]


def test_absence_list_shows_upcoming_absences_first_in_local_time(
    mediator_client, structure, place, mediator
):
    now = timezone.now()
    AbsenceFactory(
        structure=structure,
        mediator=mediator,
        starts_at=now - timedelta(days=30),
        reason="Congés passés",
    )
    AbsenceFactory(
        structure=structure,
        mediator=mediator,
        starts_at=datetime(2099, 7, 1, 7, 0, tzinfo=UTC),
        reason="Formation à venir",
    )
    page = body(mediator_client.get(url("absence_list", structure)))
    assert page.index("Formation à venir") < page.index("Congés passés")
    assert "01/07/2099 09h00" in page  # 07:00 UTC is 09:00 in Paris in summer


def test_coordinator_does_not_see_absences(client, structure, coordinator):
    client.force_login(coordinator)
    assert client.get(url("absence_list", structure)).status_code == 403
    assert client.get(url("booking_settings", structure)).status_code == 200


# --- Rules and hub --------------------------------------------------------------------------


def test_booking_rules_are_saved(admin_client_structure, structure, structure_admin):
    response = admin_client_structure.post(
        url("booking_rules", structure),
        {
            "booking_published": "true",
            "cancel_cutoff_hours": "24",
            "reminder_hours_before": "72",
            "feed_detail": "full_name",
        },
    )
    assert response.status_code == 302
    structure.refresh_from_db()
    assert (structure.cancel_cutoff_hours, structure.reminder_hours_before) == (24, 72)
    assert structure.feed_detail == "full_name"
    assert structure.history.first().history_user == structure_admin


def test_booking_rules_offer_the_feed_detail_initials_by_default(admin_client_structure, structure):
    page = body(admin_client_structure.get(url("booking_rules", structure)))
    assert page.count('name="feed_detail"') == 2
    assert "Initiales et motif" in page and "Nom complet et motif" in page
    assert re.search(r'value="initials"[^>]*checked', page)


def test_booking_rules_refuse_bad_input_in_french(admin_client_structure, structure):
    response = admin_client_structure.post(
        url("booking_rules", structure),
        {"cancel_cutoff_hours": "500", "reminder_hours_before": "0", "feed_detail": "phone"},
    )
    page = body(response)
    assert "Au plus 168 heures (une semaine)." in page and "Au moins 1 heure avant." in page
    assert "Sélectionnez un choix valide" in page
    assert 'value="500"' in page
    structure.refresh_from_db()
    assert (structure.cancel_cutoff_hours, structure.reminder_hours_before) == (4, 48)


def test_mediator_cannot_change_the_booking_rules(mediator_client, structure):
    response = mediator_client.post(
        url("booking_rules", structure), {"cancel_cutoff_hours": "1", "reminder_hours_before": "2"}
    )
    assert response.status_code == 403
    structure.refresh_from_db()
    assert structure.cancel_cutoff_hours == 4


def test_hub_shows_the_public_booking_link_and_what_is_missing(admin_client_structure, structure):
    page = body(admin_client_structure.get(url("booking_settings", structure)))
    assert "/rdv/mairie-loheac/" in page
    assert "Aucun motif actif n'est réservable en ligne" in page
    for name in ("motif_list", "opening_hours_list", "absence_list", "booking_rules"):
        assert url(name, structure) in page
    assert url("booking_poster", structure) in page


# --- Query counts ---------------------------------------------------------------------------


@pytest.fixture
def busy_structure(structure, place):
    """20 motifs, 20 mediators with opening hours at two places, 30 absences."""
    annex = PlaceFactory(structure=structure, name="Annexe")
    motifs = [MotifFactory(structure=structure) for _ in range(10)]
    motifs += [WorkshopFactory(structure=structure) for _ in range(10)]
    for index in range(20):
        person = member(structure, Role.MEDIATOR)
        OpeningHoursFactory(place=place if index % 2 else annex, mediator=person, motifs=motifs[:3])
        AbsenceFactory(structure=structure, mediator=person, starts_at=timezone.now())
        AbsenceFactory(
            structure=structure, mediator=person, starts_at=timezone.now() - timedelta(days=9)
        )
    return structure


@pytest.mark.parametrize(
    "name",
    [
        "booking_settings",
        "motif_list",
        "opening_hours_list",
        "absence_list",
        "motif_create",
        "opening_hours_create",
        "absence_create",
        "booking_rules",
        "date_override_list",
        "date_override_create",
        "recurring_absence_create",
    ],
)
def test_pages_run_a_bounded_number_of_queries(
    admin_client_structure, busy_structure, name, django_assert_max_num_queries
):
    with django_assert_max_num_queries(14):
        response = admin_client_structure.get(url(name, busy_structure))
        assert response.status_code == 200
