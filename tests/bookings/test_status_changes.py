"""One way to change an appointment's status: `bookings.services.booking.appointment_set_status`.

Two kinds of tests hold it:

- a static check over the source of every app (`ast`, not grep: it sees `obj.status = …`,
  `setattr(obj, "status", …)`, `.update(status=…)`, `save(update_fields=["status"])`, a status
  given when creating an appointment or a case, and SQL `UPDATE … SET status`, whatever the
  formatting). Python does not say which model `obj` is, so every place that writes *a* status
  is listed below with the model it belongs to; a new one fails the test until someone says
  whose status it writes. A runtime guard (refusing `save()` when the status changed) would
  miss `QuerySet.update()` and raw SQL, and weigh on every appointment loaded;
- behaviour: every path that changes a status (desk outcome, cancellation by staff and by the
  resident's private link, move, session logged from an appointment) leaves the history row
  that only the function writes ("before → after"), and refused transitions — through the
  function, the private link or the operators' admin — say why and change nothing.
"""

from __future__ import annotations

import ast
import re
from datetime import datetime, time, timedelta
from itertools import product
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from bookings.choices import APPOINTMENT_TRANSITIONS, AppointmentStatus, MessageKind
from bookings.models import Appointment, Notification, Slot
from bookings.services import booking as services
from cases.choices import Theme
from cases.services.sessions import session_from_appointment
from tests.bookings.factories import MotifFactory, OpeningHoursFactory, SlotFactory
from tests.factories import ResidentFactory, UserFactory

S = AppointmentStatus
PARIS = ZoneInfo("Europe/Paris")
REPO = Path(__file__).resolve().parents[2]

# --- The static check -------------------------------------------------------------------------

#: First-party code (tests and migrations are left out: tests arrange states directly, and
#: migrations are frozen history).
APPS = ("bookings", "cases", "mediation", "reports", "bench")

#: Every function that writes a `status`, by (app, function), with whose status it is. Only
#: the first two write an appointment's or a case's status on an existing row.
STATUS_WRITERS = {
    ("bookings", "appointment_set_status"): "Appointment: the one function",
    ("cases", "case_transition"): "Case: the one function (CASE_TRANSITIONS, CaseEvent)",
    ("cases", "case_open"): "Case: created open, with its first CaseEvent",
    ("cases", "_book_around_today"): "Appointment: demo rows created with their final status",
    ("cases", "_case"): "Case: demo rows built with their final status and their events",
    ("bench", "build"): "Case: benchmark rows created with their final status",
    ("bookings", "waitlist_offer"): "WaitlistEntry: waiting → offered",
    ("bookings", "_waitlist_end"): "WaitlistEntry: active → booked, left or expired (the one end)",
    ("bookings", "_drop_pending"): "Notification: pending → cancelled",
    ("bookings", "_claim"): "Notification: pending → failed, dropped or cancelled",
    ("bookings", "_set_failure"): "Notification: failed",
    ("bookings", "send_notification"): "Notification: sent, or pending again",
    ("bookings", "send_due_notifications"): "Notification: dropped (too late)",
    ("bookings", "_drop_messages_of_erased"): "Notification: pending → dropped (erasure)",
    ("mediation", "_resident_identity"): "Resident.status: their situation (retired, employed…)",
}

MODELS_WITH_TRANSITIONS = {"Appointment", "Case"}
SQL_STATUS_UPDATE = re.compile(r"\bUPDATE\b[^;]*\bSET\b[^;]*\bstatus\b", re.IGNORECASE)


def _names_status(node) -> bool:
    return isinstance(node, ast.Constant) and node.value == "status"


def _root_name(node) -> str | None:
    while isinstance(node, ast.Attribute | ast.Call):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


