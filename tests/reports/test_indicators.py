"""The report indicators, each checked on small hand-built activity: a network of two
structures, four places (one in a QPV, one in an FRR, one in La Réunion), eight sessions
around the first quarter of 2026, a workshop with named and anonymous participants, and
appointments on both sides of the quarter's limits in two time zones."""

from __future__ import annotations

from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bookings.choices import AppointmentStatus
from bookings.models import Appointment
from cases.choices import Autonomy, Outcome, PlaceType, RedirectedTo, Theme
from mediation.choices import AgeBand, Gender, ResidentStatus
from mediation.models import Structure
from reports.indicators import (
    FIGURES,
    NO_PLACE,
    NOT_GIVEN,
    TABLES,
    compute,
    compute_for_structures,
    tables_sharing_total,
)
from reports.periods import parse_period
from tests.bookings.factories import SlotFactory
from tests.cases.factories import HelpSessionFactory, WorkshopSessionFactory
from tests.factories import NetworkFactory, PlaceFactory, ResidentFactory, StructureFactory

pytestmark = pytest.mark.django_db

Q1 = parse_period("2026-Q1")


def appointment(place, resident, starts_at, status):
    slot = SlotFactory(place=place, starts_at=starts_at)
    return Appointment.objects.create(
        place=place,
        motif=slot.motif,
        mediator=slot.mediator,
        resident=resident,
        slot=slot,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        status=status,
    )


@pytest.fixture
def world():
    network = NetworkFactory(name="Vallons de Haute-Bretagne")
    a = StructureFactory(networks=[network], name="Mairie A")
    b = StructureFactory(networks=[network], name="Médiathèque B")
    outsider = StructureFactory(name="Hors réseau")
    a1 = PlaceFactory(structure=a, name="A1", is_qpv=True)
    a2 = PlaceFactory(structure=a, name="A2", is_rural=True)
    b1 = PlaceFactory(structure=b, name="B1")
    reunion = PlaceFactory(structure=b, name="Saint-Denis", time_zone="Indian/Reunion")
    r1 = ResidentFactory(
        structure=a,
        age_band=AgeBand.FROM_25_TO_39,
        gender=Gender.FEMALE,
        status=ResidentStatus.EMPLOYED,
        commune_insee="35155",
        shared_with_network=True,
    )
    r2 = ResidentFactory(
        structure=a,
        age_band=AgeBand.OVER_70,
        gender=Gender.MALE,
        status=ResidentStatus.RETIRED,
        commune_insee="35238",
    )
    r3 = ResidentFactory(structure=a)
    r4 = ResidentFactory(structure=b, is_anonymous=True, first_name="", last_name="")

    session = HelpSessionFactory
    session(
        structure=a,
        place=a1,
        resident=r1,
        date=date(2026, 1, 12),
        duration_minutes=30,
        themes=[Theme.EMAIL, Theme.DEMARCHES_ADMINISTRATIVES],
        procedures=["retraite"],
        equipment=["phone"],
        autonomy=Autonomy.AUTONOMOUS,
        outcome=Outcome.RESOLVED,
    )
    session(
        structure=a,
        place=a1,
        resident=r1,
        date=date(2026, 2, 3),
        duration_minutes=60,
        themes=[Theme.EMAIL],
        outcome=Outcome.REDIRECTED,
        redirected_to=RedirectedTo.FRANCE_SERVICES,
    )
    session(
        structure=a,
        place=None,
        place_type=PlaceType.HOME,
        resident=r2,
        date=date(2026, 3, 10),
        duration_minutes=15,
    )
    WorkshopSessionFactory(
        structure=a,
        place=a2,
        date=date(2026, 2, 20),
        duration_minutes=120,
        people_count=7,
        participants=[r1, r3],
        # Five anonymous participants, by age band and gender; no status given.
        counts={
            "age_band": {AgeBand.FROM_60_TO_69: 3, AgeBand.OVER_70: 2},
            "gender": {Gender.FEMALE: 3, Gender.MALE: 2},
        },
    )
    session(structure=a, place=a1, resident=r2, date=date(2025, 12, 1))  # before: r2 not new
    session(structure=a, place=a1, resident=r3, date=date(2026, 4, 1))  # after the quarter
    session(structure=b, place=b1, resident=r4, date=date(2026, 1, 20), duration_minutes=45)
    session(structure=b, place=b1, resident=r1, date=date(2026, 3, 1))  # r1, shared, in B
    session(structure=outsider, date=date(2026, 2, 2))

    status = AppointmentStatus
    appointment(a1, r1, datetime(2026, 2, 2, 10, tzinfo=UTC), status.SEEN)
    appointment(a1, r2, datetime(2026, 2, 3, 10, tzinfo=UTC), status.NO_SHOW)
    appointment(a1, r2, datetime(2026, 1, 5, 10, tzinfo=UTC), status.BOOKED)
    # 00:30 on 1 January in Paris: in the quarter; 00:30 on 1 April: not.
    appointment(a1, r1, datetime(2025, 12, 31, 23, 30, tzinfo=UTC), status.SEEN)
    appointment(a1, r1, datetime(2026, 3, 31, 22, 30, tzinfo=UTC), status.SEEN)
    appointment(b1, r4, datetime(2026, 3, 5, 10, tzinfo=UTC), status.CANCELLED_BY_RESIDENT)
    appointment(b1, r4, datetime(2026, 3, 6, 10, tzinfo=UTC), status.CANCELLED_BY_STAFF)
    # 01:00 on 1 January in La Réunion (UTC+4): in; 01:00 on 1 April there: not.
    appointment(reunion, r4, datetime(2025, 12, 31, 21, 0, tzinfo=UTC), status.SEEN)
    appointment(reunion, r4, datetime(2026, 3, 31, 21, 0, tzinfo=UTC), status.SEEN)
    appointment(
        PlaceFactory(structure=outsider), r1, datetime(2026, 2, 2, 10, tzinfo=UTC), status.SEEN
    )
    return SimpleNamespace(
        network=network,
        a=a,
        b=b,
        a1=a1,
        a2=a2,
        b1=b1,
        reunion=reunion,
        r1=r1,
        r2=r2,
        r3=r3,
        r4=r4,
    )


