"""Demo data of the activity: residents, motifs and appointments around today, a year of
sessions and cases for every demo structure, all drawn from `cases.synthetic`."""

from __future__ import annotations

import io
from collections import defaultdict

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

import cases.demo  # noqa: F401  (registers the demo step, whatever the app's ready() does)
from bookings.choices import AppointmentStatus
from bookings.models import Appointment, Motif, OpeningHours
from cases.choices import (
    CASE_TRANSITIONS,
    CLOSED_CASE_STATUSES,
    DURATION_PICKS,
    CaseStatus,
    SessionKind,
    TagDimension,
    Theme,
)
from cases.models import Case, CaseEvent, HelpSession, ParticipantCount, SessionTag
from cases.synthetic import AREA_OF_TITLE, CASE_PATHS, IDENTITY_PAPERS, MOTIF_SPECS, motifs_of
from mediation.choices import Role, StructureKind
from mediation.demo import seed_demo
from mediation.models import (
    Membership,
    Network,
    NetworkMembership,
    Place,
    Resident,
    Structure,
    User,
)
from reports.models import ReportArchive

pytestmark = pytest.mark.django_db


def counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (
            Structure,
            Structure.networks.through,
            Place,
            User,
            Membership,
            HelpSession,
            SessionTag,
            ParticipantCount,
            Case,
            CaseEvent,
            Resident,
            HelpSession.participants.through,
            HelpSession.history.model,
            Case.history.model,
        )
    }


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """One seed for the module (a year of data takes a few seconds), run twice: the second
    time through the command (`manage.py seed_demo`, what `make run` does)."""
    with django_db_blocker.unblock():
        with CaptureQueriesContext(connection) as queries:
            seed_demo()
        first = counts()
        output = io.StringIO()
        call_command("seed_demo", stdout=output)
        second = counts()
        yield {
            "queries": len(queries),
            "first": first,
            "second": second,
            "output": output.getvalue(),
        }
        # Module-scoped data lives outside the per-test transactions: clear it.
        call_command("flush", interactive=False, verbosity=0)


def test_seeding_twice_gives_the_same_data(seeded):
    assert seeded["first"] == seeded["second"]
    assert seeded["first"]["HelpSession"] > 1500


def test_the_command_is_idempotent_and_the_demo_complete(seeded):
    assert seeded["first"] == seeded["second"]
    assert Structure.objects.count() == 5
    assert Structure.objects.filter(places__time_zone="Indian/Reunion").exists()
    mediators = User.objects.filter(memberships__role=Role.MEDIATOR).distinct()
    assert mediators.count() == 8
    assert NetworkMembership.objects.values("user").distinct().count() == 3
    assert Network.objects.count() == 3
    in_two = Structure.objects.annotate(n=Count("networks")).filter(n=2)
    assert set(in_two.values_list("slug", flat=True)) == {"france-services-guichen", "ccas-redon"}
    assert Membership.objects.filter(role=Role.STRUCTURE_ADMIN).count() == 1
    shared = [u for u in mediators if u.memberships.count() > 1]
    assert shared, "a mediator is shared between two structures"
    assert "mediatrice@permanence.demo" in seeded["output"]
    assert "permanence-demo" in seeded["output"]
    # Last quarter's reports are archived once, in three formats, for every scope.
    assert ReportArchive.objects.count() == 3 * (Structure.objects.count() + 3)


def test_seeding_stays_fast(seeded):
    # The whole seed_demo (structures, bookings, a year of sessions) writes in bulk: its number
    # of queries, not a wall time (which follows the machine's load), is what stays small.
    # Row by row it would be several per session.
    print("seed_demo queries:", seeded["queries"], "sessions:", seeded["first"]["HelpSession"])
    assert seeded["queries"] < seeded["first"]["HelpSession"] / 2


def test_every_structure_has_a_year_of_sessions_and_cases(seeded):
    today = timezone.localdate()
    for structure in Structure.objects.all():
        sessions = HelpSession.objects.filter(structure=structure)
        assert sessions.count() >= 300, structure.slug
        assert sessions.filter(kind=SessionKind.COLLECTIVE).exists(), structure.slug
        first = sessions.order_by("date").first().date
        assert (today - first).days >= 330, structure.slug
        cases = Case.objects.filter(structure=structure)
        assert cases.filter(status__in=CLOSED_CASE_STATUSES).exists(), structure.slug
        assert cases.exclude(status__in=CLOSED_CASE_STATUSES).exists(), structure.slug
        assert cases.filter(sessions__isnull=False).exists(), structure.slug