class StatusWrites(ast.NodeVisitor):
    """(enclosing function, line, how) of every write of an attribute or column `status`."""

    def __init__(self):
        self.scope: list[str] = []
        self.found: list[tuple[str, int, str]] = []

    def _enter(self, node):
        self.scope.append(node.name)
        self.generic_visit(node)
        self.scope.pop()

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = _enter

    def _add(self, node, how: str):
        function = self.scope[-1] if self.scope else "<module>"
        self.found.append((function, node.lineno, how))

    def _check_targets(self, node, targets):
        for target in targets:
            for sub in ast.walk(target):
                if isinstance(sub, ast.Attribute) and sub.attr == "status":
                    self._add(node, "assignment")

    def visit_Assign(self, node):
        self._check_targets(node, node.targets)
        self.generic_visit(node)

    def visit_AugAssign(self, node):
        self._check_targets(node, [node.target])
        self.generic_visit(node)

    def visit_AnnAssign(self, node):
        self._check_targets(node, [node.target])
        self.generic_visit(node)

    def visit_Call(self, node):
        func = node.func
        name = getattr(func, "attr", None) or getattr(func, "id", None)
        keywords = {k.arg for k in node.keywords}
        if name == "setattr" and len(node.args) > 1 and _names_status(node.args[1]):
            self._add(node, "setattr")
        if name in ("update", "update_or_create") and "status" in keywords:
            self._add(node, f"{name}(status=…)")
        if name in ("save", "bulk_update"):
            fields = [k.value for k in node.keywords if k.arg in ("update_fields", "fields")]
            if any(
                _names_status(sub) for value in fields + node.args[1:] for sub in ast.walk(value)
            ):
                self._add(node, f"{name}(…'status'…)")
        if "status" in keywords and (
            name in MODELS_WITH_TRANSITIONS
            or (name in ("create", "get_or_create") and _root_name(func) in MODELS_WITH_TRANSITIONS)
        ):
            self._add(node, "created with a status")
        self.generic_visit(node)

    def visit_Constant(self, node):
        if isinstance(node.value, str) and SQL_STATUS_UPDATE.search(node.value):
            self._add(node, "SQL UPDATE … SET status")


def status_writes(source: str, filename: str = "<test>") -> list[tuple[str, int, str]]:
    visitor = StatusWrites()
    visitor.visit(ast.parse(source, filename))
    return visitor.found


def test_the_scan_sees_every_way_of_writing_a_status():
    source = """
def assign(a): a.status = "seen"
def augment(a): a.status += ""
def annotated(a): a.status: str = "seen"
def tuple_target(a, b): a.status, b.x = "seen", 1
def by_name(a): setattr(a, "status", "seen")
def bulk(): Appointment.objects.filter(pk=1).update(status="seen")
def upsert(): Appointment.objects.update_or_create(pk=1, status="seen")
def fields(a): a.save(update_fields=["status"])
def many(rows): Appointment.objects.bulk_update(rows, ["status"])
def built(): Appointment(status="seen")
def created(): Case.objects.create(status="open")
def sql(cursor): cursor.execute("UPDATE bookings_appointment SET status = 'seen'")
def reads(a): return Appointment.objects.filter(status="seen"), a.status == "seen"
"""
    functions = {function for function, _line, _how in status_writes(source)}
    assert functions == {
        "assign",
        "augment",
        "annotated",
        "tuple_target",
        "by_name",
        "bulk",
        "upsert",
        "fields",
        "many",
        "built",
        "created",
        "sql",
    }