@pytest.fixture
def report(world):
    return compute(world.network, Q1)


def cells(report, table):
    return report["tables"][table]["cells"]


def total(report, table):
    return report["tables"][table]["total"]


def test_sessions_and_accompaniments_count_one_per_person_helped(report):
    figures = report["figures"]
    assert figures["sessions"] == 6
    assert figures["accompaniments"] == 12  # five individual sessions and a workshop of seven
    assert cells(report, "sessions_by_kind") == {"individual": 5, "collective": 1}
    assert cells(report, "accompaniments_by_kind") == {"individual": 5, "collective": 7}
    assert (figures["individual_sessions"], figures["collective_sessions"]) == (5, 1)


def test_hours_of_help_add_up_the_durations(report):
    assert report["figures"]["help_minutes"] == 30 + 60 + 15 + 120 + 45 + 30
    assert report["figures"]["hours"] == 5.0


def test_workshop_participants_named_and_anonymous(report):
    figures = report["figures"]
    assert figures["workshop_participants"] == 7
    assert figures["named_workshop_participants"] == 2
    assert figures["anonymous_participants"] == 5


def test_distinct_residents_count_each_person_once_across_sessions_and_workshops(report):
    # r1 (two sessions in A, the workshop, a session in B), r2, r3 (workshop), r4 (anonymous).
    assert report["figures"]["residents"] == 4
    assert report["figures"]["residents_incl_anonymous"] == 4 + 5


def test_new_residents_had_no_session_before_the_period(report):
    # r2 came in December 2025.
    assert report["figures"]["new_residents"] == 3


def test_new_means_a_first_session_ever_even_in_another_structure(world):
    shared = ResidentFactory(structure=world.a, shared_with_network=True)
    HelpSessionFactory(structure=world.a, resident=shared, date=date(2025, 11, 3))
    HelpSessionFactory(structure=world.b, place=world.b1, resident=shared, date=date(2026, 2, 9))
    figures = compute(world.b, Q1)["figures"]
    assert figures["residents"] == 3  # r4, r1 and the shared resident
    # r1's first session ever was on 12 January, in A; the shared resident's in November.
    assert figures["new_residents"] == 2


def test_a_named_workshop_participant_seen_before_is_not_new(world):
    HelpSessionFactory(structure=world.a, resident=world.r1, date=date(2025, 10, 1))
    assert compute(world.network, Q1)["figures"]["new_residents"] == 2
    WorkshopSessionFactory(
        structure=world.a, date=date(2025, 9, 1), people_count=1, participants=[world.r3]
    )
    assert compute(world.network, Q1)["figures"]["new_residents"] == 1


def test_duration_buckets_add_up_to_the_accompaniments(report):
    assert cells(report, "accompaniments_by_duration") == {
        "under_30": 1,
        "30_59": 3,  # 30, 45 and 30 minutes
        "60_119": 1,
        "120_plus": 7,  # the workshop of two hours, seven people
    }


