"""Synthetic activity for load tests and benchmarks: a network of structures with their places,
mediators and residents, and help sessions spread over the past years, with their themes,
procedure areas, equipment, workshop participants, appointments and cases.

    .venv/bin/python bench/generate.py --sessions 1000000 --structures 50 [--residents R]
        [--seed X] [--years 2] [--prefix activite] [--chunk 20000]

Run as a script it writes into DATABASE_URL's database (as `manage.py` would); the benchmarks
and tests call `generate_activity(...)`, with the same options as keywords. The same seed gives
the same rows. The vocabulary and the draws are the demo's (`cases/synthetic.py`); what is
written, and how much, is this module's.

Written straight into the tables, in chunks of days (memory stays flat whatever N, but for
the list of the residents' ids): COPY on PostgreSQL, where a second thread writes a chunk
while the next is generated, and batches of 5 000 rows in multi-row INSERTs elsewhere. Model
instances and `bulk_create` are kept for the few reference rows (network, structures, places,
staff, motifs): for millions of rows, building model instances costs more than the database's
own work. Ids are drawn from the sequences on PostgreSQL (the application may go on writing);
on SQLite, let the generator be the only writer. No history rows. Meant for development and
benchmark databases.
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import sys
import time as clock
import uuid
import zoneinfo
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from itertools import accumulate
from pathlib import Path

if __name__ == "__main__":  # run as a script: Django is set up before the models are imported
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mediation.settings")
    import django

    django.setup()

from django.contrib.auth.hashers import make_password  # noqa: E402
from django.core.exceptions import ImproperlyConfigured  # noqa: E402
from django.db import connection, models, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from bookings.choices import AppointmentStatus  # noqa: E402
from bookings.models import Appointment, Motif, Slot  # noqa: E402
from cases import synthetic  # noqa: E402
from cases.choices import (  # noqa: E402
    CLOSED_CASE_STATUSES,
    CaseStatus,
    PlaceType,
    ProcedureArea,
    SessionKind,
    TagDimension,
    Theme,
)
from cases.models import Case, CaseEvent, HelpSession, ParticipantCount, SessionTag  # noqa: E402
from cases.synthetic import (  # noqa: E402
    COMMUNES,
    PICK_PLACE_TYPE,
    PICK_WORKSHOP_DURATION,
    Picker,
)
from mediation.choices import Role  # noqa: E402
from mediation.models import (  # noqa: E402
    Membership,
    Network,
    Place,
    Resident,
    Structure,
    User,
    fold_name,
)
from mediation.report_keys import KEY_SPACE  # noqa: E402

BATCH = 5000
COMMUNE_CODES = [insee for _name, insee, _postcode in COMMUNES]
PARIS = zoneinfo.ZoneInfo("Europe/Paris")

SHARE_COLLECTIVE = 0.08
SHARE_ANONYMOUS = 0.12
SHARE_FROM_APPOINTMENT = 0.30
SHARE_OTHER_APPOINTMENT = 0.20
SHARE_CASE = 0.08
SESSIONS_PER_MEDIATOR_DAY = 10
#: Appointments of a mediator in a day at most: from 9:00, one every 40 minutes.
SLOTS_PER_DAY = 14


class GenerationError(ValueError):
    """Options that cannot be generated (the message says why, in French)."""


def _plain(value):
    # TextChoices members are str subclasses: COPY wants the plain type.
    return str(value) if isinstance(value, str) else value


class TableWriter:
    """Rows of `model` given as tuples of `columns` (attnames); the other columns get their
    default once for all, the primary key its sequence when "id" is not among `columns`, and
    the report key (`mediation.report_keys`) and the public UUID (`mediation.uuids`) one of
    their own per row, drawn from `keys` and `uuids`."""

    def __init__(
        self,
        model,
        columns: list[str],
        keys: random.Random | None = None,
        uuids: random.Random | None = None,
    ):
        self.table = connection.ops.quote_name(model._meta.db_table)
        fields = {field.attname: field for field in model._meta.concrete_fields}
        unknown = set(columns) - set(fields)
        if unknown:
            raise ImproperlyConfigured(f"{model.__name__} has no column {unknown}")
        defaults = []
        names = list(columns)
        self.keys = None
        if "report_key" in fields and "report_key" not in columns:
            self.keys = keys or random.Random()
            names.append("report_key")
        self.uuid = None
        if "uuid" in fields and "uuid" not in columns:
            self.uuid_rng = uuids or random.Random()
            self.uuid = fields["uuid"]
            names.append("uuid")
        for attname, field in fields.items():
            if attname in columns or field.primary_key or attname in ("report_key", "uuid"):
                continue
            default = field.get_default()
            if default is None and not field.null:
                raise ImproperlyConfigured(f"{model.__name__}.{attname} needs a value")
            defaults.append(_plain(field.get_db_prep_save(default, connection)))
            names.append(attname)
        self.defaults = tuple(defaults)
        self.names = ", ".join(connection.ops.quote_name(name) for name in names)
        self.count = 0
        self.postgres = connection.vendor == "postgresql"
        # Elsewhere (SQLite) dates and aware datetimes go in as the ORM writes them.
        self.adapters = []
        if not self.postgres:
            for index, name in enumerate(columns):
                field = fields[name]
                if isinstance(field, models.DateTimeField):
                    self.adapters.append((index, connection.ops.adapt_datetimefield_value))
                elif isinstance(field, models.DateField):
                    self.adapters.append((index, connection.ops.adapt_datefield_value))
        self.width = len(names)

    def write(self, rows) -> None:
        defaults = self.defaults
        if self.keys is not None:
            draw, space = self.keys.randrange, KEY_SPACE
            rows = (row + (draw(space),) for row in rows)
        if self.uuid is not None:
            bits, prepare = self.uuid_rng.getrandbits, self.uuid.get_db_prep_save
            rows = (
                row + (prepare(uuid.UUID(int=bits(128), version=4), connection),) for row in rows
            )
        with connection.cursor() as cursor:
            if self.postgres:
                written = 0
                with cursor.cursor.copy(f"COPY {self.table} ({self.names}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row + defaults)
                        written += 1
                self.count += written
                return
            sql = f"INSERT INTO {self.table} ({self.names}) VALUES "
            batch = []
            for row in rows:
                if self.adapters:
                    row = list(row)
                    for index, adapt in self.adapters:
                        row[index] = adapt(row[index])
                    row = tuple(row)
                batch.append(row + defaults)
                if len(batch) == BATCH:
                    self._insert(cursor, sql, batch)
                    batch = []
            if batch:
                self._insert(cursor, sql, batch)

    def _insert(self, cursor, sql, batch) -> None:
        # Several rows per statement, within SQLite's limit of 32 766 parameters.
        per_statement = max(1, 32766 // self.width)
        placeholders = "(" + ", ".join(["%s"] * self.width) + ")"
        for start in range(0, len(batch), per_statement):
            part = batch[start : start + per_statement]
            cursor.execute(
                sql + ", ".join([placeholders] * len(part)),
                [value for row in part for value in row],
            )
        self.count += len(batch)


def _reserve_ids(model, count: int):
    """`count` free ids of `model`, to write rows with (inside their transaction).

    PostgreSQL: drawn from the table's sequence, so the application may go on inserting
    meanwhile (then they are not consecutive). Elsewhere (SQLite, one writer at a time, and
    the writing transaction holds the lock): the next ones after the largest."""
    if count == 0:
        return range(0)
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [table, count],
            )
            return [row[0] for row in cursor.fetchall()]
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {connection.ops.quote_name(table)}")
        first = cursor.fetchone()[0] + 1
        return range(first, first + count)


@contextmanager
def writing():
    """The transaction of a chunk; yields the function that reserves ids in it. On
    PostgreSQL the commit does not wait for the disk: synthetic rows, a crash may lose the
    last chunk, never corrupt the others."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit = off")
        yield _reserve_ids


