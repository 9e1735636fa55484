"""The desk pages of a large structure: 20 000 residents, 100 000 sessions over two years and
10 000 cases. Prints the median time of the resident search ("dupont"), a resident's page (one
with a long history), a case page, "Mes suivis", and the home page's "Ma journée" (today's
appointments and workshop among 20 000 appointments, the follow-ups due) with its live refresh,
"Accueillir quelqu'un sans rendez-vous" (the walk-in button's redirect), the one-page session
form (empty, after its "Chercher", with a resident picked) and its save, all through the real
views by a signed-in mediator, with the CPU time of the process (a steadier figure on a shared
machine) and the number of queries of each.

    .venv/bin/python bench/desk.py            # SQLite
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/permanence .venv/bin/python bench/desk.py
    .venv/bin/python bench/desk.py --reuse    # measure again on the data of the last run

`--name` names the database (permanence_bench_<name>, var/bench/<name>.sqlite3).
"""

import argparse
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta

from common import ROOT, count_queries, finish, median_ms, setup_django

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--reuse", action="store_true", help="keep the data of the last run")
parser.add_argument("--name", default="desk", help="database permanence_bench_<name>")
args = parser.parse_args()

if args.reuse:
    # The same database as setup_django(args.name), neither dropped nor migrated again.
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mediation.settings")
    os.environ["DEBUG"] = "true"
    os.environ["ALLOWED_HOSTS"] = "testserver,127.0.0.1,localhost"
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgres"):
        os.environ["DATABASE_URL"] = f"{url.rpartition('/')[0]}/permanence_bench_{args.name}"
    else:
        os.environ["DATABASE_URL"] = f"sqlite:///{ROOT / 'var' / 'bench' / f'{args.name}.sqlite3'}"
    import django

    django.setup()
else:
    setup_django(args.name)

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from bookings.models import Appointment, Motif, Slot  # noqa: E402
from cases.choices import (  # noqa: E402
    CLOSED_CASE_STATUSES,
    Autonomy,
    CaseStatus,
    Equipment,
    Outcome,
    ProcedureArea,
    SessionKind,
    TagDimension,
    Theme,
)
from cases.models import Case, CaseEvent, HelpSession, SessionTag  # noqa: E402
from mediation.choices import AGE_BAND_BOUNDS, Gender, ResidentStatus, Role  # noqa: E402
from mediation.models import (  # noqa: E402
    Membership,
    Place,
    Resident,
    Structure,
    User,
    fold_name,
)

RESIDENTS = 20_000
#: Past and coming appointments of the whole team, one every weekday slot or so.
APPOINTMENTS = 20_000
SESSIONS = 100_000
CASES = 10_000
DAYS = 730
BATCH = 2_000

FIRST_NAMES = [
    "Jean",
    "Marie",
    "Michel",
    "Nathalie",
    "Pierre",
    "Isabelle",
    "André",
    "Sylvie",
    "Philippe",
    "Catherine",
    "Éric",
    "Françoise",
    "Alain",
    "Christine",
    "Bernard",
    "Monique",
    "Gérard",
    "Sandrine",
    "Daniel",
    "Valérie",
    "Hélène",
    "Loïc",
    "Zoé",
    "Aurélie",
    "Jérôme",
    "Céline",
    "Hervé",
    "Léa",
    "Noémie",
    "Joël",
    "Maëlle",
    "Gaëlle",
    "Yannick",
    "Brigitte",
    "Stéphane",
    "Anaïs",
]
LAST_NAMES = [
    "Martin",
    "Bernard",
    "Thomas",
    "Petit",
    "Robert",
    "Richard",
    "Durand",
    "Dubois",
    "Moreau",
    "Laurent",
    "Simon",
    "Michel",
    "Lefèvre",
    "Leroy",
    "Roux",
    "David",
    "Bertrand",
    "Morel",
    "Fournier",
    "Girard",
    "Bonnet",
    "Dupont",
    "Lambert",
    "Fontaine",
    "Rousseau",
    "Vincent",
    "Muller",
    "Lefebvre",
    "Faure",
    "André",
    "Mercier",
    "Blanc",
    "Guérin",
    "Boyer",
    "Garnier",
    "Chevalier",
    "François",
    "Legrand",
    "Gauthier",
    "Garcia",
    "Perrin",
    "Robin",
    "Clément",
    "Morin",
    "Nicolas",
    "Henry",
    "Roussel",
    "Mathieu",
    "Gautier",
    "Masson",
    "Marchand",
    "Duval",
    "Denis",
    "Dumont",
    "Marie",
    "Lemaire",
    "Noël",
    "Meyer",
    "Dufour",
    "Meunier",
    "Brun",
    "Blanchard",
    "Giraud",
    "Joly",
    "Rivière",
    "Lucas",
    "Brunet",
    "Gaillard",
    "Barbier",
    "Arnaud",
    "Martinez",
    "Gérard",
    "Roche",
    "Renard",
    "Schmitt",
    "Roy",
    "Leroux",
    "Colin",
    "Vidal",
    "Caron",
    "Picard",
    "Roger",
    "Fabre",
    "Aubert",
    "Lemoine",
    "Renaud",
    "Dumas",
    "Lacroix",
    "Olivier",
    "Philippe",
    "Bourgeois",
    "Pierre",
    "Benoît",
    "Rey",
    "Leclerc",
    "Payet",
    "Kerbrat",
    "Tanguy",
    "Hoarau",
    "Grondin",
    "Nativel",
    "Le Goff",
    "Le Gall",
]
THEMES = [t for t in Theme.values if t != Theme.DEMARCHES_ADMINISTRATIVES]