def test_duration_bucket_limits_are_half_open(structure):
    for minutes in (29, 30, 59, 60, 119, 120, 480):
        HelpSessionFactory(structure=structure, date=date(2026, 2, 1), duration_minutes=minutes)
    assert cells(compute(structure, Q1), "accompaniments_by_duration") == {
        "under_30": 1,
        "30_59": 2,
        "60_119": 2,
        "120_plus": 2,
    }


def test_place_types(report):
    assert cells(report, "accompaniments_by_place_type") == {
        "place": 11,
        "home": 1,
        "remote": 0,
        "other": 0,
    }


def test_themes_count_a_session_once_per_theme_so_they_exceed_the_total(report):
    themes = cells(report, "accompaniments_by_theme")
    assert themes[Theme.EMAIL] == 2
    assert themes[Theme.DEMARCHES_ADMINISTRATIVES] == 1
    assert themes[Theme.NAVIGATION_INTERNET] == 1 + 7 + 1 + 1
    assert total(report, "accompaniments_by_theme") == 12
    assert sum(themes.values()) == 13
    assert not TABLES["accompaniments_by_theme"].additive


def test_procedure_areas_total_is_the_administrative_theme(report):
    assert cells(report, "accompaniments_by_procedure")["retraite"] == 1
    assert total(report, "accompaniments_by_procedure") == 1
    assert sum(cells(report, "accompaniments_by_procedure").values()) == 1


def test_equipment_with_not_given_for_the_sessions_that_noted_none(report):
    equipment = cells(report, "accompaniments_by_equipment")
    assert (equipment["phone"], equipment[NOT_GIVEN]) == (1, 11)
    assert total(report, "accompaniments_by_equipment") == 12


def test_an_administrative_session_without_procedure_area_is_not_given(structure):
    HelpSessionFactory(structure=structure, themes=[Theme.DEMARCHES_ADMINISTRATIVES])
    HelpSessionFactory(
        structure=structure,
        themes=[Theme.DEMARCHES_ADMINISTRATIVES],
        procedures=["retraite", "logement"],
    )
    report = compute(structure, parse_period("2026-01"))
    assert cells(report, "accompaniments_by_procedure")["retraite"] == 1
    assert cells(report, "accompaniments_by_procedure")[NOT_GIVEN] == 1
    assert total(report, "accompaniments_by_procedure") == 2


def test_autonomy_outcome_and_redirection_with_not_given(report):
    assert cells(report, "accompaniments_by_autonomy") == {
        "fully_assisted": 0,
        "partly_autonomous": 0,
        "autonomous": 1,
        NOT_GIVEN: 11,
    }
    outcome = cells(report, "accompaniments_by_outcome")
    assert (outcome["resolved"], outcome["redirected"], outcome[NOT_GIVEN]) == (1, 1, 10)
    redirection = cells(report, "accompaniments_by_redirection")
    assert redirection["france_services"] == 1
    assert sum(redirection.values()) == total(report, "accompaniments_by_redirection") == 1


def test_residents_by_age_band_count_distinct_residents(report):
    assert cells(report, "residents_by_age_band") == {
        "<12": 0,
        "12-17": 0,
        "18-24": 0,
        "25-39": 1,  # r1
        "40-59": 0,
        "60-69": 0,
        "70+": 1,  # r2
        NOT_GIVEN: 2,  # r3, r4
    }
    assert total(report, "residents_by_age_band") == 4


def test_anonymous_workshop_participants_have_tables_of_their_own(report):
    assert cells(report, "anonymous_by_age_band") == {
        "<12": 0,
        "12-17": 0,
        "18-24": 0,
        "25-39": 0,
        "40-59": 0,
        "60-69": 3,
        "70+": 2,
        NOT_GIVEN: 0,
    }
    assert total(report, "anonymous_by_age_band") == 5


def test_a_split_the_workshop_left_blank_counts_its_participants_as_not_given(report):
    status = cells(report, "residents_by_status")
    assert status == {
        "in_school": 0,
        "unemployed": 0,
        "employed": 1,
        "retired": 1,
        NOT_GIVEN: 2,
    }
    assert cells(report, "anonymous_by_status")[NOT_GIVEN] == 5
    assert cells(report, "residents_by_gender") == {"female": 1, "male": 1, NOT_GIVEN: 2}
    assert cells(report, "anonymous_by_gender") == {"female": 3, "male": 2, NOT_GIVEN: 0}


def test_residents_by_commune_count_residents_only(report):
    assert cells(report, "residents_by_commune") == {"35155": 1, "35238": 1, NOT_GIVEN: 2}
    assert total(report, "residents_by_commune") == 4