def day_weights(first: date, days: int) -> list[float]:
    """Activity per day: weekdays, quiet Saturdays, no Sundays, August and Christmas low, and
    a network that grows by half over the period."""
    weights = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        weight = (1.0, 1.0, 1.0, 1.0, 0.9, 0.25, 0.0)[day.weekday()]
        if day.month == 8:
            weight *= 0.45
        elif (day.month, day.day) >= (12, 22) or (day.month, day.day) <= (1, 2):
            weight *= 0.3
        weights.append(weight * (1 + 0.5 * offset / days))
    return weights


class Generator:
    def __init__(self, *, sessions, structures, residents, seed, years, prefix, chunk, out):
        self.sessions = sessions
        self.structures_count = structures
        self.residents = residents
        self.rng = random.Random(seed)
        # Record keys from a stream of their own: the same seed gives the same activity.
        self.key_rng = random.Random(f"report-keys-{seed}")
        # UUIDs too, and per prefix: two networks of the same seed share no identifier.
        self.uuid_rng = random.Random(f"uuids-{seed}-{prefix}")
        self.years = years
        self.prefix = prefix
        self.chunk = chunk
        self.out = out
        self.today = timezone.localdate()
        self.now = timezone.now()
        self.writers = {}

    def writer(self, model, columns) -> TableWriter:
        key = (model, tuple(columns))
        if key not in self.writers:
            self.writers[key] = TableWriter(model, columns, keys=self.key_rng, uuids=self.uuid_rng)
        return self.writers[key]

    # --- Reference rows (few: model instances) ---------------------------------------------

    def reference(self) -> None:
        rng = self.rng
        if Network.objects.filter(slug=self.prefix).exists():
            raise GenerationError(
                f"Le réseau « {self.prefix} » existe déjà : choisissez un autre --prefix."
            )
        self.network = Network.objects.create(
            name=f"Réseau {self.prefix}", slug=self.prefix, kind="epci"
        )
        structures = []
        for index in range(self.structures_count):
            kind, pattern = synthetic.STRUCTURE_NAMES[index % len(synthetic.STRUCTURE_NAMES)]
            commune = COMMUNES[index % len(COMMUNES)]
            structures.append(
                Structure(
                    name=pattern.format(commune[0]) + f" ({index + 1})",
                    slug=f"{self.prefix}-{index + 1}",
                    kind=kind,
                )
            )
        Structure.objects.bulk_create(structures, batch_size=BATCH)
        Link = Structure.networks.through
        Link.objects.bulk_create(
            [Link(structure=structure, network=self.network) for structure in structures],
            batch_size=BATCH,
        )
        places = []
        for index, structure in enumerate(structures):
            for number in range(1 + (index % 3 == 0) + (index % 7 == 0)):
                name, insee, postcode = COMMUNES[(index + 5 * number) % len(COMMUNES)]
                places.append(
                    Place(
                        structure=structure,
                        name=f"{structure.name} — lieu {number + 1}",
                        address=f"{number + 1} place de la Mairie",
                        postcode=postcode,
                        commune=name,
                        insee_code=insee,
                        is_qpv=rng.random() < 0.2,
                        is_rural=rng.random() < 0.3,
                    )
                )
        Place.objects.bulk_create(places, batch_size=BATCH)
        # Some structures are busier than others, and have more mediators: about ten
        # sessions a day each.
        weights = [1 / (index + 1) ** 0.6 for index in range(len(structures))]
        rng.shuffle(weights)
        per_day = self.sessions / (self.years * 365 * 5 / 7)
        team_sizes = [
            max(1, round(per_day * weight / sum(weights) / SESSIONS_PER_MEDIATOR_DAY))
            for weight in weights
        ]
        password = make_password(None)
        users = [
            User(
                email=f"{self.prefix}-mediateur-{index}-{number}@exemple.invalid",
                first_name=synthetic.FIRST_NAMES[(index + number) % len(synthetic.FIRST_NAMES)],
                last_name=synthetic.LAST_NAMES[(3 * index + number) % len(synthetic.LAST_NAMES)],
                password=password,
            )
            for index, size in enumerate(team_sizes)
            for number in range(size)
        ]
        User.objects.bulk_create(users, batch_size=BATCH)
        memberships, motifs = [], []
        by_structure = {s.pk: {"places": [], "mediators": []} for s in structures}
        users_iter = iter(users)
        for structure, size in zip(structures, team_sizes, strict=True):
            for _number in range(size):
                user = next(users_iter)
                memberships.append(Membership(user=user, structure=structure, role=Role.MEDIATOR))
                by_structure[structure.pk]["mediators"].append(user.pk)
            motifs.append(Motif(structure=structure, name=synthetic.ONLINE_PROCEDURES.name))
        Membership.objects.bulk_create(memberships, batch_size=BATCH)
        Motif.objects.bulk_create(motifs, batch_size=BATCH)
        for place in places:
            by_structure[place.structure_id]["places"].append(place)
        for motif in motifs:
            by_structure[motif.structure_id]["motif"] = motif.pk
        self.structures = []
        for structure, weight in zip(structures, weights, strict=True):
            info = by_structure[structure.pk]
            info.update(pk=structure.pk, weight=weight)
            info["home"] = info["places"][0].insee_code
            self.structures.append(info)
        self.pick_structure = Picker([(info, info["weight"]) for info in self.structures])

    # --- Residents -------------------------------------------------------------------------

    def write_residents(self) -> None:
        rng = self.rng
        columns = [
            "id",
            "structure_id",
            "first_name",
            "last_name",
            "search_name",
            "birth_year",
            "age_band",
            "gender",
            "status",
            "commune_insee",
            "shared_with_network",
            "created_at",
            "last_contact_at",
        ]
        writer = self.writer(Resident, columns)
        year = self.today.year
        span = self.years * 365 * 86400
        start_of_data = self.now - timedelta(days=self.years * 365)
        total_weight = sum(info["weight"] for info in self.structures)
        with writing() as reserve:
            ids = reserve(Resident, self.residents)
            self.resident_bounds = (min(ids), max(ids) + 1)
            next_index, remaining = 0, self.residents
            for number, info in enumerate(self.structures):
                count = (
                    remaining
                    if number == len(self.structures) - 1
                    else min(
                        remaining, max(1, round(self.residents * info["weight"] / total_weight))
                    )
                )
                info["residents"] = ids[next_index : next_index + count]
                next_index += count
                remaining -= count
            if remaining:
                raise GenerationError("Pas assez d'usagers pour toutes les structures.")

            def rows(info):
                for resident_id in info["residents"]:
                    first_name, last_name = synthetic.draw_name(rng)
                    birth_year, age_band, status = synthetic.draw_profile(rng, year)
                    created = start_of_data + timedelta(seconds=rng.randrange(span))
                    commune = synthetic.draw_commune(rng, info["home"], COMMUNE_CODES)
                    gender = synthetic.draw_gender(rng)
                    yield (
                        resident_id,
                        info["pk"],
                        first_name,
                        last_name,
                        fold_name(first_name, last_name),
                        birth_year,
                        str(age_band),
                        str(gender),
                        str(status),
                        commune,
                        rng.random() < 0.2,
                        created,
                        created,
                    )

            for info in self.structures:
                writer.write(rows(info))

    # --- Sessions --------------------------------------------------------------------------

    def write_sessions(self) -> None:
        days = self.years * 365
        first = self.today - timedelta(days=days)
        weights = day_weights(first, days)
        cumulative = list(accumulate(weights))
        total = cumulative[-1]
        counts, done = [], 0
        for value in cumulative:
            target = round(self.sessions * value / total)
            counts.append(target - done)
            done = target
        # On PostgreSQL a chunk is written by a second thread (its own connection) while
        # this one generates the next: the database's work (COPY, foreign-key checks,
        # commit) overlaps Python's. Not inside a transaction (a test's): the other
        # connection would not see its rows.
        pool = None
        if connection.vendor == "postgresql" and not connection.in_atomic_block:
            pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="generate_activity")
        pending = None
        chunk = _Chunk(self)
        reported = 0
        try:
            for offset, count in enumerate(counts):
                if count:
                    chunk.add_day(first + timedelta(days=offset), count)
                if len(chunk.sessions) >= self.chunk or offset == days - 1:
                    if pending is not None:
                        pending.result()  # at most one chunk in flight: memory stays flat
                    pending = pool.submit(chunk.flush) if pool else chunk.flush()
                    chunk = _Chunk(self)
                    generated = sum(counts[: offset + 1])
                    if generated - reported >= max(self.sessions // 10, 1) or offset == days - 1:
                        reported = generated
                        self.out(f"  {generated:>10,} séances".replace(",", " "))
            if pending is not None:
                pending.result()
        finally:
            if pool is not None:
                # The connection of the writing thread (`connection` is per thread).
                pool.submit(lambda: connection.close()).result()
                pool.shutdown()

    def update_last_contact(self) -> None:
        """A resident's last contact is their last session (retention counts from it)."""
        quote = connection.ops.quote_name
        low, high = self.resident_bounds
        participants = HelpSession.participants.through._meta.db_table
        # Noon on the day of the last session (UTC), as the services record a past day.
        moment = (
            "m.last + TIME '12:00'"
            if connection.vendor == "postgresql"
            else "m.last || ' 12:00:00'"
        )
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"""
                UPDATE {quote(Resident._meta.db_table)} AS r SET last_contact_at = {moment}
                FROM (
                    SELECT resident_id, MAX(date) AS last FROM (
                        SELECT resident_id, date FROM {quote(HelpSession._meta.db_table)}
                        WHERE resident_id >= %s AND resident_id < %s
                        UNION ALL
                        SELECT p.resident_id, s.date FROM {quote(participants)} p
                        JOIN {quote(HelpSession._meta.db_table)} s ON s.id = p.helpsession_id
                        WHERE p.resident_id >= %s AND p.resident_id < %s
                    ) contacts GROUP BY resident_id
                ) m
                WHERE r.id = m.resident_id
                """,
                [low, high, low, high],
            )

    def analyze(self) -> None:
        """Statistics for the planner, and on PostgreSQL the visibility map that index-only
        scans need (what autovacuum would do a little later)."""
        quote = connection.ops.quote_name
        models_written = {model for model, _columns in self.writers}
        models_written |= {Structure, Place, Membership, Motif}
        tables = sorted(model._meta.db_table for model in models_written)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # VACUUM cannot run in a transaction (a test's, a caller's atomic block).
                command = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
                for table in tables:
                    cursor.execute(f"{command} {quote(table)}")
            else:
                cursor.execute("ANALYZE")

    def run(self) -> dict[str, int]:
        self.reference()
        self.write_residents()
        self.write_sessions()
        self.update_last_contact()
        self.analyze()
        totals: Counter = Counter()
        for (model, _columns), writer in self.writers.items():
            totals[model._meta.db_table] += writer.count
        return totals


