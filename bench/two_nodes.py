"""Two nodes on one PostgreSQL and one Redis: nothing lost, nothing doubled (issue 17).

Starts two "nodes" the way `make run` starts one (`scripts/supervise.py`: a web server and a
django-q2 cluster, each restarted if it dies), in production mode (DEBUG off, behind a TLS
proxy: `X-Forwarded-Proto`, `X-Forwarded-For`), on the same PostgreSQL database and the same
Redis (broker, cache and rate limits). Then residents, as HTTP clients in threads, book,
join the waiting list and cancel through the public pages of both web servers at once (a
form read on one node is often posted to the other), racing for the same times. Meanwhile
every schedule is made due; some reminders are made due too, for the every-minute run.

At the end it proves, from the database and from what the providers received (the SMS
outbox file and the e-mail files, written by both clusters):

- every booking the clients saw succeed is one appointment, none lost, none extra; no two
  booked appointments share a mediator's time and no slot holds more than its seats; every
  cancellation seen is recorded;
- every message due was sent exactly once: one delivery per SENT row, no row pending or
  failed, one confirmation per appointment and channel, one cancellation per cancelled one,
  one offer per waiting-list entry offered;
- every schedule ran once per period: as many tasks as periods its `next_run` advanced over,
  each of the daily and quarterly ones exactly once.

Needs PostgreSQL (DATABASE_URL; its `permanence_bench_nodes` database is dropped and made
again) and Redis (REDIS_URL, default redis://127.0.0.1:6379/14, flushed: use a database of
its own). About 2 minutes (the every-minute schedule must run twice).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/permanence \\
        .venv/bin/python bench/two_nodes.py

Prints the figures, ends with one key=value line, exits 1 on any violation."""

from __future__ import annotations

import email
import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import time as dtime
from datetime import timedelta

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/permanence")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/14")
if not os.environ["DATABASE_URL"].startswith("postgres"):
    raise SystemExit("bench/two_nodes.py needs PostgreSQL: set DATABASE_URL=postgres://…")

from common import ROOT, finish, setup_django  # noqa: E402

WORK = ROOT / "var" / "bench" / "nodes"
os.umask(0o077)  # as the settings do: var/ holds personal data (mediation.W001)
WORK.mkdir(parents=True, exist_ok=True)
OUTBOX = WORK / "sms-outbox.jsonl"
MAILDIR = WORK / "mail"
# The bench process itself (this one) uses the same broker, cache and providers' files.
os.environ.update(
    {
        "SMS_BACKEND": "bookings.messaging.FileOutboxSmsBackend",
        "SMS_OUTBOX_PATH": str(OUTBOX),
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(MAILDIR),
        # The clients are many residents: the SMS caps (sms_caps.py) are not what is measured.
        "SMS_CAP_PER_HOUR": "100000",
        "SMS_CAP_PER_DAY": "100000",
    }
)

BEGAN = time.perf_counter()
setup_django("nodes", reuse_migrated=True)

import redis  # noqa: E402
import requests  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.utils import timezone  # noqa: E402
from django_q.models import Schedule, Task  # noqa: E402

from bookings.choices import AppointmentStatus, Channel, MessageKind, MessageStatus  # noqa: E402
from bookings.models import (  # noqa: E402
    Appointment,
    Motif,
    Notification,
    OpeningHours,
    Slot,
    WaitlistEntry,  # noqa: E402
)
from mediation.choices import Role  # noqa: E402
from mediation.models import Membership, Place, Structure, User  # noqa: E402

PORTS = (8731, 8732)
CLIENTS = 8  # threads
BOOKINGS_PER_CLIENT = 12
CANCEL_SHARE = 0.3
WAITLIST_PER_CLIENT = 1
LOAD_SECONDS = 45  # the clients stop booking after this
DEADLINE = 150  # seconds after the nodes start: everything must be proven by then
MEDIATORS = 3
SLUG = "deux-noeuds"


def say(text: str) -> None:
    print(text, flush=True)


# --- Data -------------------------------------------------------------------------------------


