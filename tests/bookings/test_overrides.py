"""Exceptional days (date overrides) and recurring absences (issue #14).

An exceptional day opens a mediator at a place (a Saturday, other hours on a given day) or
closes a mediator or a whole place, without touching the recurring opening hours; a recurring
absence ("every Wednesday afternoon", "every other Monday") removes time for a period. Both
are respected by the public offer and by staff booking, and cost one query more at most."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from bookings.models import Absence, Appointment, DateOverride, RecurringAbsence
from bookings.services import admin as admin_services
from bookings.services import booking as services
from bookings.slots import free_slots, next_free_slots
from mediation.choices import Role
from tests.bookings.factories import MotifFactory, OpeningHoursFactory, SlotFactory
from tests.conftest import member
from tests.factories import PlaceFactory, ResidentFactory

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
TODAY = date(2026, 12, 1)
MONDAY = date(2027, 1, 4)  # opening hours of the factory: Mondays 09:00–12:00 from this day
SATURDAY = date(2027, 1, 9)


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=PARIS).astimezone(UTC)


def offer(place, motif, day: date, days: int = 1, **kwargs):
    start = datetime.combine(day, time(0), tzinfo=place.tzinfo)
    return free_slots(
        place=place, motif=motif, start=start, end=start + timedelta(days=days), now=NOW, **kwargs
    )


def local_starts(slots) -> list[str]:
    return [s.starts_at.astimezone(PARIS).strftime("%d %H:%M") for s in slots]


@pytest.fixture
def motif(structure):
    return MotifFactory(structure=structure, duration_minutes=60)


@pytest.fixture
def hours(place, mediator, motif):
    return OpeningHoursFactory(place=place, mediator=mediator, motifs=[motif])


def override(place, by, *, day, mediator=None, closed=False, start=None, end=None, motifs=()):
    return admin_services.date_override_save(
        override=DateOverride(
            place=place,
            mediator=mediator,
            day=day,
            is_closed=closed,
            start_time=start,
            end_time=end,
        ),
        motifs=motifs,
        by=by,
        today=TODAY,
    )


# --- Exceptional days in the offer ----------------------------------------------------------


def test_an_exceptional_saturday_opening_offers_slots_that_day_only(
    place, mediator, motif, hours, structure_admin
):
    assert offer(place, motif, SATURDAY) == []
    override(
        place,
        structure_admin,
        day=SATURDAY,
        mediator=mediator,
        start=time(9),
        end=time(12),
        motifs=[motif],
    )

    assert local_starts(offer(place, motif, SATURDAY)) == ["09 09:00", "09 10:00", "09 11:00"]
    # The next Saturday is not open, and the recurring Monday is untouched.
    assert offer(place, motif, SATURDAY + timedelta(weeks=1)) == []
    assert len(offer(place, motif, MONDAY + timedelta(weeks=1))) == 3


def test_a_mediator_without_recurring_hours_may_open_exceptionally(
    structure, place, motif, structure_admin
):
    newcomer = member(structure, Role.MEDIATOR)
    override(
        place,
        structure_admin,
        day=SATURDAY,
        mediator=newcomer,
        start=time(10),
        end=time(12),
        motifs=[motif],
    )
    slots = offer(place, motif, SATURDAY)
    assert {s.mediator_id for s in slots} == {newcomer.pk}
    assert len(slots) == 2


def test_other_hours_on_a_given_day_replace_the_recurring_ones(
    place, mediator, motif, hours, structure_admin
):
    override(
        place,
        structure_admin,
        day=MONDAY,
        mediator=mediator,
        start=time(14),
        end=time(16),
        motifs=[motif],
    )
    assert local_starts(offer(place, motif, MONDAY)) == ["04 14:00", "04 15:00"]
    assert local_starts(offer(place, motif, MONDAY + timedelta(weeks=1)))[0] == "11 09:00"


def test_an_opening_for_another_motif_replaces_the_day_for_this_one_too(
    structure, place, mediator, motif, hours, structure_admin
):
    other = MotifFactory(structure=structure)
    override(
        place,
        structure_admin,
        day=MONDAY,
        mediator=mediator,
        start=time(14),
        end=time(16),
        motifs=[other],
    )
    assert offer(place, motif, MONDAY) == []
    assert len(offer(place, other, MONDAY)) == 4


def test_a_closed_day_for_a_mediator_removes_only_their_hours(
    structure, place, mediator, motif, hours, structure_admin
):
    colleague = member(structure, Role.MEDIATOR)
    OpeningHoursFactory(place=place, mediator=colleague, motifs=[motif])
    override(place, structure_admin, day=MONDAY, mediator=mediator, closed=True)

    assert {s.mediator_id for s in offer(place, motif, MONDAY)} == {colleague.pk}
    assert {s.mediator_id for s in offer(place, motif, MONDAY + timedelta(weeks=1))} == {
        mediator.pk,
        colleague.pk,
    }


def test_a_closed_day_for_the_whole_place_removes_every_mediators_hours(
    structure, place, mediator, motif, hours, structure_admin
):
    colleague = member(structure, Role.MEDIATOR)
    OpeningHoursFactory(place=place, mediator=colleague, motifs=[motif])
    elsewhere = PlaceFactory(structure=structure)
    OpeningHoursFactory(place=elsewhere, mediator=colleague, motifs=[motif], weekdays=[1])
    override(place, structure_admin, day=MONDAY, closed=True)

    assert offer(place, motif, MONDAY) == []
    assert len(offer(place, motif, MONDAY + timedelta(weeks=1))) == 6
    # Only that place: the colleague's Tuesday elsewhere is still open.
    assert len(offer(elsewhere, motif, MONDAY + timedelta(days=1))) == 3


def test_an_exceptional_opening_opens_even_on_a_public_holiday(
    place, mediator, motif, structure_admin
):
    may_8 = date(2027, 5, 8)  # Victoire 1945, a Saturday
    override(
        place,
        structure_admin,
        day=may_8,
        mediator=mediator,
        start=time(9),
        end=time(10),
        motifs=[motif],
    )
    assert local_starts(offer(place, motif, may_8)) == ["08 09:00"]


def test_an_exceptional_opening_respects_slots_absences_and_day_limits(
    structure, place, mediator, structure_admin
):
    motif = MotifFactory(structure=structure, duration_minutes=60, max_per_day=2)
    override(
        place,
        structure_admin,
        day=SATURDAY,
        mediator=mediator,
        start=time(9),
        end=time(13),
        motifs=[motif],
    )
    SlotFactory(place=place, motif=motif, mediator=mediator, starts_at=local(SATURDAY, 9))
    Absence.objects.create(
        structure=structure,
        mediator=mediator,
        starts_at=local(SATURDAY, 12),
        ends_at=local(SATURDAY, 13),
    )
    assert local_starts(offer(place, motif, SATURDAY)) == ["09 10:00", "09 11:00"]
    SlotFactory(place=place, motif=motif, mediator=mediator, starts_at=local(SATURDAY, 10))
    assert offer(place, motif, SATURDAY) == []  # two a day at most


def test_someone_who_left_is_not_offered_on_their_exceptional_day(
    structure, place, mediator, motif, structure_admin
):
    override(
        place,
        structure_admin,
        day=SATURDAY,
        mediator=mediator,
        start=time(9),
        end=time(12),
        motifs=[motif],
    )
    mediator.memberships.filter(structure=structure).delete()
    assert offer(place, motif, SATURDAY) == []


def test_a_resident_books_an_exceptional_saturday_online_and_the_desk_too(
    structure, place, mediator, motif, structure_admin
):
    override(
        place,
        structure_admin,
        day=SATURDAY,
        mediator=mediator,
        start=time(9),
        end=time(11),
        motifs=[motif],
    )
    appointment = services.public_booking_make(
        place=place,
        motif=motif,
        starts_at=local(SATURDAY, 9),
        first_name="Éric",
        last_name="Dupont",
        phone="+33612345678",
        now=NOW,
    )
    assert appointment.mediator == mediator
    desk = services.appointment_book(
        place=place,
        motif=motif,
        mediator=mediator,
        starts_at=local(SATURDAY, 10),
        resident=ResidentFactory(structure=structure),
        online=False,
        now=NOW,
    )
    assert desk.starts_at == local(SATURDAY, 10)


def test_booking_on_a_closed_day_is_refused_online_and_at_the_desk(
    structure, place, mediator, motif, hours, structure_admin
):
    override(place, structure_admin, day=MONDAY, closed=True)
    for online in (True, False):
        with pytest.raises(ValidationError) as error:
            services.appointment_book(
                place=place,
                motif=motif,
                mediator=mediator,
                starts_at=local(MONDAY, 9),
                resident=ResidentFactory(structure=structure),
                online=online,
                now=NOW,
            )
        assert "n'est pas proposé" in error.value.message_dict["starts_at"][0]
    assert not Appointment.objects.exists()


def test_the_desk_slot_search_shows_the_exceptional_saturday(
    mediator_client, structure, place, mediator, motif, resident, structure_admin
):
    override(
        place,
        structure_admin,
        day=SATURDAY,
        mediator=mediator,
        start=time(9),
        end=time(10),
        motifs=[motif],
    )
    url = reverse("agenda_book_slot", kwargs={"structure": structure.slug, "resident": resident.pk})
    response = mediator_client.get(
        url, {"place": place.pk, "motif": motif.pk, "start": SATURDAY.isoformat()}
    )
    assert response.status_code == 200
    assert "09:00" in response.content.decode() or "09h00" in response.content.decode()


def test_exceptional_days_cost_one_query_more_whatever_the_horizon(
    structure,
    place,
    mediator,
    motif,
    hours,
    structure_admin,
    django_assert_num_queries,
    django_assert_max_num_queries,
):
    override(place, structure_admin, day=MONDAY, closed=True)
    override(
        place,
        structure_admin,
        day=SATURDAY,
        mediator=mediator,
        start=time(9),
        end=time(12),
        motifs=[motif],
    )
    admin_services.recurring_absence_create(
        structure=structure,
        mediator=mediator,
        weekday=0,
        start_time=time(10),
        end_time=time(11),
        first_day=MONDAY,
        last_day=MONDAY + timedelta(weeks=20),
        tz=PARIS,
        by=structure_admin,
    )
    with django_assert_num_queries(4):
        one_week = offer(place, motif, MONDAY, days=7)
    with django_assert_num_queries(4):
        twelve = offer(place, motif, MONDAY, days=84)
    assert len(one_week) == 3 and len(twelve) == 3 + 11 * 2
    with django_assert_max_num_queries(8):  # two looks ahead
        next_free_slots(place=place, motif=motif, now=NOW, count=200)


# --- Exceptional days: bad input ------------------------------------------------------------


def test_an_opening_overlapping_another_of_the_mediator_is_refused_at_the_field(
    structure, place, mediator, motif, structure_admin
):
    override(
        place,
        structure_admin,
        day=SATURDAY,
        mediator=mediator,
        start=time(9),
        end=time(12),
        motifs=[motif],
    )
    elsewhere = PlaceFactory(structure=structure, name="Médiathèque")
    with pytest.raises(ValidationError) as error:
        override(
            elsewhere,
            structure_admin,
            day=SATURDAY,
            mediator=mediator,
            start=time(11),
            end=time(13),
            motifs=[motif],
        )
    message = error.value.message_dict["start_time"][0]
    assert "chevauche" in message and "Salle du conseil" in message and "09h00–12h00" in message
    assert DateOverride.objects.count() == 1
    # Touching hours do not overlap.
    override(
        elsewhere,
        structure_admin,
        day=SATURDAY,
        mediator=mediator,
        start=time(12),
        end=time(13),
        motifs=[motif],
    )


@pytest.mark.parametrize("whole_place", [True, False])
def test_a_closure_and_an_opening_of_the_same_day_and_place_are_refused(
    place, mediator, motif, structure_admin, whole_place
):
    override(
        place,
        structure_admin,
        day=SATURDAY,
        closed=True,
        mediator=None if whole_place else mediator,
    )
    with pytest.raises(ValidationError) as error:
        override(
            place,
            structure_admin,
            day=SATURDAY,
            mediator=mediator,
            start=time(9),
            end=time(12),
            motifs=[motif],
        )
    assert "chevauche" in error.value.message_dict["day"][0]
    with pytest.raises(ValidationError) as error:
        override(place, structure_admin, day=SATURDAY, closed=True)
    assert "chevauche" in error.value.message_dict["day"][0]
    assert DateOverride.objects.count() == 1


def test_editing_an_exceptional_day_does_not_overlap_itself(
    place, mediator, motif, structure_admin
):
    saved = override(
        place,
        structure_admin,
        day=SATURDAY,
        mediator=mediator,
        start=time(9),
        end=time(12),
        motifs=[motif],
    )
    saved.end_time = time(13)
    admin_services.date_override_save(
        override=saved, motifs=[motif], by=structure_admin, today=TODAY
    )
    assert DateOverride.objects.get().end_time == time(13)


@pytest.mark.parametrize(
    "fields, field, message",
    [
        ({"day": date(2026, 11, 30)}, "day", "Choisissez un jour à venir."),
        ({"start": time(12), "end": time(9)}, "end_time", "L'heure de fin doit être après"),
        ({"start": None}, "start_time", "Indiquez l'heure de début."),
        ({"motifs": []}, "motifs", "Choisissez au moins un motif."),
        ({"mediator": None}, "mediator", "choisissez qui reçoit"),
    ],
)
def test_bad_exceptional_openings_are_refused_at_the_field_in_french(
    place, mediator, motif, structure_admin, fields, field, message
):
    values = {
        "day": SATURDAY,
        "mediator": mediator,
        "start": time(9),
        "end": time(12),
        "motifs": [motif],
        **fields,
    }
    with pytest.raises(ValidationError) as error:
        override(place, structure_admin, **values)
    assert message in error.value.message_dict[field][0]
    assert not DateOverride.objects.exists()


def test_an_exceptional_day_for_someone_outside_the_structure_is_refused(
    place, motif, structure_admin
):
    stranger = member(PlaceFactory().structure, Role.MEDIATOR)
    with pytest.raises(ValidationError) as error:
        override(
            place,
            structure_admin,
            day=SATURDAY,
            mediator=stranger,
            start=time(9),
            end=time(12),
            motifs=[motif],
        )
    assert "n'est pas médiateur·rice" in error.value.message_dict["mediator"][0]


# --- Recurring absences ---------------------------------------------------------------------


def recurring(structure, mediator, by, **fields):
    values = {
        "weekday": 0,
        "start_time": time(9),
        "end_time": time(12),
        "first_day": MONDAY,
        "last_day": MONDAY + timedelta(weeks=7),
        "every_n_weeks": 1,
        "tz": PARIS,
        **fields,
    }
    return admin_services.recurring_absence_create(
        structure=structure, mediator=mediator, by=by, **values
    )


def test_a_weekly_absence_removes_those_hours_within_its_period(
    structure, place, mediator, motif, hours
):
    recurring(
        structure,
        mediator,
        mediator,
        start_time=time(10),
        end_time=time(12),
        last_day=MONDAY + timedelta(weeks=1),
    )
    assert local_starts(offer(place, motif, MONDAY)) == ["04 09:00"]
    assert local_starts(offer(place, motif, MONDAY + timedelta(weeks=1))) == ["11 09:00"]
    assert len(offer(place, motif, MONDAY + timedelta(weeks=2))) == 3  # after the period


def test_every_other_week_absences_follow_the_parity_of_the_first_week(
    structure, place, mediator, motif, hours
):
    # From a Thursday: the first Monday is in the following week, which is week 1, so odd.
    series = recurring(
        structure, mediator, mediator, every_n_weeks=2, first_day=MONDAY - timedelta(days=4)
    )
    away = [
        day
        for day in (MONDAY + timedelta(weeks=w) for w in range(6))
        if not offer(place, motif, day)
    ]
    assert away == [
        MONDAY + timedelta(weeks=1),
        MONDAY + timedelta(weeks=3),
        MONDAY + timedelta(weeks=5),
    ]
    assert series.occurrences.count() == 4  # weeks 1, 3, 5 and 7 of the period
    # From the Monday itself: weeks 0, 2, 4.
    series.delete()
    recurring(structure, mediator, mediator, every_n_weeks=2)
    away = [
        day
        for day in (MONDAY + timedelta(weeks=w) for w in range(6))
        if not offer(place, motif, day)
    ]
    assert away == [MONDAY, MONDAY + timedelta(weeks=2), MONDAY + timedelta(weeks=4)]


def test_a_recurring_absence_keeps_local_hours_across_a_daylight_saving_change(
    structure, place, mediator, motif
):
    OpeningHoursFactory(
        place=place, mediator=mediator, motifs=[motif], weekdays=[2], first_day=date(2027, 3, 1)
    )
    recurring(
        structure,
        mediator,
        mediator,
        weekday=2,
        start_time=time(9),
        end_time=time(10),
        first_day=date(2027, 3, 15),
        last_day=date(2027, 4, 5),
    )
    for wednesday in (date(2027, 3, 17), date(2027, 3, 31)):  # before and after 28 March
        assert local_starts(offer(place, motif, wednesday)) == [
            f"{wednesday.day:02} 10:00",
            f"{wednesday.day:02} 11:00",
        ]


def test_a_recurring_absence_is_refused_online_and_at_the_desk_and_can_be_deleted(
    structure, place, mediator, motif, hours, structure_admin
):
    series = recurring(structure, mediator, structure_admin, start_time=time(9), end_time=time(10))
    with pytest.raises(ValidationError):
        services.appointment_book(
            place=place,
            motif=motif,
            mediator=mediator,
            starts_at=local(MONDAY + timedelta(weeks=2), 9),
            resident=ResidentFactory(structure=structure),
            online=False,
            now=NOW,
        )
    admin_services.recurring_absence_delete(series=series, by=structure_admin)
    assert not Absence.objects.exists() and not RecurringAbsence.objects.exists()
    assert len(offer(place, motif, MONDAY + timedelta(weeks=2))) == 3


@pytest.mark.parametrize(
    "fields, field, message",
    [
        ({"end_time": time(8)}, "end_time", "L'heure de fin doit être après"),
        ({"last_day": MONDAY - timedelta(days=1)}, "last_day", "après le premier"),
        ({"last_day": MONDAY + timedelta(days=400)}, "last_day", "au plus un an"),
        ({"every_n_weeks": 9}, "every_n_weeks", ""),
        ({"every_n_weeks": 0}, "every_n_weeks", ""),
        ({"weekday": 2, "last_day": MONDAY + timedelta(days=1)}, "weekday", "Aucun mercredi"),
    ],
)
def test_bad_recurring_absences_are_refused_at_the_field_and_nothing_is_saved(
    structure, mediator, fields, field, message
):
    with pytest.raises(ValidationError) as error:
        recurring(structure, mediator, mediator, **fields)
    assert message in error.value.message_dict[field][0]
    assert not RecurringAbsence.objects.exists() and not Absence.objects.exists()


def test_a_mediator_cannot_record_a_colleagues_recurring_absence(structure, mediator):
    colleague = member(structure, Role.MEDIATOR)
    with pytest.raises(ValidationError) as error:
        recurring(structure, colleague, mediator)
    assert "vos propres absences" in error.value.message_dict["mediator"][0]


# --- Staff pages ----------------------------------------------------------------------------


def url(name, structure, **kwargs):
    return reverse(name, kwargs={"structure": structure.slug, **kwargs})


def override_data(place, who, accepted, **changes):
    data = {
        "place": str(place.pk),
        "day": SATURDAY.isoformat(),
        "kind": "ouvert",
        "mediator": str(who.pk) if who else "",
        "start_time": "09:00",
        "end_time": "12:00",
        "motifs": [str(m.pk) for m in accepted],
        "reason": "Permanence du samedi",
    }
    data.update(changes)
    return data


def test_the_opening_hours_pages_lead_to_the_exceptional_days(
    admin_client_structure, structure, place
):
    for page in ("booking_settings", "opening_hours_list"):
        response = admin_client_structure.get(url(page, structure))
        assert url("date_override_list", structure) in response.content.decode()
    response = admin_client_structure.get(url("date_override_list", structure))
    assert url("date_override_create", structure) in response.content.decode()


def test_structure_admin_opens_an_exceptional_saturday_from_the_form(
    admin_client_structure, structure, place, mediator, motif, structure_admin
):
    response = admin_client_structure.post(
        url("date_override_create", structure), override_data(place, mediator, [motif])
    )
    assert response.status_code == 302, response.content.decode()
    saved = DateOverride.objects.get()
    assert (saved.day, saved.is_closed, saved.start_time) == (SATURDAY, False, time(9))
    assert list(saved.motifs.all()) == [motif]
    assert saved.history.first().history_user == structure_admin
    listing = admin_client_structure.get(url("date_override_list", structure)).content.decode()
    assert "Samedi 09/01/2027, 09h00–12h00" in listing and "Permanence du samedi" in listing
    assert len(offer(place, motif, SATURDAY)) == 3


def test_structure_admin_closes_the_whole_place_for_a_day(
    admin_client_structure, structure, place, mediator, motif, hours
):
    response = admin_client_structure.post(
        url("date_override_create", structure),
        override_data(
            place, None, [], day=MONDAY.isoformat(), kind="ferme", start_time="", end_time=""
        ),
    )
    assert response.status_code == 302, response.content.decode()
    saved = DateOverride.objects.get()
    assert saved.is_closed and saved.mediator is None and saved.start_time is None
    assert offer(place, motif, MONDAY) == []


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"end_time": "08:00"}, "L&#x27;heure de fin doit être après l&#x27;heure de début."),
        ({"start_time": ""}, "Indiquez l&#x27;heure de début."),
        ({"motifs": []}, "Choisissez au moins un motif."),
        ({"mediator": ""}, "choisissez qui reçoit"),
        ({"day": "2020-01-04"}, "Choisissez un jour à venir."),
        ({"day": "31/02/2027"}, "Saisissez une date valide."),
        ({"kind": "peut-etre"}, "Sélectionnez un choix valide"),
        ({"start_time": "25:00"}, "Saisissez une heure valide"),
    ],
)
def test_the_exceptional_day_form_refuses_bad_input_in_french_and_keeps_it(
    admin_client_structure, structure, place, mediator, motif, changes, message
):
    response = admin_client_structure.post(
        url("date_override_create", structure), override_data(place, mediator, [motif], **changes)
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert message in page
    assert "Permanence du samedi" in page
    assert not DateOverride.objects.exists()


def test_an_overlapping_exceptional_day_is_refused_at_the_field_and_nothing_is_saved(
    admin_client_structure, structure, place, mediator, motif
):
    admin_client_structure.post(
        url("date_override_create", structure), override_data(place, mediator, [motif])
    )
    response = admin_client_structure.post(
        url("date_override_create", structure),
        override_data(place, mediator, [motif], start_time="11:00", end_time="14:00"),
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "Ce jour exceptionnel chevauche un autre" in page
    assert 'id="error_1_id_start_time"' in page or "is-invalid" in page
    assert DateOverride.objects.count() == 1


def test_an_exceptional_day_is_edited_and_deleted(
    admin_client_structure, structure, place, mediator, motif, structure_admin
):
    saved = override(
        place,
        structure_admin,
        day=SATURDAY,
        mediator=mediator,
        start=time(9),
        end=time(12),
        motifs=[motif],
    )
    edit = url("date_override_edit", structure, date_override=saved.pk)
    assert 'value="2027-01-09"' in admin_client_structure.get(edit).content.decode()
    response = admin_client_structure.post(
        edit, override_data(place, mediator, [motif], end_time="10:00")
    )
    assert response.status_code == 302
    assert DateOverride.objects.get().end_time == time(10)
    delete = url("date_override_delete", structure, date_override=saved.pk)
    assert "Supprimer le jour exceptionnel" in admin_client_structure.get(delete).content.decode()
    assert admin_client_structure.post(delete).status_code == 302
    assert not DateOverride.objects.exists()


def test_a_mediator_sees_the_exceptional_days_but_cannot_change_them(
    mediator_client, structure, place, mediator, motif, structure_admin
):
    saved = override(
        place,
        structure_admin,
        day=SATURDAY,
        mediator=mediator,
        start=time(9),
        end=time(12),
        motifs=[motif],
    )
    listing = mediator_client.get(url("date_override_list", structure)).content.decode()
    assert "09h00–12h00" in listing
    assert url("date_override_create", structure) not in listing
    edit = url("date_override_edit", structure, date_override=saved.pk)
    assert mediator_client.post(edit, override_data(place, mediator, [motif])).status_code == 403


def recurring_data(mediator, **changes):
    data = {
        "mediator": str(mediator.pk),
        "weekday": "2",
        "start_time": "14:00",
        "end_time": "18:00",
        "every_n_weeks": "1",
        "first_day": "2027-01-04",
        "last_day": "2027-03-31",
        "reason": "Temps partiel",
    }
    data.update(changes)
    return data


def test_a_mediator_records_their_wednesday_afternoons_from_the_absences_page(
    mediator_client, structure, place, mediator, motif
):
    OpeningHoursFactory(place=place, mediator=mediator, motifs=[motif], weekdays=[2])
    OpeningHoursFactory(
        place=place,
        mediator=mediator,
        motifs=[motif],
        weekdays=[2],
        start_time=time(14),
        end_time=time(17),
    )
    listing = mediator_client.get(url("absence_list", structure)).content.decode()
    assert url("recurring_absence_create", structure) in listing
    response = mediator_client.post(
        url("recurring_absence_create", structure), recurring_data(mediator)
    )
    assert response.status_code == 302, response.content.decode()
    series = RecurringAbsence.objects.get()
    assert series.occurrences.count() == 13  # every Wednesday from 6 January to 31 March
    assert series.history.first().history_user == mediator
    wednesday = date(2027, 1, 13)
    assert local_starts(offer(place, motif, wednesday)) == ["13 09:00", "13 10:00", "13 11:00"]
    listing = mediator_client.get(url("absence_list", structure)).content.decode()
    assert "Chaque mercredi, 14h00–18h00, du 04/01/2027 au 31/03/2027" in listing
    # Its occurrences are not listed one by one.
    assert listing.count("13/01/2027") == 0


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"end_time": "13:00"}, "end_time", "L&#x27;heure de fin doit être après"),
        ({"last_day": "2026-12-01"}, "last_day", "Le dernier jour doit être après le premier."),
        ({"last_day": "2028-06-01"}, "last_day", "au plus un an"),
        ({"every_n_weeks": "0"}, "every_n_weeks", "Au moins 1 (chaque semaine)."),
        ({"every_n_weeks": "deux"}, "every_n_weeks", "Saisissez un nombre de semaines"),
        ({"weekday": "7"}, "weekday", "Choisissez un jour de la liste."),
        ({"last_day": "2027-01-05"}, "weekday", "Aucun mercredi dans cette période"),
        ({"first_day": ""}, "first_day", "Indiquez le premier jour."),
    ],
)
def test_the_recurring_absence_form_refuses_bad_input_in_french_at_the_field(
    mediator_client, structure, mediator, changes, field, message
):
    response = mediator_client.post(
        url("recurring_absence_create", structure), recurring_data(mediator, **changes)
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert message in page
    assert f'id="error_1_id_{field}"' in page
    assert not RecurringAbsence.objects.exists() and not Absence.objects.exists()


def test_a_recurring_absence_warns_about_appointments_already_booked_and_is_deleted(
    admin_client_structure, structure, place, mediator, motif, hours, resident
):
    services.appointment_book(
        place=place,
        motif=motif,
        mediator=mediator,
        starts_at=local(MONDAY + timedelta(weeks=1), 9),
        resident=resident,
        online=False,
        now=NOW,
    )
    response = admin_client_structure.post(
        url("recurring_absence_create", structure),
        recurring_data(mediator, weekday="0", start_time="09:00", end_time="12:00"),
        follow=True,
    )
    assert "1 rendez-vous déjà pris tombe pendant cette absence" in response.content.decode()
    series = RecurringAbsence.objects.get()
    delete = url("recurring_absence_delete", structure, recurring_absence=series.pk)
    assert admin_client_structure.post(delete).status_code == 302
    assert not RecurringAbsence.objects.exists() and not Absence.objects.exists()


def test_a_mediator_cannot_delete_a_colleagues_recurring_absence(
    mediator_client, structure, structure_admin
):
    colleague = member(structure, Role.MEDIATOR)
    series = recurring(structure, colleague, structure_admin)
    delete = url("recurring_absence_delete", structure, recurring_absence=series.pk)
    assert mediator_client.post(delete).status_code == 403
    assert RecurringAbsence.objects.exists()


def test_the_booking_settings_count_a_recurring_absence_once(mediator_client, structure, mediator):
    recurring(structure, mediator, mediator)  # eight Mondays
    page = mediator_client.get(url("booking_settings", structure)).content.decode()
    assert "1 absence à venir" in page