def test_statuses_are_written_only_where_listed():
    """An appointment's status changes only in `bookings.services.booking.appointment_set_status`,
    a case's only in `cases.services.cases.case_transition`. Another function writing a status
    fails here: call the function instead, or, if it is another model's status (a message, a
    waiting-list entry…), add it to STATUS_WRITERS saying whose."""
    found: dict[tuple[str, str], list[str]] = {}
    for app in APPS:
        for path in sorted((REPO / app).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            for function, line, how in status_writes(path.read_text(), str(path)):
                where = f"{path.relative_to(REPO)}:{line} ({how})"
                found.setdefault((app, function), []).append(where)
    unlisted = {key: sites for key, sites in found.items() if key not in STATUS_WRITERS}
    assert not unlisted, (
        f"status written outside appointment_set_status/case_transition: {unlisted}"
    )
    stale = set(STATUS_WRITERS) - set(found)
    assert not stale, f"STATUS_WRITERS lists functions that no longer write a status: {stale}"


# --- Fixtures ---------------------------------------------------------------------------------

DAY = datetime(2027, 1, 4).date()  # a Monday
NOW = datetime.combine(DAY, time(12), tzinfo=PARIS)


def make(desk, *, status=S.BOOKED, starts_at=None, resident=None) -> Appointment:
    """An appointment written directly, in any status (tests only)."""
    place, motif, mediator = desk
    slot = SlotFactory(
        place=place,
        motif=motif,
        mediator=mediator,
        starts_at=starts_at or datetime.combine(DAY, time(11), tzinfo=PARIS),
    )
    return Appointment.objects.create(
        place=place,
        motif=motif,
        mediator=mediator,
        resident=resident or ResidentFactory(structure=place.structure),
        slot=slot,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        status=status,
    )


@pytest.fixture
def desk(place, mediator):
    motif = MotifFactory(structure=place.structure, name="Aide CAF")
    OpeningHoursFactory(
        place=place,
        mediator=mediator,
        motifs=[motif],
        weekdays=list(range(7)),
        start_time=time(9),
        end_time=time(17),
        first_day=DAY - timedelta(days=30),
    )
    return place, motif, mediator


def last_reason(appointment: Appointment) -> str:
    return appointment.history.order_by("-history_date", "-history_id")[0].history_change_reason


# --- The transition table, through the function ---------------------------------------------

PAIRS = list(product(S.values, S.values))
ALLOWED = [(a, b) for a, b in PAIRS if b in APPOINTMENT_TRANSITIONS[a]]
REFUSED = [(a, b) for a, b in PAIRS if b not in APPOINTMENT_TRANSITIONS[a]]


def _start_for(target: str) -> datetime:
    # Outcomes are recorded on the day, once started; cancellations before the cut-off.
    if target in (S.SEEN, S.NO_SHOW):
        return NOW - timedelta(hours=1)
    return NOW + timedelta(days=2)


@pytest.mark.parametrize(("current", "target"), ALLOWED)
def test_every_allowed_transition_is_recorded_with_its_author(desk, mediator, current, target):
    appointment = make(desk, status=current, starts_at=_start_for(target))
    services.appointment_set_status(appointment=appointment, to=target, by=mediator, now=NOW)
    appointment.refresh_from_db()
    assert appointment.status == target
    last = appointment.history.order_by("-history_id")[0]
    assert last.history_user == mediator
    assert last.history_change_reason == f"{S(current).label} → {S(target).label}"


@pytest.mark.parametrize(("current", "target"), REFUSED)
def test_every_other_transition_is_refused_and_changes_nothing(desk, mediator, current, target):
    appointment = make(desk, status=current, starts_at=_start_for(target))
    rows = appointment.history.count()
    with pytest.raises(ValidationError) as error:
        services.appointment_set_status(appointment=appointment, to=target, by=mediator, now=NOW)
    assert error.value.messages[0].endswith(".")  # a sentence, said to the person
    appointment.refresh_from_db()
    assert appointment.status == current and appointment.cancelled_at is None
    assert appointment.history.count() == rows


def test_an_unknown_status_is_refused(desk, mediator):
    appointment = make(desk)
    with pytest.raises(ValidationError) as error:
        services.appointment_set_status(appointment=appointment, to="moved", by=mediator, now=NOW)
    assert error.value.messages == ["Ce statut n'existe pas."]


def test_cancelling_an_honoured_appointment_is_refused_and_frees_nothing(desk, mediator):
    resident = ResidentFactory(structure=desk[0].structure, phone="+33612345678")
    appointment = make(desk, status=S.SEEN, resident=resident)
    with pytest.raises(ValidationError) as error:
        services.appointment_cancel(appointment=appointment, by_resident=False, by=mediator)
    assert error.value.code == "not_booked"
    assert error.value.messages == [
        "Ce rendez-vous n'est plus à venir : il ne peut pas être annulé."
    ]
    assert Slot.objects.get(pk=appointment.slot_id).is_active
    assert not Notification.objects.exists()


# --- Every path goes through it -------------------------------------------------------------


def test_the_desk_outcome_goes_through_the_function(client, desk, mediator):
    appointment = make(desk, starts_at=timezone.now() - timedelta(minutes=5))
    client.force_login(mediator)
    client.post(
        reverse(
            "agenda_appointment_status",
            kwargs={"structure": desk[0].structure.slug, "appointment": appointment.pk},
        ),
        {"status": S.NO_SHOW},
    )
    assert last_reason(appointment) == "À venir → Absent"


def test_a_cancellation_by_the_desk_goes_through_the_function(client, desk, mediator):
    appointment = make(desk, starts_at=timezone.now() + timedelta(days=2))
    client.force_login(mediator)
    client.post(
        reverse(
            "agenda_appointment_cancel",
            kwargs={"structure": desk[0].structure.slug, "appointment": appointment.pk},
        )
    )
    appointment.refresh_from_db()
    assert appointment.status == S.CANCELLED_BY_STAFF and appointment.cancelled_at is not None
    assert last_reason(appointment) == "À venir → Annulé par la structure"
    assert appointment.history.order_by("-history_id")[0].history_user == mediator


def test_a_cancellation_by_the_private_link_goes_through_the_function(client, desk):
    appointment = make(desk, starts_at=timezone.now() + timedelta(days=2))
    client.post(reverse("public_cancel", kwargs={"token": appointment.token}), {"confirmer": "oui"})
    appointment.refresh_from_db()
    assert appointment.status == S.CANCELLED_BY_RESIDENT
    assert last_reason(appointment) == "À venir → Annulé par l'usager"


def test_a_move_cancels_the_old_appointment_through_the_function(desk):
    place, motif, mediator = desk
    resident = ResidentFactory(structure=place.structure, phone="+33612345678")
    start = NOW + timedelta(days=1, hours=-2)  # Tuesday 10:00
    old = services.appointment_book(
        place=place, motif=motif, mediator=mediator, starts_at=start, resident=resident, now=NOW
    )
    new = services.appointment_move(
        appointment=old, starts_at=start + timedelta(minutes=30), by_resident=True, now=NOW
    )
    assert last_reason(old) == "À venir → Annulé par l'usager : déplacé"
    assert new.moved_from == old
    # The messages of a move, as before: one "moved" notice, no cancellation notice.
    kinds = set(Notification.objects.values_list("appointment_id", "kind"))
    assert (new.pk, MessageKind.MOVED) in kinds
    assert (old.pk, MessageKind.CANCELLATION) not in kinds


def test_a_session_logged_from_an_appointment_marks_it_seen_through_the_function(desk, mediator):
    appointment = make(desk, starts_at=timezone.now() - timedelta(minutes=5))
    session_from_appointment(appointment=appointment, by=mediator, themes=[Theme.EMAIL])
    assert last_reason(appointment) == "À venir → Honoré"


# --- Refusals say why -------------------------------------------------------------------------


def test_cancelling_an_honoured_appointment_by_the_private_link_says_why(client, desk):
    appointment = make(desk, status=S.SEEN, starts_at=timezone.now() - timedelta(hours=1))
    response = client.post(
        reverse("public_cancel", kwargs={"token": appointment.token}),
        {"confirmer": "oui"},
        follow=True,
    )
    assert "il ne peut pas être annulé" in response.content.decode()
    appointment.refresh_from_db()
    assert appointment.status == S.SEEN


def test_the_desk_cannot_mark_a_cancelled_appointment_seen(client, desk, mediator):
    appointment = make(
        desk, status=S.CANCELLED_BY_RESIDENT, starts_at=timezone.now() - timedelta(minutes=5)
    )
    client.force_login(mediator)
    response = client.post(
        reverse(
            "agenda_appointment_status",
            kwargs={"structure": desk[0].structure.slug, "appointment": appointment.pk},
        ),
        {"status": S.SEEN},
        follow=True,
    )
    assert "son statut ne peut plus changer" in response.content.decode()
    appointment.refresh_from_db()
    assert appointment.status == S.CANCELLED_BY_RESIDENT


@pytest.fixture
def operator(db, client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def _admin_data(appointment: Appointment, **overrides) -> dict:
    starts = timezone.localtime(appointment.starts_at)
    ends = timezone.localtime(appointment.ends_at)
    return {
        "place": appointment.place_id,
        "motif": appointment.motif_id,
        "mediator": appointment.mediator_id,
        "starts_at_0": starts.date().isoformat(),
        "starts_at_1": starts.time().isoformat(),
        "ends_at_0": ends.date().isoformat(),
        "ends_at_1": ends.time().isoformat(),
        "need": appointment.need,
        "created_by": "",
        "language": appointment.language,
        **overrides,
    }


def test_the_operators_admin_shows_the_status_without_changing_it(operator, desk):
    appointment = make(desk, status=S.SEEN)
    url = reverse("admin:bookings_appointment_change", args=[appointment.pk])
    page = operator.get(url).content.decode()
    assert 'name="status"' not in page and "Honoré" in page
    response = operator.post(
        url, _admin_data(appointment, need="Impôts", status=S.CANCELLED_BY_STAFF)
    )
    assert response.status_code == 302
    appointment.refresh_from_db()
    assert (appointment.status, appointment.need) == (S.SEEN, "Impôts")


def test_reverting_to_a_version_with_another_status_is_refused_in_the_admin(operator, desk):
    appointment = make(desk, starts_at=NOW - timedelta(hours=1))
    booked = appointment.history.get()
    services.appointment_set_status(appointment=appointment, to=S.SEEN, by=None, now=NOW)
    url = reverse(
        "admin:bookings_appointment_simple_history", args=[appointment.pk, booked.history_id]
    )
    response = operator.post(url, _admin_data(appointment))
    assert response.status_code == 200
    assert "Le statut d&#x27;un rendez-vous ne se change pas ici" in response.content.decode()
    appointment.refresh_from_db()
    assert appointment.status == S.SEEN