def test_sessions_are_valid_and_realistic(seeded):
    today = timezone.localdate()
    assert not HelpSession.objects.filter(date__gt=today).exists()
    assert set(HelpSession.objects.values_list("duration_minutes", flat=True)) <= set(
        DURATION_PICKS
    )
    themes = (
        SessionTag.objects.filter(dimension=TagDimension.THEME)
        .values("code")
        .annotate(n=Count("id"))
        .order_by("-n")
    )
    assert themes[0]["code"] == Theme.DEMARCHES_ADMINISTRATIVES
    # Procedure areas only with the administrative theme.
    with_area = set(
        SessionTag.objects.filter(dimension=TagDimension.PROCEDURE).values_list(
            "session_id", flat=True
        )
    )
    administrative = set(
        SessionTag.objects.filter(
            dimension=TagDimension.THEME, code=Theme.DEMARCHES_ADMINISTRATIVES
        ).values_list("session_id", flat=True)
    )
    assert with_area and with_area <= administrative
    individual = HelpSession.objects.filter(kind=SessionKind.INDIVIDUAL)
    assert not individual.filter(resident__isnull=True).exists()
    anonymous = individual.filter(resident__is_anonymous=True).count()
    assert 0.05 < anonymous / individual.count() < 0.2
    for workshop in HelpSession.objects.filter(kind=SessionKind.COLLECTIVE).annotate(
        named=Count("participants")
    )[:50]:
        assert workshop.people_count >= workshop.named


def test_seen_appointments_have_their_session(seeded):
    logged = HelpSession.objects.filter(appointment__isnull=False).select_related("appointment")
    assert logged.count() > 50
    for session in logged:
        assert session.appointment.status == AppointmentStatus.SEEN
        assert session.resident_id == session.appointment.resident_id
    seen = Appointment.objects.filter(
        status=AppointmentStatus.SEEN, motif__is_collective=False, starts_at__lt=timezone.now()
    ).count()
    assert logged.count() < seen  # a few are left for "Terminer et saisir"
    assert HelpSession.objects.filter(title="Atelier smartphone débutant").exists()


def test_case_histories_follow_the_status_table(seeded):
    by_case = defaultdict(list)
    for event in CaseEvent.objects.order_by("at", "pk"):
        by_case[event.case_id].append(event)
    for case in Case.objects.all():
        events = by_case[case.pk]
        assert events[0].from_status == "" and events[0].to_status == CaseStatus.OPEN
        for previous, event in zip(events, events[1:], strict=False):
            assert event.from_status == previous.to_status
            assert event.to_status in CASE_TRANSITIONS[event.from_status]
        assert events[-1].to_status == case.status
        assert (case.closed_at is not None) == (case.status in CLOSED_CASE_STATUSES)
    for sessions in Case.objects.filter(sessions__isnull=False).prefetch_related("sessions")[:30]:
        assert all(s.resident_id == sessions.resident_id for s in sessions.sessions.all())


def test_some_cases_need_action(seeded):
    from cases.selectors.cases import needing_followup

    assert needing_followup(Case.objects.all()).count() >= 5


def test_demo_paths_only_use_allowed_transitions():
    for status, targets in CASE_PATHS.items():
        assert {target for target, _weight in targets} <= CASE_TRANSITIONS[status]


def test_bulk_created_residents_can_be_found_by_name(seeded):
    resident = Resident.objects.filter(is_anonymous=False).order_by("-pk").first()
    assert (
        Resident.objects.matching_name(resident.first_name.upper()).filter(pk=resident.pk).exists()
    )


def test_residents_live_where_their_structure_has_a_place(seeded):
    # Reports label a commune by the name of a place of the scope: every commune the demo
    # writes is one of its structure's places', so no report shows a bare INSEE code.
    for structure in Structure.objects.all():
        communes = set(
            Place.objects.filter(structure=structure).values_list("insee_code", flat=True)
        )
        written = set(
            Resident.objects.filter(structure=structure).values_list("commune_insee", flat=True)
        ) | set(
            HelpSession.objects.filter(structure=structure).values_list(
                "other_commune_insee", flat=True
            )
        )
        assert written - {""} == communes, structure.slug