class _Chunk:
    """The rows of a few days of activity, written together in one transaction.

    Rows refer to each other by their index in the chunk (negative for the anonymous
    residents created on the way); `flush` reserves the ids and writes them."""

    def __init__(self, generator: Generator):
        self.g = generator
        self.sessions = []
        self.tags = []
        self.counts = []
        self.participants = []
        self.anonymous = []
        self.slots = []
        self.appointments = []
        self.cases = []
        self.events = []

    def add_day(self, day: date, count: int) -> None:
        g, rng = self.g, self.g.rng
        next_slot = Counter()
        evening = datetime.combine(day, time(17), tzinfo=PARIS)
        for _ in range(count):
            info = g.pick_structure(rng)
            mediator = info["mediators"][rng.randrange(len(info["mediators"]))]
            residents = info["residents"]
            collective = rng.random() < SHARE_COLLECTIVE
            index = len(self.sessions)
            place_type = PICK_PLACE_TYPE(rng)
            place = info["places"][rng.randrange(len(info["places"]))]
            other_commune = ""
            if collective:
                place_type = PlaceType.PLACE
            if place_type == PlaceType.OTHER:
                other_commune = COMMUNE_CODES[rng.randrange(len(COMMUNE_CODES))]
            place_id = place.pk if place_type == PlaceType.PLACE else None
            title = level = ""
            resident = appointment = case = None
            if collective:
                workshop = synthetic.draw_workshop(rng)
                title, level, themes = workshop.title, workshop.level, {workshop.theme}
                duration = PICK_WORKSHOP_DURATION(rng)
                people = self._workshop(index, residents)
            else:
                people = 1
                duration = synthetic.draw_duration(rng)
                themes = synthetic.draw_themes(rng)
                if rng.random() < SHARE_ANONYMOUS:
                    resident = -1 - len(self.anonymous)
                    self.anonymous.append(
                        (
                            info["pk"],
                            *map(str, synthetic.draw_anonymous(rng, info["home"])),
                            evening,
                        )
                    )
                else:
                    resident = synthetic.draw_regular(rng, residents)
            autonomy, outcome, redirected_to = synthetic.draw_assessment(rng, collective=collective)
            for code in themes:
                self.tags.append((index, TagDimension.THEME.value, str(code)))
            procedures = []
            if Theme.DEMARCHES_ADMINISTRATIVES in themes:
                procedures = synthetic.draw_areas(rng)
                for code in procedures:
                    self.tags.append((index, TagDimension.PROCEDURE.value, str(code)))
            equipment = synthetic.draw_equipment(rng)
            for code in equipment:
                self.tags.append((index, TagDimension.EQUIPMENT.value, str(code)))
            if resident is not None and resident >= 0:
                draw = rng.random()
                if draw < SHARE_FROM_APPOINTMENT and place_type != PlaceType.HOME:
                    appointment = self._appointment(
                        day, info, place, mediator, resident, AppointmentStatus.SEEN, next_slot
                    )
                if rng.random() < SHARE_OTHER_APPOINTMENT:
                    status = synthetic.draw_unseen_status(rng)
                    other = residents[rng.randrange(len(residents))]
                    self._appointment(day, info, place, mediator, other, status, next_slot)
                if procedures and rng.random() < SHARE_CASE:
                    case = self._case(day, info, mediator, resident, procedures[0], evening)
            self.sessions.append(
                [
                    info["pk"],
                    place_id,
                    mediator,
                    mediator,
                    SessionKind.COLLECTIVE.value if collective else SessionKind.INDIVIDUAL.value,
                    day,
                    duration,
                    str(place_type),
                    other_commune,
                    resident,
                    people,
                    appointment,
                    case,
                    str(autonomy),
                    synthetic.draw_on_behalf(rng),
                    str(outcome),
                    str(redirected_to),
                    title,
                    str(level),
                    evening,
                    evening,  # updated_at: never changed since
                    day,  # report_date: every generated session is entered on time
                ]
            )

    def _workshop(self, index: int, residents) -> int:
        rng = self.g.rng
        named = {residents[rng.randrange(len(residents))] for _ in range(rng.randrange(4))}
        for resident in named:
            self.participants.append((index, resident))
        anonymous = rng.randint(0 if named else 1, 12)
        if anonymous:
            for dimension, code, n in synthetic.draw_participant_counts(rng, anonymous):
                self.counts.append((index, dimension, code, n))
        return len(named) + anonymous

    def _appointment(self, day, info, place, mediator, resident, status, next_slot):
        """A booked slot and its appointment; None when the mediator's day is full."""
        rng = self.g.rng
        number = next_slot[mediator]
        if number >= SLOTS_PER_DAY:
            return None
        next_slot[mediator] += 1
        tz = zoneinfo.ZoneInfo(place.time_zone)
        starts = datetime.combine(day, time(9), tzinfo=tz) + timedelta(minutes=40 * number)
        ends = starts + timedelta(minutes=30)
        cancelled = status in (
            AppointmentStatus.CANCELLED_BY_RESIDENT,
            AppointmentStatus.CANCELLED_BY_STAFF,
        )
        index = len(self.appointments)
        self.slots.append(
            (
                place.pk,
                info["motif"],
                mediator,
                starts,
                ends,
                1,
                0 if cancelled else 1,
                not cancelled,
            )
        )
        booked = starts - timedelta(days=rng.randint(1, 20), hours=rng.randint(0, 8))
        self.appointments.append(
            (
                place.pk,
                info["motif"],
                mediator,
                resident,
                index,
                starts,
                ends,
                str(status),
                secrets.token_urlsafe(24),
                synthetic.draw_booked_online(rng),
                booked,
                starts - timedelta(days=1) if cancelled else None,
            )
        )
        return index

    def _case(self, day, info, mediator, resident, area, moment) -> int:
        rng = self.g.rng
        status = synthetic.PICK_CASE_STATUS(rng)
        index = len(self.cases)
        changed = moment + timedelta(days=rng.randint(0, 30))
        self.cases.append(
            (
                info["pk"],
                resident,
                str(area),
                f"Démarche {ProcedureArea(area).label}"[:150],
                str(status),
                None if status in CLOSED_CASE_STATUSES else day + timedelta(days=14),
                mediator,
                moment,
                changed,
                changed if status in CLOSED_CASE_STATUSES else None,
            )
        )
        self.events.append((index, moment, mediator, "", "open", "Ouverture du dossier."))
        if status != CaseStatus.OPEN:
            self.events.append((index, changed, mediator, "open", str(status), "Suivi du dossier."))
        return index

    def flush(self) -> None:
        if not self.sessions:
            return
        g = self.g
        with writing() as reserve:
            anonymous_ids = reserve(Resident, len(self.anonymous))
            slot_ids = reserve(Slot, len(self.slots))
            appointment_ids = reserve(Appointment, len(self.appointments))
            case_ids = reserve(Case, len(self.cases))
            session_ids = reserve(HelpSession, len(self.sessions))
            g.writer(
                Resident,
                [
                    "id",
                    "structure_id",
                    "is_anonymous",
                    "age_band",
                    "gender",
                    "status",
                    "commune_insee",
                    "created_at",
                    "last_contact_at",
                ],
            ).write(
                (anonymous_ids[i], s, True, a, gd, st, c, at, at)
                for i, (s, a, gd, st, c, at) in enumerate(self.anonymous)
            )
            g.writer(
                Slot,
                [
                    "id",
                    "place_id",
                    "motif_id",
                    "mediator_id",
                    "starts_at",
                    "ends_at",
                    "capacity",
                    "seats_taken",
                    "is_active",
                ],
            ).write((slot_ids[i], *row) for i, row in enumerate(self.slots))
            g.writer(
                Appointment,
                [
                    "id",
                    "place_id",
                    "motif_id",
                    "mediator_id",
                    "resident_id",
                    "slot_id",
                    "starts_at",
                    "ends_at",
                    "status",
                    "token",
                    "booked_online",
                    "created_at",
                    "cancelled_at",
                ],
            ).write(
                (appointment_ids[i], *row[:4], slot_ids[row[4]], *row[5:])
                for i, row in enumerate(self.appointments)
            )
            g.writer(
                Case,
                [
                    "id",
                    "structure_id",
                    "resident_id",
                    "procedure_area",
                    "title",
                    "status",
                    "next_action_on",
                    "mediator_id",
                    "opened_at",
                    "status_changed_at",
                    "closed_at",
                ],
            ).write((case_ids[i], *row) for i, row in enumerate(self.cases))
            g.writer(
                CaseEvent,
                ["case_id", "at", "by_id", "from_status", "to_status", "comment"],
            ).write((case_ids[row[0]], *row[1:]) for row in self.events)
            for i, row in enumerate(self.sessions):
                resident, appointment, case = row[9], row[11], row[12]
                if resident is not None and resident < 0:
                    row[9] = anonymous_ids[-1 - resident]
                if appointment is not None:
                    row[11] = appointment_ids[appointment]
                if case is not None:
                    row[12] = case_ids[case]
                row.insert(0, session_ids[i])
            g.writer(HelpSession, SESSION_COLUMNS).write(tuple(row) for row in self.sessions)
            g.writer(SessionTag, ["session_id", "dimension", "code"]).write(
                (session_ids[i], dimension, code) for i, dimension, code in self.tags
            )
            g.writer(ParticipantCount, ["session_id", "dimension", "code", "count"]).write(
                (session_ids[i], dimension, code, n) for i, dimension, code, n in self.counts
            )
            g.writer(HelpSession.participants.through, ["helpsession_id", "resident_id"]).write(
                (session_ids[i], resident) for i, resident in self.participants
            )