def build():
    structure = Structure.objects.create(
        name="Deux nœuds", slug=SLUG, kind="mairie", email="accueil@deux-noeuds.example"
    )
    place = Place.objects.create(
        structure=structure,
        name="Salle",
        address="1 place de la Mairie",
        postcode="35580",
        commune="Guichen",
        insee_code="35126",
    )
    motif = Motif.objects.create(
        structure=structure,
        name="Aide aux démarches",
        duration_minutes=30,
        min_delay_minutes=0,
        max_delay_days=60,
    )
    first = timezone.localdate() + timedelta(days=3)  # reminders 48 h ahead: recorded
    for n in range(MEDIATORS):
        mediator = User.objects.create_user(
            email=f"mediateur{n}@deux-noeuds.example", first_name="Médiateur", last_name=str(n)
        )
        Membership.objects.create(user=mediator, structure=structure, role=Role.MEDIATOR)
        hours = OpeningHours.objects.create(
            place=place,
            mediator=mediator,
            weekdays=[0, 1, 2, 3, 4, 5, 6],
            start_time=dtime(9, 0),
            end_time=dtime(17, 0),
            first_day=first,
        )
        hours.motifs.add(motif)
    admin = User.objects.create_user(
        email="coordination@deux-noeuds.example", first_name="A", last_name="Dmin"
    )
    Membership.objects.create(user=admin, structure=structure, role=Role.STRUCTURE_ADMIN)
    return place, motif


# --- Nodes ------------------------------------------------------------------------------------


def node_environment() -> dict[str, str]:
    return {
        **os.environ,
        "DEBUG": "false",
        "DEMO_MODE": "false",
        "SECRET_KEY": "bench-two-nodes-" + "x" * 40,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "BEHIND_TLS_PROXY": "true",
        "PERMANENCE_VAR_DIR": str(WORK / "var"),
        "SITE_URL": "https://rdv.deux-noeuds.example",
        "Q_WORKERS": "2",
        "PYTHONUNBUFFERED": "1",
    }


def collect_static(env) -> None:
    manifest = WORK / "var" / "static" / "staticfiles.json"
    if not manifest.exists():  # production step, done once per machine
        subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), "collectstatic", "--noinput", "-v0"],
            env=env,
            check=True,
        )