def test_appointments_by_status_in_the_time_zone_of_their_place(report):
    assert cells(report, "appointments_by_status") == {
        "booked": 1,
        "seen": 3,  # 2 February, 1 January in Paris, 1 January in La Réunion
        "no_show": 1,
        "cancelled_by_resident": 1,
        "cancelled_by_staff": 1,
    }
    figures = report["figures"]
    assert figures["appointments"] == 7
    assert figures["appointments_cancelled"] == 2
    assert (figures["appointments_seen"], figures["appointments_no_show"]) == (3, 1)


def test_monthly_trend(report):
    assert cells(report, "trend_sessions") == {"2026-01": 2, "2026-02": 2, "2026-03": 2}
    assert cells(report, "trend_accompaniments") == {"2026-01": 2, "2026-02": 8, "2026-03": 2}
    assert cells(report, "trend_help_minutes") == {"2026-01": 75, "2026-02": 180, "2026-03": 45}


def test_places_are_flagged_qpv_and_frr(world, report):
    places = report["places"]
    assert places[str(world.a1.pk)]["is_qpv"] and not places[str(world.a1.pk)]["is_rural"]
    assert places[str(world.a2.pk)]["is_rural"]
    assert set(places) == {str(p.pk) for p in (world.a1, world.a2, world.b1, world.reunion)}
    assert cells(report, "accompaniments_by_place") == {
        str(world.a1.pk): 2,
        str(world.a2.pk): 7,
        str(world.b1.pk): 2,
        str(world.reunion.pk): 0,
        NO_PLACE: 1,
    }
    figures = report["figures"]
    assert (figures["sessions_in_qpv"], figures["accompaniments_in_qpv"]) == (2, 2)
    assert (figures["sessions_in_frr"], figures["accompaniments_in_frr"]) == (1, 7)
    assert (figures["places"], figures["places_in_qpv"], figures["places_in_frr"]) == (4, 1, 1)


def test_a_place_scope_counts_the_sessions_held_there(world):
    report = compute(world.a1, Q1)
    assert report["figures"]["sessions"] == 2
    assert report["figures"]["residents"] == 1
    assert report["figures"]["appointments"] == 4
    assert report["scope"] == {"kind": "place", "id": world.a1.pk, "name": "A1"}


def test_a_structure_scope(world):
    figures = compute(world.a, Q1)["figures"]
    assert (figures["sessions"], figures["accompaniments"], figures["residents"]) == (4, 10, 3)
    assert figures["appointments"] == 4


def test_a_queryset_or_list_of_structures_is_the_same_as_their_network(world, report):
    queryset = compute(Structure.objects.in_network(world.network), Q1)
    ids = compute([world.a.pk, world.b.pk], Q1)
    for other in (queryset, ids):
        assert other["figures"] == report["figures"]
        assert other["tables"] == report["tables"]


@pytest.mark.parametrize(
    "scope", [StructureFactory, NetworkFactory, lambda: Structure.objects.none(), list]
)
def test_a_scope_without_activity_has_every_cell_at_zero(scope):
    report = compute(scope(), Q1)
    assert set(report["figures"]) == set(FIGURES)
    assert all(value == 0 for value in report["figures"].values())
    for key, spec in TABLES.items():
        assert report["tables"][key]["total"] == 0
        if spec.codes:
            assert report["tables"][key]["cells"] == dict.fromkeys(spec.codes, 0)


def test_tables_say_what_their_total_is_and_whether_cells_add_up_to_it(report):
    for key, spec in TABLES.items():
        table = report["tables"][key]
        if "." in spec.total:
            other, code = spec.total.split(".")
            assert table["total"] == cells(report, other)[code], key
        else:
            assert table["total"] == report["figures"][spec.total], key
        if spec.additive:
            assert sum(table["cells"].values()) == table["total"], key
        else:
            # Every accompaniment in at least one cell ("not_given" if none).
            assert sum(table["cells"].values()) >= table["total"], key
            assert max(table["cells"].values()) <= table["total"], key
    shared = tables_sharing_total()
    assert {"accompaniments_by_duration", "accompaniments_by_theme"} <= set(
        shared["accompaniments"]
    )
    assert shared["accompaniments_by_theme.demarches_administratives"] == [
        "accompaniments_by_procedure"
    ]


def test_report_says_its_period(report):
    assert report["period"] == {
        "code": "2026-Q1",
        "label": "1er trimestre 2026",
        "start": "2026-01-01",
        "end": "2026-04-01",
    }