def batched(rows, model):
    model.objects.bulk_create(rows, batch_size=BATCH)


def build(rng: random.Random):
    now = timezone.now()
    today = timezone.localdate()
    start_day = today - timedelta(days=DAYS)
    structure = Structure.objects.create(name="France Services Grand Bourg", slug="fs", kind="epn")
    places = Place.objects.bulk_create(
        Place(
            structure=structure,
            name=f"Lieu {n}",
            address="1 rue",
            postcode="35000",
            commune="Rennes",
            insee_code="35238",
        )
        for n in range(3)
    )
    mediators = [
        User.objects.create_user(
            email=f"mediateur{n}@exemple.fr", password="x", first_name="Camille", last_name=f"M{n}"
        )
        for n in range(8)
    ]
    Membership.objects.bulk_create(
        Membership(user=m, structure=structure, role=Role.MEDIATOR) for m in mediators
    )

    t0 = time.perf_counter()
    residents = []
    for n in range(RESIDENTS):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        born = rng.randint(1930, 2008)
        band = next(b for b, lo, hi in AGE_BAND_BOUNDS if lo <= today.year - born <= hi)
        created = now - timedelta(days=rng.randint(0, DAYS), minutes=rng.randint(0, 600))
        residents.append(
            Resident(
                structure=structure,
                first_name=first,
                last_name=last,
                search_name=fold_name(first, last),
                phone=f"+336{n:08d}" if rng.random() < 0.8 else "",
                birth_year=born if rng.random() < 0.7 else None,
                age_band=band,
                gender=rng.choice(Gender.values),
                status=rng.choice(ResidentStatus.values),
                created_at=created,
                last_contact_at=created + timedelta(days=rng.randint(0, (now - created).days)),
            )
        )
    batched(residents, Resident)
    residents = list(Resident.objects.filter(structure=structure).order_by("pk"))
    # The resident with a long history: a regular of the desk.
    regular = residents[0]
    Resident.objects.filter(pk=regular.pk).update(last_name="Dupont", search_name="jean dupont")
    print(f"residents: {len(residents)} in {time.perf_counter() - t0:.1f} s")

    t0 = time.perf_counter()
    cases = []
    for n in range(CASES):
        resident = regular if n < 30 else rng.choice(residents)
        opened = now - timedelta(days=rng.randint(0, DAYS))
        status = rng.choices(CaseStatus.values, weights=[10, 15, 10, 10, 40, 10, 5], k=1)[0]
        closed = status in CLOSED_CASE_STATUSES
        cases.append(
            Case(
                structure=structure,
                resident=resident,
                procedure_area=rng.choice(ProcedureArea.values),
                title=f"Démarche {n}",
                status=status,
                next_action_on=None if closed else today + timedelta(days=rng.randint(-60, 60)),
                mediator=rng.choice(mediators),
                opened_at=opened,
                status_changed_at=opened + timedelta(days=rng.randint(0, 30)),
                closed_at=opened + timedelta(days=rng.randint(1, 60)) if closed else None,
            )
        )
    batched(cases, Case)
    cases = list(Case.objects.filter(structure=structure).order_by("pk"))
    events = []
    for case in cases:
        steps = 12 if case.resident_id == regular.pk else rng.randint(0, 3)
        for k in range(steps):
            events.append(
                CaseEvent(
                    case=case,
                    at=case.opened_at + timedelta(days=k),
                    by=case.mediator,
                    from_status=CaseStatus.OPEN if k == 0 else CaseStatus.IN_PROGRESS,
                    to_status=CaseStatus.IN_PROGRESS,
                    comment="Pièces demandées, rappel prévu.",
                    next_action_on=today + timedelta(days=7),
                )
            )
    batched(events, CaseEvent)
    print(f"cases: {len(cases)}, events: {len(events)} in {time.perf_counter() - t0:.1f} s")

    t0 = time.perf_counter()
    regular_cases = [c for c in cases if c.resident_id == regular.pk]
    sessions = []
    for n in range(SESSIONS):
        resident = regular if n < 400 else rng.choice(residents)
        collective = rng.random() < 0.05
        day = start_day + timedelta(days=rng.randint(0, DAYS - 1))
        case = None
        if resident is regular and rng.random() < 0.5:
            case = rng.choice(regular_cases)
        elif rng.random() < 0.1:
            case = rng.choice(cases)
            resident = case.resident if case.resident_id != regular.pk else resident
        sessions.append(
            HelpSession(
                structure=structure,
                place=rng.choice(places),
                mediator=rng.choice(mediators),
                created_by=mediators[0],
                kind=SessionKind.COLLECTIVE if collective else SessionKind.INDIVIDUAL,
                date=day,
                report_date=day,
                duration_minutes=rng.choice([15, 30, 45, 60, 90, 120]),
                resident=None if collective else resident,
                people_count=rng.randint(3, 12) if collective else 1,
                case=None if collective else case,
                title="Atelier smartphone" if collective else "",
                level="beginner" if collective else "",
                autonomy=rng.choice(Autonomy.values),
                outcome=rng.choice(Outcome.values),
                created_at=datetime.combine(day, datetime.min.time(), tzinfo=UTC)
                + timedelta(hours=rng.randint(8, 17)),
            )
        )
    batched(sessions, HelpSession)
    ids = list(
        HelpSession.objects.filter(structure=structure).order_by("pk").values_list("pk", "kind")
    )
    tags = []
    for pk, kind in ids:
        for code in rng.sample(THEMES, rng.randint(1, 2)):
            tags.append(SessionTag(session_id=pk, dimension=TagDimension.THEME, code=code))
        if kind == SessionKind.INDIVIDUAL and rng.random() < 0.4:
            tags.append(
                SessionTag(
                    session_id=pk,
                    dimension=TagDimension.THEME,
                    code=Theme.DEMARCHES_ADMINISTRATIVES,
                )
            )
            tags.append(
                SessionTag(
                    session_id=pk,
                    dimension=TagDimension.PROCEDURE,
                    code=rng.choice(ProcedureArea.values),
                )
            )
        tags.append(
            SessionTag(
                session_id=pk, dimension=TagDimension.EQUIPMENT, code=rng.choice(Equipment.values)
            )
        )
    batched(tags, SessionTag)
    through = HelpSession.participants.through
    workshops = [pk for pk, kind in ids if kind == SessionKind.COLLECTIVE]
    attendance = {
        (pk, rng.choice(residents).pk) for pk in workshops for _ in range(rng.randint(1, 4))
    }
    attendance |= {(pk, regular.pk) for pk in workshops[:40]}
    batched([through(helpsession_id=s, resident_id=r) for s, r in attendance], through)
    print(
        f"sessions: {len(ids)}, tags: {len(tags)}, participants: {len(attendance)} "
        f"in {time.perf_counter() - t0:.1f} s"
    )

    # Upcoming appointments of the regular (one slot each, a day apart: no overlap).
    motif = Motif.objects.create(structure=structure, name="Aide aux démarches")
    slots = Slot.objects.bulk_create(
        Slot(
            place=places[0],
            motif=motif,
            mediator=mediators[0],
            starts_at=now + timedelta(days=n + 1),
            ends_at=now + timedelta(days=n + 1, minutes=30),
            seats_taken=1,
        )
        for n in range(8)
    )
    Appointment.objects.bulk_create(
        Appointment(
            place=places[0],
            motif=motif,
            mediator=mediators[0],
            resident=regular,
            slot=slot,
            starts_at=slot.starts_at,
            ends_at=slot.ends_at,
        )
        for slot in slots
    )
    # The team's appointments over the two years (most of them past), then the mediator's day:
    # twelve appointments at the three places and a workshop of six.
    team_slots, seen = [], set()
    while len(team_slots) < APPOINTMENTS:
        mediator = rng.choice(mediators)
        day = start_day + timedelta(days=rng.randint(0, DAYS + 30))
        starts = datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(
            hours=rng.randint(7, 16), minutes=rng.choice([0, 30])
        )
        if (mediator.pk, starts) in seen or day == today:
            continue
        seen.add((mediator.pk, starts))
        team_slots.append(
            Slot(
                place=rng.choice(places),
                motif=motif,
                mediator=mediator,
                starts_at=starts,
                ends_at=starts + timedelta(minutes=30),
                seats_taken=1,
            )
        )
    today_start = datetime.combine(today, datetime.min.time(), tzinfo=UTC)
    day_slots = [
        Slot(
            place=places[n % 3],
            motif=motif,
            mediator=mediators[0],
            starts_at=today_start + timedelta(hours=7, minutes=30 * n),
            ends_at=today_start + timedelta(hours=7, minutes=30 * n + 30),
            seats_taken=1,
        )
        for n in range(12)
    ]
    workshop = Motif.objects.create(
        structure=structure, name="Atelier smartphone", is_collective=True, capacity=8
    )
    workshop_slot = Slot(
        place=places[0],
        motif=workshop,
        mediator=mediators[0],
        starts_at=today_start + timedelta(hours=14),
        ends_at=today_start + timedelta(hours=15, minutes=30),
        capacity=8,
        seats_taken=6,
    )
    Slot.objects.bulk_create([*team_slots, *day_slots, workshop_slot], batch_size=BATCH)
    statuses = ["booked", "seen", "seen", "seen", "no_show", "cancelled_by_resident"]
    batched(
        [
            Appointment(
                place=slot.place,
                motif=slot.motif,
                mediator=slot.mediator,
                resident=rng.choice(residents),
                slot=slot,
                starts_at=slot.starts_at,
                ends_at=slot.ends_at,
                status="booked" if slot.starts_at > now else rng.choice(statuses),
            )
            for slot in [*team_slots, *day_slots]
            for _ in range(slot.seats_taken)
        ]
        + [
            Appointment(
                place=workshop_slot.place,
                motif=workshop,
                mediator=mediators[0],
                resident=rng.choice(residents),
                slot=workshop_slot,
                starts_at=workshop_slot.starts_at,
                ends_at=workshop_slot.ends_at,
            )
            for _ in range(6)
        ],
        Appointment,
    )
    print(f"appointments: {Appointment.objects.count()}")
    # Sessions logged from the appointments that were seen ("Terminer et saisir"), as at a desk.
    seen_ids = list(
        Appointment.objects.filter(status="seen").order_by("pk").values_list("pk", flat=True)
    )
    logged = list(
        HelpSession.objects.filter(kind=SessionKind.INDIVIDUAL).order_by("pk")[: len(seen_ids)]
    )
    for session, appointment_id in zip(logged, seen_ids, strict=False):
        session.appointment_id = appointment_id
    HelpSession.objects.bulk_update(logged, ["appointment"], batch_size=500)
    # A case page with a history of edits (simple-history rows), as services would write.
    long_case = max(regular_cases, key=lambda c: c.pk)
    for n in range(15):
        long_case.title = f"Ouverture droits retraite ({n})"
        long_case.next_action_on = today + timedelta(days=n)
        long_case._history_user = long_case.mediator
        long_case.save()
    return structure, regular, long_case, mediators[0]