def start_node(index: int, env) -> subprocess.Popen:
    python, manage = sys.executable, str(ROOT / "manage.py")
    log = (WORK / f"node{index}.log").open("w")
    return subprocess.Popen(
        [
            python,
            str(ROOT / "scripts" / "supervise.py"),
            "--grace",
            "10",
            f"cluster={python} {manage} qcluster",
            # runserver opens a thread and a connection per request: persistent connections
            # (CONN_MAX_AGE) would pile up until PostgreSQL refuses clients (gunicorn's sync
            # workers reuse theirs; see docs/deployment.md).
            f"web=env CONN_MAX_AGE=0 {python} {manage} runserver 127.0.0.1:{PORTS[index]} "
            "--noreload",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop_node(node: subprocess.Popen) -> float:
    started = time.perf_counter()
    if node.poll() is None:
        os.killpg(node.pid, signal.SIGTERM)
        try:
            node.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(node.pid, signal.SIGKILL)
            node.wait()
    return time.perf_counter() - started


def wait_healthy(port: int, timeout: float = 60) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code in (
                200,
                503,
            ):
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise SystemExit(f"the web server on port {port} did not start: see {WORK}/node*.log")


# --- Clients ----------------------------------------------------------------------------------

TIMES = re.compile(r'href="(/rdv/[^"]+/coordonnees/\?[^"]+)"')
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class Client:
    """One resident's browser behind the TLS proxy: its own address, and the proxy's
    headers. The CSRF cookie is sent by hand (it is Secure, and the hop is plain HTTP)."""

    def __init__(self, address: str):
        self.address = address
        self.http = requests.Session()
        self.http.trust_env = False
        self.csrf_cookie = ""

    def _headers(self, port: int, path: str) -> dict:
        headers = {
            "X-Forwarded-Proto": "https",
            "X-Forwarded-For": self.address,
            "Referer": f"https://127.0.0.1:{port}{path}",
        }
        if self.csrf_cookie:
            headers["Cookie"] = f"csrftoken={self.csrf_cookie}"
        return headers

    def get(self, port: int, path: str) -> requests.Response:
        response = self.http.get(
            f"http://127.0.0.1:{port}{path}",
            headers=self._headers(port, path),
            allow_redirects=False,
            timeout=30,
        )
        self.csrf_cookie = response.cookies.get("csrftoken") or self.csrf_cookie
        self.http.cookies.clear()
        return response

    def post(self, port: int, path: str, data: dict, page: str) -> requests.Response:
        token = CSRF.search(page)
        response = self.http.post(
            f"http://127.0.0.1:{port}{path}",
            data={**data, "csrfmiddlewaretoken": token.group(1) if token else ""},
            headers=self._headers(port, path),
            allow_redirects=False,
            timeout=30,
        )
        self.http.cookies.clear()
        return response


class Tally:
    def __init__(self):
        self.lock = threading.Lock()
        self.counts: Counter = Counter()
        self.booked: list[str] = []  # tokens
        self.cancelled: list[str] = []
        self.waitlisted: list[str] = []  # E.164 numbers
        self.errors: list[str] = []

    def add(self, key: str, value=None, into: str = "") -> None:
        with self.lock:
            self.counts[key] += 1
            if into:
                getattr(self, into).append(value)


def resident(client_no: int, place, motif, tally: Tally, stop_at: float) -> None:
    rng = random.Random(client_no)
    # First on the waiting list (the others' cancellations offer it their times), then book.
    for n in range(WAITLIST_PER_CLIENT):
        client = Client(f"127.43.{client_no}.{n + 1}")
        path = f"/rdv/{SLUG}/liste-attente/?lieu={place.pk}&motif={motif.pk}"
        port = rng.choice(PORTS)
        page = client.get(port, path)
        number = f"06{50 + client_no:02d}{n:02d}{rng.randrange(10000):04d}"
        answer = client.post(
            PORTS[1 - PORTS.index(port)],
            path,
            {"first_name": f"Attente{client_no}", "phone": number, "website": ""},
            page.text,
        )
        if answer.status_code == 200:
            tally.add("waitlisted", "+33" + number[1:], "waitlisted")
        else:
            tally.add("waitlist_errors")
            tally.errors.append(f"waitlist {answer.status_code}")
    slots_path = f"/rdv/{SLUG}/creneaux/?lieu={place.pk}&motif={motif.pk}"
    for n in range(BOOKINGS_PER_CLIENT):
        if time.monotonic() > stop_at:
            break
        client = Client(f"127.42.{client_no}.{n + 1}")
        phone = f"06{client_no:02d}{n:02d}{rng.randrange(10000):04d}"
        identity = {
            "first_name": f"Usager{client_no}",
            "last_name": f"Nœud{n}",
            "phone": phone,
            "email": f"u{client_no}-{n}@residents.example" if n % 2 else "",
            "need": "Renouveler ma carte d'identité",
            "website": "",
        }
        for _attempt in range(5):
            a, b = rng.sample(PORTS, 2)  # the form from one node, posted to the other (often)
            page = client.get(a, slots_path)
            times = TIMES.findall(page.text)
            if page.status_code != 200 or not times:
                tally.add("slots_page_errors")
                tally.errors.append(f"slots {page.status_code}")
                break
            # The first times on offer: every client wants them (races).
            details = rng.choice(times[:12]).replace("&amp;", "&")
            form = client.get(b if rng.random() < 0.5 else a, details)
            target = rng.choice(PORTS)
            answer = client.post(target, details, identity, form.text)
            tally.add("booking_attempts")
            if answer.status_code == 302 and "/rdv/a/" in answer.headers.get("Location", ""):
                token = answer.headers["Location"].split("/rdv/a/")[1].split("/")[0]
                tally.add("booked", token, "booked")
                if rng.random() < CANCEL_SHARE:
                    other = PORTS[1 - PORTS.index(target)]
                    cancel_path = f"/rdv/a/{token}/annuler/"
                    page = client.get(other, cancel_path)
                    done = client.post(target, cancel_path, {"confirmer": "oui"}, page.text)
                    if done.status_code == 302:
                        tally.add("cancelled", token, "cancelled")
                    else:
                        tally.add("cancel_errors")
                        tally.errors.append(f"cancel {done.status_code}")
                break
            if answer.status_code == 409:
                tally.add("taken_meanwhile")  # SlotTaken: the resident picks another time
                continue
            tally.add("booking_errors")
            tally.errors.append(f"booking {answer.status_code}: {answer.text[:200]!r}")
            break


# --- What the providers received --------------------------------------------------------------


def sms_deliveries() -> Counter:
    if not OUTBOX.exists():
        return Counter()
    lines = [json.loads(line) for line in OUTBOX.read_text().splitlines() if line.strip()]
    return Counter(line["reference"] for line in lines)


def email_deliveries() -> Counter:
    found: Counter = Counter()
    if not MAILDIR.exists():
        return found
    for path in MAILDIR.iterdir():
        # The file backend writes each message followed by a line of 79 dashes.
        for chunk in path.read_text(errors="replace").split("-" * 79 + "\n"):
            if chunk.strip():
                message = email.message_from_string(chunk)
                found[(message["Message-ID"] or "").strip("<>")] += 1
    return found


# --- Schedules --------------------------------------------------------------------------------


class ScheduleWatch:
    """Task rows of each schedule (django-q2 groups them by schedule name), read every half
    second: the cluster keeps only the last 250 results, this keeps every one seen."""

    def __init__(self):
        self.seen: dict[str, set[str]] = {}
        self.stop = threading.Event()
        self.names = list(Schedule.objects.values_list("name", flat=True))

    def poll(self) -> None:
        from django.db import connection

        while not self.stop.is_set():
            for task_id, group in Task.objects.filter(group__in=self.names).values_list(
                "id", "group"
            ):
                self.seen.setdefault(group, set()).add(task_id)
            time.sleep(0.5)
        connection.close()

    def runs(self, name: str) -> int:
        return len(self.seen.get(name, ()))


def period_advances(before, after, schedule) -> int:
    """How many periods the schedule's next_run moved over (what the clusters had to run)."""
    if schedule.schedule_type == Schedule.MINUTES:
        return round((after - before).total_seconds() / (60 * schedule.minutes))
    return 1 if after > before else 0


# --- The run ----------------------------------------------------------------------------------


def main() -> int:
    started = time.perf_counter()
    say(f"database made and migrated in {started - BEGAN:.1f} s")
    redis.Redis.from_url(os.environ["REDIS_URL"]).flushdb()
    OUTBOX.unlink(missing_ok=True)
    if MAILDIR.exists():
        for path in MAILDIR.iterdir():
            path.unlink()
    place, motif = build()
    env = node_environment()
    collect_static(env)
    # Every schedule due now: each must run once, whichever cluster takes it.
    Schedule.objects.update(next_run=timezone.now() - timedelta(seconds=1))
    next_runs = dict(Schedule.objects.values_list("name", "next_run"))
    say(
        f"database {settings.DATABASES['default']['NAME']}, broker Redis "
        f"{os.environ['REDIS_URL']}, {len(next_runs)} schedules: {', '.join(sorted(next_runs))}"
    )

    nodes = [start_node(i, env) for i in range(2)]
    violations: list[str] = []
    tally = Tally()
    watch = ScheduleWatch()
    watcher = threading.Thread(target=watch.poll, daemon=True)
    try:
        for port in PORTS:
            wait_healthy(port)
        nodes_up = time.perf_counter()
        say(f"two nodes up in {nodes_up - started:.1f} s (web on {PORTS}, a cluster each)")
        watcher.start()
        load_started = time.monotonic()
        with ThreadPoolExecutor(CLIENTS) as pool:
            for future in [
                pool.submit(resident, n, place, motif, tally, load_started + LOAD_SECONDS)
                for n in range(CLIENTS)
            ]:
                future.result()
        load_seconds = time.monotonic() - load_started
        say(
            f"clients: {tally.counts['booking_attempts']} booking attempts in {load_seconds:.1f} s"
            f", {len(tally.booked)} booked, {tally.counts['taken_meanwhile']} taken meanwhile"
            f" (409), {len(tally.cancelled)} cancelled, {len(tally.waitlisted)} on the waiting"
            f" list, errors {len(tally.errors)}"
        )
        # The every-minute run must send reminders too: some become due now.
        reminders = list(
            Notification.objects.filter(
                kind=MessageKind.REMINDER, status=MessageStatus.PENDING
            ).values_list("pk", flat=True)[:40]
        )
        Notification.objects.filter(pk__in=reminders).update(send_after=timezone.now())
        minute = Schedule.objects.get(name="bookings.send_due_notifications")
        # Wait for the queue to drain and the every-minute schedule to run again.
        while time.perf_counter() - nodes_up < DEADLINE:
            due = Notification.objects.filter(
                status=MessageStatus.PENDING, send_after__lte=timezone.now()
            ).count()
            if not due and watch.runs(minute.name) >= 2:
                break
            time.sleep(1)
        watch.stop.set()
        watcher.join()
    finally:
        stop_seconds = max(stop_node(node) for node in nodes)
    total = time.perf_counter() - started
    say(f"nodes stopped in {stop_seconds:.1f} s (SIGTERM to each supervisor)")
    violations += tally.errors[:10]

    # Bookings: none lost, none doubled.
    tokens = set(tally.booked)
    rows = dict(Appointment.objects.values_list("token", "status"))
    lost = len(tokens - rows.keys())
    extra = len(rows.keys() - tokens)
    cancelled_seen = set(tally.cancelled)
    not_cancelled = sum(
        rows.get(token) != AppointmentStatus.CANCELLED_BY_RESIDENT for token in cancelled_seen
    )
    booked_rows = Appointment.objects.filter(status=AppointmentStatus.BOOKED)
    same_time = (
        booked_rows.values("mediator", "starts_at").annotate(n=Count("id")).filter(n__gt=1).count()
    )
    overbooked = sum(
        slot.seats_taken > slot.capacity
        or slot.seats_taken != slot.booked
        or (slot.is_active and slot.booked == 0)
        for slot in Slot.objects.annotate(booked=Count("appointments", filter=models_q_booked()))
    )
    overlapping = overlapping_slots()
    doubled = same_time + overbooked + overlapping
    for name, value in (
        ("bookings lost", lost),
        ("appointments nobody booked", extra),
        ("cancellations not recorded", not_cancelled),
        ("doubled bookings", doubled),
    ):
        if value:
            violations.append(f"{name}: {value}")

    # Messages: each due one sent, and exactly once.
    statuses = Counter(Notification.objects.values_list("status", flat=True))
    due_unsent = Notification.objects.filter(
        send_after__lte=timezone.now(), status__in=[MessageStatus.PENDING, MessageStatus.FAILED]
    ).count()
    sms, mails = sms_deliveries(), email_deliveries()
    sent = Notification.objects.filter(status=MessageStatus.SENT)
    sms_refs = Counter(
        sent.filter(channel=Channel.SMS).values_list("provider_reference", flat=True)
    )
    mail_refs = Counter(
        sent.filter(channel=Channel.EMAIL).values_list("provider_reference", flat=True)
    )
    resident_mails = Counter({ref: n for ref, n in mails.items() if ref in mail_refs})
    other_mails = sum(mails.values()) - sum(resident_mails.values())
    duplicates = (
        sum(n - 1 for n in sms.values() if n > 1)
        + sum(n - 1 for n in resident_mails.values() if n > 1)
        + sum(n - 1 for n in sms_refs.values() if n > 1)
        + sum(n - 1 for n in mail_refs.values() if n > 1)
    )
    unmatched = len(set(sms) ^ set(sms_refs)) + len(set(mail_refs) - set(resident_mails))
    per_appointment = (
        Notification.objects.exclude(appointment=None)
        .values("appointment", "kind", "channel")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count()
    )
    booked_count = len(rows)
    confirmations = Notification.objects.filter(
        kind=MessageKind.CONFIRMATION, status=MessageStatus.SENT
    )
    # A confirmation may be cancelled unsent only because its appointment was cancelled first.
    unconfirmed = (
        Appointment.objects.exclude(pk__in=confirmations.values("appointment"))
        .exclude(
            pk__in=Notification.objects.filter(
                kind=MessageKind.CONFIRMATION,
                status=MessageStatus.CANCELLED,
                appointment__status=AppointmentStatus.CANCELLED_BY_RESIDENT,
            ).values("appointment")
        )
        .count()
    )
    cancel_notices = Notification.objects.filter(
        kind=MessageKind.CANCELLATION, status=MessageStatus.SENT
    )
    cancelled_rows = Appointment.objects.filter(status=AppointmentStatus.CANCELLED_BY_RESIDENT)
    cancel_untold = cancelled_rows.exclude(pk__in=cancel_notices.values("appointment")).count()
    offered = WaitlistEntry.objects.filter(status="offered").count()
    offers = Notification.objects.filter(kind=MessageKind.WAITLIST_OFFER)
    offers_sent = offers.filter(status=MessageStatus.SENT).count()
    reminders_sent = Notification.objects.filter(
        kind=MessageKind.REMINDER, status=MessageStatus.SENT
    ).count()
    for name, value in (
        ("messages due and not sent", due_unsent),
        ("messages sent twice", duplicates),
        ("deliveries without their row, or rows without their delivery", unmatched),
        ("two rows for one appointment, kind and channel", per_appointment),
        ("appointments without a sent confirmation", unconfirmed),
        ("cancellations without a sent notice", cancel_untold),
        ("waiting-list entries offered but not texted", offered - offers_sent),
        ("reminders made due but not sent", len(reminders) - reminders_sent),
    ):
        if value:
            violations.append(f"{name}: {value}")

    # Schedules: once per period.
    jobs_ok = 0
    for schedule in Schedule.objects.order_by("name"):
        runs = watch.runs(schedule.name)
        periods = period_advances(next_runs[schedule.name], schedule.next_run, schedule)
        say(f"schedule {schedule.name}: {runs} run(s) for {periods} period(s)")
        if runs != periods or runs == 0:
            violations.append(f"schedule {schedule.name}: {runs} runs for {periods} periods")
        else:
            jobs_ok += 1

    say(
        f"bookings: {booked_count} in the database for {len(tokens)} seen by the clients "
        f"({lost} lost, {extra} extra), {len(cancelled_seen)} cancelled, doubled {doubled}"
    )
    say(
        f"messages: {sum(statuses.values())} rows {dict(statuses)}; delivered {sum(sms.values())}"
        f" SMS and {sum(resident_mails.values())} e-mails to residents (+{other_mails} other "
        f"e-mails); {reminders_sent} reminders by the every-minute run, {offers_sent} "
        f"waiting-list offers; duplicates {duplicates}"
    )
    total += started - BEGAN
    say(f"total {total:.1f} s")
    for violation in violations:
        say(f"VIOLATION {violation}")
    finish(
        bookings=booked_count,
        cancelled=len(cancelled_seen),
        taken_meanwhile=tally.counts["taken_meanwhile"],
        lost=lost,
        doubled=doubled,
        messages=sum(sms.values()) + sum(resident_mails.values()),
        sms=sum(sms.values()),
        emails=sum(resident_mails.values()),
        duplicates=duplicates,
        unsent=due_unsent,
        jobs=len(next_runs),
        jobs_once_per_period=jobs_ok,
        seconds=total,
        violations=len(violations),
    )
    return 1 if violations else 0


def models_q_booked():
    from django.db.models import Q

    return Q(appointments__status=AppointmentStatus.BOOKED)


def overlapping_slots() -> int:
    """Active slots of one mediator that overlap (the exclusion constraint's promise)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*) FROM {Slot._meta.db_table} a JOIN {Slot._meta.db_table} b "
            "ON a.mediator_id = b.mediator_id AND a.id < b.id AND a.is_active AND b.is_active "
            "AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at"
        )
        return cursor.fetchone()[0]


if __name__ == "__main__":
    sys.exit(main())