def test_each_structure_offers_the_motifs_of_its_kind(seeded):
    for structure in Structure.objects.all():
        names = set(Motif.objects.filter(structure=structure).values_list("name", flat=True))
        assert names == {spec.name for spec in motifs_of(structure.kind)}, structure.slug
    # Identity papers and vehicle registration (ANTS): only at a France Services' main place.
    for hours in OpeningHours.objects.filter(motifs__name=IDENTITY_PAPERS.name).distinct():
        structure = hours.place.structure
        assert structure.kind == StructureKind.FRANCE_SERVICES
        assert hours.place == structure.places.order_by("pk").first()
    assert not Appointment.objects.filter(
        place__name__startswith="Antenne", motif__name=IDENTITY_PAPERS.name
    ).exists()


def test_appointments_and_their_sessions_fit_the_motif(seeded):
    for appointment in Appointment.objects.select_related("motif"):
        assert appointment.need in MOTIF_SPECS[appointment.motif.name].needs + ("",)
    logged = HelpSession.objects.filter(appointment__isnull=False, kind=SessionKind.INDIVIDUAL)
    for session in logged.select_related("appointment__motif").prefetch_related("tags"):
        spec = MOTIF_SPECS[session.appointment.motif.name]
        themes = {t.code for t in session.tags.all() if t.dimension == TagDimension.THEME}
        assert themes == set(spec.themes), spec.name
        if session.appointment.need in AREA_OF_TITLE:
            areas = {t.code for t in session.tags.all() if t.dimension == TagDimension.PROCEDURE}
            assert areas == {AREA_OF_TITLE[session.appointment.need]}


# --- Appointments over the last full quarter and the weeks ahead (issue #14) ----------------


def test_bookings_start_is_the_first_day_of_the_last_full_quarter():
    from datetime import date

    from cases.demo import bookings_start

    assert bookings_start(date(2026, 12, 3)) == date(2026, 7, 1)
    assert bookings_start(date(2026, 10, 1)) == date(2026, 7, 1)
    assert bookings_start(date(2026, 9, 30)) == date(2026, 4, 1)
    assert bookings_start(date(2027, 2, 15)) == date(2026, 10, 1)


def test_appointments_fill_the_last_full_quarter_and_the_weeks_ahead(seeded):
    from datetime import timedelta

    from reports.indicators import compute
    from reports.periods import last_closed_quarter

    quarter = last_closed_quarter(timezone.localdate())
    now = timezone.now()
    for structure in Structure.objects.filter(places__isnull=False).distinct():
        figures = compute(structure, quarter)["figures"]
        # The report of the closed quarter shows booking figures for every structure.
        assert figures["appointments"] >= 10, (structure.slug, figures)
        assert figures["appointments_seen"] > figures["appointments_no_show"] > 0
        assert figures["appointments_cancelled"] > 0
        ahead = Appointment.objects.filter(
            place__structure=structure, status=AppointmentStatus.BOOKED, starts_at__gt=now
        )
        assert ahead.filter(starts_at__gt=now + timedelta(days=14)).exists(), structure.slug


def test_past_outcomes_come_in_realistic_proportions(seeded):
    past = Appointment.objects.filter(starts_at__lt=timezone.now(), motif__is_collective=False)
    total = past.count()
    share = {
        status: past.filter(status=status).count() / total for status in AppointmentStatus.values
    }
    assert total > 500
    assert 0.65 < share[AppointmentStatus.SEEN] < 0.85
    assert 0.07 < share[AppointmentStatus.NO_SHOW] < 0.18
    assert 0.05 < share[AppointmentStatus.CANCELLED_BY_RESIDENT] < 0.15
    assert 0 < share[AppointmentStatus.CANCELLED_BY_STAFF] < 0.06
    assert share[AppointmentStatus.BOOKED] == 0


def test_cancelled_appointments_say_when_before_their_time(seeded):
    from bookings.choices import CANCELLED_STATUSES

    cancelled = Appointment.objects.filter(status__in=CANCELLED_STATUSES)
    assert cancelled.exists()
    assert not cancelled.filter(cancelled_at__isnull=True).exists()
    for appointment in cancelled:
        assert appointment.cancelled_at < appointment.starts_at
        assert not appointment.slot.is_active or appointment.motif.is_collective