SESSION_COLUMNS = [
    "id",
    "structure_id",
    "place_id",
    "mediator_id",
    "created_by_id",
    "kind",
    "date",
    "duration_minutes",
    "place_type",
    "other_commune_insee",
    "resident_id",
    "people_count",
    "appointment_id",
    "case_id",
    "autonomy",
    "done_on_behalf",
    "outcome",
    "redirected_to",
    "title",
    "level",
    "created_at",
    "updated_at",
    "report_date",
]


def _number(value: float) -> str:
    return f"{value:,.0f}".replace(",", " ")


def generate_activity(
    *,
    sessions: int,
    structures: int,
    residents: int | None = None,
    seed: int = 0,
    years: int = 2,
    prefix: str = "activite",
    chunk: int = 20000,
    out: Callable[[str], object] | None = print,
) -> dict[str, int]:
    """Generate a network `prefix` of `structures` structures and `sessions` sessions over the
    last `years` years (the script's options, as keywords); returns the rows written per table.
    `out` gets the progress and the summary, line by line (None: silent). Raises
    `GenerationError` for options it cannot honour (a network `prefix` already there…)."""
    say = out or (lambda _line: None)
    residents = residents or max(structures, sessions // 4)
    if sessions < 1 or structures < 1:
        raise GenerationError("--sessions et --structures doivent être positifs.")
    if residents < structures:
        raise GenerationError("Il faut au moins un usager par structure (--residents).")
    if years < 1:
        raise GenerationError("--years doit être positif.")
    started = clock.perf_counter()
    generator = Generator(
        sessions=sessions,
        structures=structures,
        residents=residents,
        seed=seed,
        years=years,
        prefix=prefix,
        chunk=max(1000, chunk),
        out=say,
    )
    totals = generator.run()
    elapsed = clock.perf_counter() - started
    rows = sum(totals.values())
    for table, count in sorted(totals.items()):
        say(f"  {table:<36} {_number(count):>12} lignes")
    say(
        f"Réseau « {generator.network.slug} » : {_number(sessions)} séances, "
        f"{_number(rows)} lignes en {elapsed:.1f} s ({_number(rows / elapsed)} lignes/s, "
        f"{_number(sessions / elapsed)} séances/s)."
    )
    return dict(totals)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="Génère une activité synthétique réaliste (structures d'un réseau, lieux, "
        "usagers, accompagnements sur deux ans, ateliers, rendez-vous, dossiers) pour les tests "
        "de charge. Base de développement ou de test uniquement."
    )
    parser.add_argument("--sessions", type=int, required=True, help="Nombre de séances.")
    parser.add_argument("--structures", type=int, required=True, help="Nombre de structures.")
    parser.add_argument(
        "--residents", type=int, help="Nombre d'usagers suivis (défaut : séances / 4)."
    )
    parser.add_argument("--seed", type=int, default=0, help="Graine du hasard (défaut 0).")
    parser.add_argument("--years", type=int, default=2, help="Années d'activité (défaut 2).")
    parser.add_argument(
        "--prefix",
        default="activite",
        help="Identifiant du réseau créé, préfixe des structures (défaut « activite »).",
    )
    parser.add_argument("--chunk", type=int, default=20000, help="Séances écrites par transaction.")
    options = parser.parse_args(argv)
    try:
        generate_activity(**vars(options), out=lambda line: print(line, flush=True))
    except GenerationError as error:
        parser.exit(1, f"{error}\n")


if __name__ == "__main__":
    main()