def built():
    """What build() returned, found again in the data of the last run."""
    structure = Structure.objects.get(slug="fs")
    regular = Resident.objects.filter(structure=structure).order_by("pk").first()
    long_case = Case.objects.filter(resident=regular).order_by("-pk").first()
    return structure, regular, long_case, User.objects.get(email="mediateur0@exemple.fr")


def main() -> None:
    rng = random.Random(20260112)
    t0 = time.perf_counter()
    if args.reuse:
        structure, regular, long_case, mediator = built()
    else:
        structure, regular, long_case, mediator = build(rng)
        # Planner statistics, as a running instance has them (on SQLite, `PRAGMA optimize` at
        # each new connection; this one was opened before the tables were filled).
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    print(f"built in {time.perf_counter() - t0:.1f} s ({connection.vendor})")
    last_session = HelpSession.objects.order_by("-pk").values_list("pk", flat=True).first()

    client = Client()
    client.force_login(mediator)
    slug = structure.slug
    # A search is POSTed and kept in the session (mediation/search_terms.py), never in the URL
    # (`?q=` was ignored: the page listed the residents seen last): time the page it leads to.
    search_url = reverse("resident_search", kwargs={"structure": slug})
    found = client.post(search_url, {"q": "dupont", "search": "1"})
    assert found.status_code == 302, found.status_code
    form_url = reverse("session_create", kwargs={"structure": slug})
    today = timezone.localdate().isoformat()
    place = Place.objects.filter(structure=structure).order_by("name").first()
    saved = {
        "who": "known",
        "resident": regular.pk,
        "themes": [Theme.EMAIL],
        "duration_minutes": "30",
        "place_type": "place",
        "place": place.pk,
        "mediator": mediator.pk,
        "date": today,
        "action": "save",
    }
    # (method, path, data, expected status)
    pages = {
        "search": ("get", found["Location"], None, 200),
        "resident": (
            "get",
            reverse("resident_detail", kwargs={"structure": slug, "resident": regular.pk}),
            None,
            200,
        ),
        "case": (
            "get",
            reverse("case_detail", kwargs={"structure": slug, "case": long_case.pk}),
            None,
            200,
        ),
        "followups": ("get", reverse("followups", kwargs={"structure": slug}), None, 200),
        "home": ("get", reverse("home"), None, 200),
        "agenda": ("get", reverse("agenda", kwargs={"structure": slug}), None, 200),
        "agenda_week": ("get", reverse("agenda_week", kwargs={"structure": slug}), None, 200),
        # The live refresh of "Ma journée" (with a version it does not hold: rendered in full).
        "refresh": ("get", reverse("day_panel") + "?panneau=bookings.appointments&v=x", None, 200),
        # "Accueillir quelqu'un sans rendez-vous": to the one-page session form (one structure).
        "walk_in": ("get", reverse("desk_walk_in"), None, 302),
        "form": ("get", form_url, None, 200),
        # The form's "Chercher" (who: a known resident), then the form with them picked.
        "form_search": ("post", form_url, {"who": "known", "q": "dupont", "action": "search"}, 200),
        "form_picked": ("get", f"{form_url}?usager={regular.pk}", None, 200),
        # Its save: a session for the regular, then the redirect to the list.
        "save": ("post", form_url, saved, 302),
    }
    figures, queries, cpus = {}, {}, {}
    # CPU time of the process (Django and SQLite run in it): on a shared machine, what the
    # page costs whatever the other processes do to the wall-clock time.
    print(f"{'page':>11} {'median_ms':>10} {'cpu_ms':>8} {'queries':>8}  url")
    for name, (method, path, data, status) in pages.items():

        def get(method=method, path=path, data=data, status=status):
            response = client.post(path, data) if method == "post" else client.get(path)
            assert response.status_code == status, (path, response.status_code)
            return response

        cpu = []

        def timed_cpu(get=get, cpu=cpu):
            start = time.process_time()
            get()
            cpu.append((time.process_time() - start) * 1000)

        figures[name] = median_ms(timed_cpu, repeat=15)
        cpu_ms = statistics.median(cpu[2:])  # without median_ms's two warm-up calls
        cpus[name] = cpu_ms
        queries[name] = count_queries(get)
        print(f"{name:>11} {figures[name]:>10.1f} {cpu_ms:>8.1f} {queries[name]:>8}  {path}")
    # The sessions the saves logged: gone, so that a run with --reuse measures the same data.
    HelpSession.objects.filter(pk__gt=last_session).delete()
    sessions = HelpSession.objects.filter(resident=regular).count()
    print(f"the resident page's resident has {sessions} sessions (and workshops), 30 cases")
    finish(
        search_ms=figures["search"],
        resident_ms=figures["resident"],
        case_ms=figures["case"],
        followups_ms=figures["followups"],
        home_ms=figures["home"],
        agenda_ms=figures["agenda"],
        agenda_week_ms=figures["agenda_week"],
        refresh_ms=figures["refresh"],
        walk_in_ms=figures["walk_in"],
        form_ms=figures["form"],
        form_search_ms=figures["form_search"],
        form_picked_ms=figures["form_picked"],
        save_ms=figures["save"],
        cpu_max_ms=max(cpus.values()),
        home_queries=queries["home"],
        form_queries=queries["form"],
        save_queries=queries["save"],
        queries_max=max(queries.values()),
    )


if __name__ == "__main__":
    main()