def test_every_structure_of_a_network_at_once_matches_its_own_report(world):
    by_structure = compute_for_structures(world.network, Q1)
    assert set(by_structure) == {world.a.pk, world.b.pk}
    for structure in (world.a, world.b):
        alone = compute(structure, Q1)
        assert by_structure[structure.pk]["figures"] == alone["figures"]
        assert by_structure[structure.pk]["tables"] == alone["tables"]
        assert by_structure[structure.pk]["places"] == alone["places"]
    # r1 was seen in both structures: once in the network, once in each structure.
    assert sum(r["figures"]["residents"] for r in by_structure.values()) == 5


def more_activity(world, n):
    """n more sessions of every kind in the quarter, with new residents and appointments."""
    for index in range(n):
        resident = ResidentFactory(structure=world.b, commune_insee=f"35{index:03d}")
        HelpSessionFactory(
            structure=world.b,
            place=world.b1,
            resident=resident,
            date=date(2026, 1 + index % 3, 5),
            themes=[Theme.DEMARCHES_ADMINISTRATIVES, Theme.EMAIL],
            procedures=["logement"],
            equipment=["computer", "phone"],
        )
        WorkshopSessionFactory(
            structure=world.a,
            place=world.a2,
            date=date(2026, 2, 1 + index % 20),
            people_count=4,
            participants=[resident],
            counts={"age_band": {"70+": 3}},
        )
        appointment(world.b1, resident, datetime(2026, 2, 1, 8, tzinfo=UTC), AppointmentStatus.SEEN)


TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


def count_queries(function):
    """(statements run, result): transaction control left out (on PostgreSQL the report
    runs in a transaction of its own, or a savepoint of the test's)."""
    with CaptureQueriesContext(connection) as captured:
        result = function()
    statements = [
        q for q in captured if not q["sql"].lstrip().upper().startswith(TRANSACTION_CONTROL)
    ]
    return len(statements), result


def test_the_number_of_queries_does_not_grow_with_the_data(world):
    # 7, plus the structure ids of the network, plus "no JIT" on PostgreSQL.
    network_queries, _ = count_queries(lambda: compute(world.network, Q1))
    structure_queries, _ = count_queries(lambda: compute(world.a, Q1))
    by_structure_queries, _ = count_queries(lambda: compute_for_structures(world.network, Q1))
    assert network_queries <= 9
    assert structure_queries == network_queries - 1
    assert by_structure_queries <= 9
    more_activity(world, 25)
    assert count_queries(lambda: compute(world.a, Q1))[0] == structure_queries
    assert count_queries(lambda: compute_for_structures(world.network, Q1))[0] == (
        by_structure_queries
    )
    queries, big = count_queries(lambda: compute(world.network, Q1))
    assert queries == network_queries
    assert big["figures"]["sessions"] == 6 + 50
    assert big["figures"]["residents"] == 4 + 25


def test_a_year_has_twelve_months_of_trend(world):
    report = compute(world.network, parse_period("2026"))
    assert list(cells(report, "trend_sessions")) == [f"2026-{m:02d}" for m in range(1, 13)]
    assert cells(report, "trend_sessions")["2026-04"] == 1


def test_a_moved_appointment_counts_once_as_the_new_one(world):
    status = AppointmentStatus
    old = appointment(world.a1, world.r1, datetime(2026, 2, 10, 10, tzinfo=UTC), status.SEEN)
    old.status = status.CANCELLED_BY_RESIDENT
    old.save()
    new = appointment(world.a1, world.r1, datetime(2026, 2, 12, 10, tzinfo=UTC), status.SEEN)
    new.moved_from = old
    new.save()

    after = cells(compute(world.network, Q1), "appointments_by_status")

    assert after["seen"] == 3 + 1
    assert after["cancelled_by_resident"] == 1  # the one of the fixture, not the move


def test_a_structure_in_two_networks_counts_in_the_report_of_each():
    a, b = NetworkFactory(name="Intercommunalité"), NetworkFactory(name="Département")
    both = StructureFactory(networks=[a, b])
    only_a, only_b = StructureFactory(networks=[a]), StructureFactory(networks=[b])
    HelpSessionFactory.create_batch(2, structure=both, date=date(2026, 2, 2))
    HelpSessionFactory(structure=only_a, date=date(2026, 2, 3))
    HelpSessionFactory.create_batch(4, structure=only_b, date=date(2026, 2, 4))
    assert compute(a, Q1)["figures"]["sessions"] == 3
    assert compute(b, Q1)["figures"]["sessions"] == 6
    assert set(compute_for_structures(b, Q1)) == {both.pk, only_b.pk}
