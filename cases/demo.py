"""Demo data of the activity log: a year of help sessions and cases for every demo structure
(see mediation.demo). Runs after the bookings step, whose appointments it uses: most "seen"
appointments of the past weeks have their session, the workshop appointments become workshops.

Idempotent: a structure that already has sessions keeps its data. Written with bulk_create
(with their history rows) so that the whole `seed_demo` stays fast."""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from itertools import accumulate

from django.utils import timezone

from bookings.choices import AppointmentStatus
from bookings.holidays import closed_days
from bookings.models import Appointment, OpeningHours
from cases.choices import (
    CASE_TRANSITIONS,
    CLOSED_CASE_STATUSES,
    Autonomy,
    CaseStatus,
    CountDimension,
    Equipment,
    Outcome,
    PlaceType,
    ProcedureArea,
    RedirectedTo,
    SessionKind,
    TagDimension,
    Theme,
    WorkshopLevel,
)
from cases.models import Case, CaseEvent, HelpSession, ParticipantCount, SessionTag
from mediation.choices import AgeBand, Gender, ResidentStatus, Role, age_band_for
from mediation.demo import FIRST_NAMES, LAST_NAMES, register_demo_step
from mediation.models import Membership, Resident, User, fold_name

DAYS = 364
#: Named residents added to the 30 of the base demo, per mediator of the structure.
EXTRA_RESIDENTS_PER_MEDIATOR = 60
ANONYMOUS_SHARE = 0.12
#: Share of the past "seen" appointments whose session was logged (the rest wait for
#: "Terminer et saisir" in the agenda).
LOGGED_APPOINTMENTS = 0.85

T = Theme
A = ProcedureArea

THEMES = [
    (T.DEMARCHES_ADMINISTRATIVES, 40),
    (T.EMAIL, 10),
    (T.PRISE_EN_MAIN_MATERIEL, 9),
    (T.NAVIGATION_INTERNET, 8),
    (T.SECURITE_NUMERIQUE, 5),
    (T.SANTE, 5),
    (T.BANQUE_ACHATS_EN_LIGNE, 4),
    (T.BUREAUTIQUE, 4),
    (T.INSERTION_PROFESSIONNELLE, 4),
    (T.CONTENUS_NUMERIQUES, 3),
    (T.DIAGNOSTIC_NUMERIQUE, 3),
    (T.RESEAUX_SOCIAUX, 2),
    (T.MAINTENANCE_MATERIEL, 2),
    (T.SCOLARITE, 2),
    (T.PARENTALITE, 1),
    (T.CULTURE_NUMERIQUE, 1),
    (T.CREER_AVEC_NUMERIQUE, 1),
    (T.INTELLIGENCE_ARTIFICIELLE, 1),
    (T.ACCOMPAGNER_PROFESSIONNEL, 1),
]
AREAS = [
    (A.SOCIAL_SANTE, 16),
    (A.ARGENT_IMPOTS, 15),
    (A.FAMILLE_SCOLARITE, 14),
    (A.PAPIERS_CITOYENNETE, 13),
    (A.RETRAITE, 11),
    (A.TRAVAIL_FORMATION, 10),
    (A.LOGEMENT, 9),
    (A.TRANSPORTS_MOBILITE, 6),
    (A.ETRANGERS_EUROPE, 3),
    (A.JUSTICE, 1),
    (A.LOISIRS_SPORT_CULTURE, 1),
    (A.ASSOCIATIONS, 1),
]
DURATIONS = [(15, 10), (30, 35), (45, 25), (60, 20), (90, 7), (120, 3)]
EQUIPMENT = [
    (Equipment.COMPUTER, 45),
    (Equipment.PHONE, 38),
    (Equipment.TABLET, 8),
    (Equipment.NONE, 6),
    (Equipment.OTHER, 3),
]
OUTCOMES = [
    (Outcome.RESOLVED, 55),
    (Outcome.TO_FOLLOW_UP, 20),
    (Outcome.RESIDENT_TO_FINISH, 15),
    (Outcome.REDIRECTED, 10),
]
REDIRECTIONS = [
    (RedirectedTo.OPERATEUR, 35),
    (RedirectedTo.AIDE_SOCIALE, 25),
    (RedirectedTo.FRANCE_SERVICES, 15),
    (RedirectedTo.ADMINISTRATION, 10),
    (RedirectedTo.INSERTION_PROFESSIONNELLE, 8),
    (RedirectedTo.MEDIATION_NUMERIQUE, 5),
    (RedirectedTo.OTHER, 2),
]
AUTONOMY = [
    (Autonomy.FULLY_ASSISTED, 40),
    (Autonomy.PARTLY_AUTONOMOUS, 40),
    (Autonomy.AUTONOMOUS, 20),
]
PLACE_TYPES = [
    (PlaceType.PLACE, 88),
    (PlaceType.REMOTE, 8),
    (PlaceType.HOME, 3),
    (PlaceType.OTHER, 1),
]

#: Per procedure area: titles of cases, which double as the precision of a session.
CASE_TITLES = {
    A.PAPIERS_CITOYENNETE: [
        "Renouvellement carte d'identité",
        "Demande de passeport",
        "Permis de conduire (ANTS)",
        "Inscription sur les listes électorales",
    ],
    A.FAMILLE_SCOLARITE: [
        "Prime d'activité",
        "Déclaration de grossesse à la CAF",
        "Inscription à la cantine (EduConnect)",
        "Demande de RSA",
    ],
    A.SOCIAL_SANTE: [
        "Créer un compte Ameli",
        "Complémentaire santé solidaire",
        "Carte Vitale perdue",
        "Attestation de droits Ameli",
    ],
    A.TRAVAIL_FORMATION: [
        "Inscription France Travail",
        "Actualisation France Travail",
        "Mon compte formation",
        "CV et candidature en ligne",
    ],
    A.RETRAITE: [
        "Ouverture droits retraite",
        "Demande de retraite en ligne",
        "Relevé de carrière incomplet",
        "Retraite complémentaire Agirc-Arrco",
    ],
    A.LOGEMENT: [
        "Demande d'APL",
        "Demande de logement social",
        "Résiliation et ouverture de compteur",
    ],
    A.TRANSPORTS_MOBILITE: [
        "Carte grise : changement d'adresse",
        "Contestation d'un avis de contravention",
        "Achat d'un véhicule d'occasion",
    ],
    A.ARGENT_IMPOTS: [
        "Déclaration de revenus",
        "Chèque énergie",
        "Créer son espace impots.gouv",
        "Taxe foncière : réclamation",
    ],
    A.ETRANGERS_EUROPE: [
        "Renouvellement titre de séjour (ANEF)",
        "Demande de naturalisation",
    ],
    A.JUSTICE: ["Demande d'aide juridictionnelle"],
    A.LOISIRS_SPORT_CULTURE: ["Pass'Sport et inscription au club"],
    A.ASSOCIATIONS: ["Création d'association (Le Compte Asso)"],
}

#: The bookings demo's needs and motifs, read as procedure areas.
NEED_AREAS = {
    "Déclaration de revenus": A.ARGENT_IMPOTS,
    "Renouvellement carte d'identité": A.PAPIERS_CITOYENNETE,
    "Prime d'activité": A.FAMILLE_SCOLARITE,
    "Dossier de retraite": A.RETRAITE,
    "Créer un compte Ameli": A.SOCIAL_SANTE,
    "Inscription France Travail": A.TRAVAIL_FORMATION,
    "Carte grise": A.TRANSPORTS_MOBILITE,
    "Chèque énergie": A.ARGENT_IMPOTS,
}
MOTIF_AREAS = {
    "Dossier CAF, retraite ou santé": [A.FAMILLE_SCOLARITE, A.RETRAITE, A.SOCIAL_SANTE],
}

WORKSHOPS = [
    ("Atelier smartphone débutant", WorkshopLevel.BEGINNER, [T.PRISE_EN_MAIN_MATERIEL], 120),
    ("Envoyer une pièce jointe par e-mail", WorkshopLevel.BEGINNER, [T.EMAIL], 90),
    ("Arnaques en ligne : les repérer", WorkshopLevel.INTERMEDIATE, [T.SECURITE_NUMERIQUE], 90),
    (
        "Mes démarches avec FranceConnect",
        WorkshopLevel.INTERMEDIATE,
        [T.DEMARCHES_ADMINISTRATIVES],
        120,
    ),
    (
        "Découvrir l'intelligence artificielle",
        WorkshopLevel.BEGINNER,
        [T.INTELLIGENCE_ARTIFICIELLE, T.CULTURE_NUMERIQUE],
        90,
    ),
    ("Garder le contact en visio", WorkshopLevel.BEGINNER, [T.RESEAUX_SOCIAUX], 90),
    ("Classer ses photos et documents", WorkshopLevel.INTERMEDIATE, [T.CONTENUS_NUMERIQUES], 90),
]
WORKSHOP_MOTIF = "Atelier smartphone débutant"

S = CaseStatus
#: Next status of a case in the demo, by current status (weights); checked against the table.
CASE_PATHS = {
    S.OPEN: [(S.IN_PROGRESS, 60), (S.WAITING_RESIDENT, 20), (S.WAITING_ADMINISTRATION, 15)]
    + [(S.REDIRECTED, 5)],
    S.IN_PROGRESS: [(S.WAITING_ADMINISTRATION, 40), (S.WAITING_RESIDENT, 25), (S.RESOLVED, 30)]
    + [(S.ABANDONED, 5)],
    S.WAITING_RESIDENT: [(S.IN_PROGRESS, 70), (S.ABANDONED, 20), (S.RESOLVED, 10)],
    S.WAITING_ADMINISTRATION: [(S.RESOLVED, 60), (S.IN_PROGRESS, 30), (S.WAITING_RESIDENT, 10)],
}
#: Days a case keeps a status before the next change (min, max).
CASE_DELAYS = {
    S.OPEN: (0, 4),
    S.IN_PROGRESS: (2, 15),
    S.WAITING_RESIDENT: (5, 30),
    S.WAITING_ADMINISTRATION: (7, 45),
}
COMMENTS = {
    S.OPEN: [
        "Première visite : liste des pièces à réunir remise à l'usager.",
        "Besoin identifié lors de l'accueil, rendez-vous de suivi proposé.",
    ],
    S.IN_PROGRESS: [
        "Pièces réunies, demande commencée en ligne.",
        "L'usager est revenu avec les justificatifs : on reprend la démarche.",
        "Compte créé, reste à compléter le formulaire.",
    ],
    S.WAITING_RESIDENT: [
        "En attente du justificatif de domicile de l'usager.",
        "L'usager doit retrouver son dernier avis d'imposition.",
        "L'usager doit activer son compte avec le code reçu par courrier.",
    ],
    S.WAITING_ADMINISTRATION: [
        "Demande déposée, en attente de la réponse de l'organisme.",
        "Dossier transmis, délai de traitement annoncé de trois semaines.",
    ],
    S.RESOLVED: [
        "Démarche aboutie : confirmation reçue.",
        "Droits ouverts, l'usager a reçu son attestation.",
    ],
    S.ABANDONED: [
        "L'usager ne souhaite pas poursuivre pour l'instant.",
        "Sans nouvelles de l'usager malgré deux relances.",
    ],
    S.REDIRECTED: [
        "Orienté vers l'assistante sociale du CCAS.",
        "Orienté vers France Services pour un rendez-vous avec l'opérateur.",
    ],
}


def _pick(rng: random.Random, weighted):
    values, weights = zip(*weighted, strict=True)
    return rng.choices(values, weights=weights)[0]


def _pick_distinct(rng: random.Random, weighted, count: int) -> list:
    chosen = []
    pool = list(weighted)
    for _ in range(min(count, len(pool))):
        value = _pick(rng, pool)
        chosen.append(value)
        pool = [(v, w) for v, w in pool if v != value]
    return chosen


@dataclass
class Plan:
    """What one structure's year is made of, before it is written in bulk."""

    structure: object
    tz: object
    now: datetime
    today: date
    rng: random.Random
    sessions: list = field(default_factory=list)
    tags: list = field(default_factory=list)  # (session, dimension, code)
    participants: list = field(default_factory=list)  # (session, resident)
    counts: list = field(default_factory=list)  # (session, dimension, code, count)
    anonymous: list = field(default_factory=list)  # (session, Resident) to create first
    cases: list = field(default_factory=list)
    events: list = field(default_factory=list)  # (case, CaseEvent)
    contacts: dict = field(default_factory=dict)  # resident id → [first, last] moment
    insee_codes: list = field(default_factory=list)

    def at(self, day: date, hour: int, minute: int = 0) -> datetime:
        moment = datetime.combine(day, time(hour, minute), tzinfo=self.tz)
        return min(moment, self.now)


@register_demo_step
def seed_cases(context: dict) -> None:
    now = timezone.now()
    for slug, structure in context["structures"].items():
        if HelpSession.objects.filter(structure=structure).exists():
            continue
        places = context["places"][slug]
        if places:
            _seed_structure(structure, places, now=now, rng=random.Random(f"cases:{slug}"))


def _seed_structure(structure, places, *, now: datetime, rng: random.Random) -> None:
    tz = places[0].tzinfo
    today = timezone.localdate(now, timezone=tz)
    plan = Plan(
        structure=structure,
        tz=tz,
        now=now,
        today=today,
        rng=rng,
        insee_codes=[p.insee_code for p in places] * 4 + ["35238", "35047"],
    )
    first_day = today - timedelta(days=DAYS)
    mediator_ids = list(
        Membership.objects.filter(structure=structure, role=Role.MEDIATOR)
        .order_by("user_id")
        .values_list("user_id", flat=True)
    )
    if not mediator_ids:
        return
    workdays = _workdays(structure, places, mediator_ids)
    holidays = closed_days(places[0], first_day, today)
    pool = _resident_pool(
        structure, places, rng, extra=EXTRA_RESIDENTS_PER_MEDIATOR * len(mediator_ids)
    )
    cum_weights = list(accumulate(1 / (index + 1) ** 0.7 for index in range(len(pool))))

    window_start = _log_appointments(plan, places, pool)
    _workshops(plan, places[0], mediator_ids[0], pool, first_day, window_start, holidays)
    for mediator_id in mediator_ids:
        days, place = workdays[mediator_id]
        weekly = rng.randint(8, 12)
        per_day = min(weekly / len(days), 7)
        day = first_day
        while day < today:
            if day.weekday() in days and day not in holidays and not _closed_for_summer(day, tz):
                if day >= window_start:
                    count = rng.choice([0, 1, 1, 2])  # walk-ins between appointments
                else:
                    count = max(0, round(rng.gauss(per_day * _season(day), 1.2)))
                for _ in range(count):
                    resident = (
                        None
                        if rng.random() < ANONYMOUS_SHARE
                        else rng.choices(pool, cum_weights=cum_weights)[0]
                    )
                    _individual(
                        plan, day=day, mediator_id=mediator_id, place=place, resident=resident
                    )
            day += timedelta(days=1)
        for _ in range(rng.randint(16, 26)):
            resident = rng.choices(pool, cum_weights=cum_weights)[0]
            _case(
                plan, resident=resident, mediator_id=mediator_id, place=place, first_day=first_day
            )
    _write(plan, pool)


def _workdays(structure, places, mediator_ids) -> dict[int, tuple[set[int], object]]:
    """Weekdays and place of each mediator, from the opening hours of the bookings demo."""
    found: dict[int, tuple[set[int], object]] = {}
    by_pk = {place.pk: place for place in places}
    hours = OpeningHours.objects.filter(place__structure=structure, mediator_id__in=mediator_ids)
    for entry in hours.order_by("pk"):
        weekdays = {d for d in entry.weekdays if d < 5}
        if not weekdays:
            continue  # the Saturday workshops
        days, place = found.get(entry.mediator_id, (set(), by_pk.get(entry.place_id)))
        found[entry.mediator_id] = (days | weekdays, place or places[0])
    for index, mediator_id in enumerate(mediator_ids):
        found.setdefault(mediator_id, ({1, 2, 3}, places[index % len(places)]))
    return found


def _closed_for_summer(day: date, tz) -> bool:
    # Metropolitan desks close for the first fortnight of August.
    return str(tz) == "Europe/Paris" and day.month == 8 and day.day <= 15


def _season(day: date) -> float:
    # Income tax returns in spring, quieter summer and Christmas.
    return {4: 1.25, 5: 1.3, 6: 1.1, 7: 0.8, 8: 0.6, 12: 0.8}.get(day.month, 1.0)


def _resident_pool(structure, places, rng: random.Random, *, extra: int) -> list[Resident]:
    """The structure's named residents, with `extra` more of them for a year of activity."""
    existing = list(Resident.objects.filter(structure=structure, is_anonymous=False).order_by("pk"))
    taken = {(r.first_name, r.last_name) for r in existing}
    candidates = [(first, last) for first in FIRST_NAMES for last in LAST_NAMES] + [
        (first, f"{last}-{other}")
        for first in FIRST_NAMES
        for last in LAST_NAMES[:8]
        for other in LAST_NAMES[-4:]
        if other != last
    ]
    rng.shuffle(candidates)
    insee_codes = [p.insee_code for p in places] * 4 + ["35238", "35047", "97411"]
    reunion = places[0].time_zone != "Europe/Paris"
    now = timezone.now()
    year = timezone.localdate().year
    new = []
    for first, last in candidates:
        if len(new) >= extra:
            break
        if (first, last) in taken:
            continue
        taken.add((first, last))
        birth_year = rng.choice([None, None, *range(1938, 2008)])
        phone = (
            f"+262 692 {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)}"
            if reunion
            else f"+33 6 {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)} "
            f"{rng.randint(10, 99)}"
        )
        new.append(
            Resident(
                structure=structure,
                first_name=first,
                last_name=last,
                search_name=fold_name(first, last),  # bulk_create skips save()
                birth_year=birth_year,
                age_band=age_band_for(birth_year, year),
                gender=rng.choice([Gender.FEMALE, Gender.FEMALE, Gender.MALE, Gender.NOT_GIVEN]),
                status=_pick(
                    rng,
                    [
                        (ResidentStatus.RETIRED, 35),
                        (ResidentStatus.UNEMPLOYED, 25),
                        (ResidentStatus.EMPLOYED, 20),
                        (ResidentStatus.IN_SCHOOL, 5),
                        (ResidentStatus.NOT_GIVEN, 15),
                    ],
                ),
                commune_insee=rng.choice(insee_codes),
                phone=phone if rng.random() < 0.8 else "",
                # Moved back to the first session once the year is planned.
                created_at=now - timedelta(days=rng.randint(30, 400)),
            )
        )
    Resident.objects.bulk_create(new)
    pool = existing + new
    rng.shuffle(pool)  # who comes most often
    return pool


def _anonymous_resident(plan: Plan, session: HelpSession) -> None:
    rng = plan.rng
    resident = Resident(
        structure=plan.structure,
        is_anonymous=True,
        age_band=_pick(
            rng,
            [
                (AgeBand.FROM_60_TO_69, 22),
                (AgeBand.OVER_70, 20),
                (AgeBand.FROM_40_TO_59, 25),
                (AgeBand.FROM_25_TO_39, 18),
                (AgeBand.FROM_18_TO_24, 7),
                (AgeBand.NOT_GIVEN, 8),
            ],
        ),
        gender=rng.choice([Gender.FEMALE, Gender.MALE, Gender.NOT_GIVEN]),
        status=rng.choice(ResidentStatus.values),
        commune_insee=rng.choice(plan.insee_codes) if rng.random() < 0.8 else "",
        created_at=session.created_at,
        last_contact_at=session.created_at,
    )
    plan.anonymous.append((session, resident))


def _duration(rng: random.Random) -> int:
    return _pick(rng, DURATIONS)


def _new_session(plan: Plan, *, day: date, mediator_id: int, place, hour=None, **fields):
    rng = plan.rng
    created = plan.at(day, hour or rng.randint(9, 16), rng.choice([0, 15, 30, 45]))
    session = HelpSession(
        structure=plan.structure,
        place=place,
        mediator_id=mediator_id,
        created_by_id=mediator_id,
        date=day,
        report_date=day,  # on time
        created_at=created,
        **fields,
    )
    session._history_user_id = mediator_id
    plan.sessions.append(session)
    resident = fields.get("resident")
    if resident is not None and not resident.is_anonymous:
        _contact(plan, resident, created)
    return session


def _contact(plan: Plan, resident: Resident, moment: datetime) -> None:
    span = plan.contacts.setdefault(resident.pk, [moment, moment])
    span[0], span[1] = min(span[0], moment), max(span[1], moment)


def _tag_session(plan: Plan, session, themes, areas=(), equipment=None) -> None:
    rng = plan.rng
    for code in themes:
        plan.tags.append((session, TagDimension.THEME, code))
    if T.DEMARCHES_ADMINISTRATIVES in themes:
        areas = list(areas) or _pick_distinct(rng, AREAS, 1 if rng.random() < 0.85 else 2)
        for code in dict.fromkeys(areas):
            plan.tags.append((session, TagDimension.PROCEDURE, code))
    for code in equipment or _pick_distinct(rng, EQUIPMENT, 1 if rng.random() < 0.85 else 2):
        plan.tags.append((session, TagDimension.EQUIPMENT, code))


def _outcome_fields(rng: random.Random, outcome=None) -> dict:
    outcome = outcome or _pick(rng, OUTCOMES)
    return {
        "outcome": outcome,
        "redirected_to": _pick(rng, REDIRECTIONS) if outcome == Outcome.REDIRECTED else "",
        "autonomy": _pick(rng, AUTONOMY),
    }


def _individual(plan: Plan, *, day, mediator_id, place, resident, themes=None, areas=(), **extra):
    rng = plan.rng
    place_type = extra.pop("place_type", None) or _pick(rng, PLACE_TYPES)
    themes = themes or _pick_distinct(rng, THEMES, rng.choices([1, 2, 3], [70, 25, 5])[0])
    administrative = T.DEMARCHES_ADMINISTRATIVES in themes
    fields = {
        "kind": SessionKind.INDIVIDUAL,
        "duration_minutes": extra.pop("duration_minutes", None) or _duration(rng),
        "place_type": place_type,
        "other_commune_insee": "35047" if place_type == PlaceType.OTHER else "",
        "done_on_behalf": administrative and rng.random() < 0.15,
        **_outcome_fields(rng, extra.pop("outcome", None)),
        **extra,
    }
    if administrative and not areas:
        areas = _pick_distinct(rng, AREAS, 1 if rng.random() < 0.85 else 2)
    if administrative and "procedure_detail" not in fields and rng.random() < 0.5:
        fields["procedure_detail"] = rng.choice(CASE_TITLES[areas[0]])
    if resident is None:
        session = _new_session(plan, day=day, mediator_id=mediator_id, place=place, **fields)
        _anonymous_resident(plan, session)
    else:
        session = _new_session(
            plan, day=day, mediator_id=mediator_id, place=place, resident=resident, **fields
        )
    _tag_session(plan, session, themes, areas)
    return session


def _log_appointments(plan: Plan, places, pool) -> date:
    """Sessions for most past "seen" appointments; workshops from the workshop appointments.
    Returns the first day of the bookings window (or today when there are no appointments)."""
    rng = plan.rng
    appointments = list(
        Appointment.objects.filter(
            place__in=places,
            status=AppointmentStatus.SEEN,
            starts_at__lt=datetime.combine(plan.today, time.min, tzinfo=plan.tz),
            help_session__isnull=True,
        )
        .select_related("motif", "resident", "place", "slot")
        .order_by("starts_at", "pk")
    )
    has_bookings = Appointment.objects.filter(place__in=places).exists()
    window_start = plan.today - timedelta(days=28) if has_bookings else plan.today
    workshops: dict[int, list[Appointment]] = defaultdict(list)
    for appointment in appointments:
        if appointment.motif.is_collective:
            workshops[appointment.slot_id].append(appointment)
            continue
        if rng.random() > LOGGED_APPOINTMENTS:
            continue
        local = timezone.localtime(appointment.starts_at, plan.tz)
        need_area = NEED_AREAS.get(appointment.need)
        motif = appointment.motif
        if need_area or motif.name in MOTIF_AREAS or "démarches" in motif.name.lower():
            themes = [T.DEMARCHES_ADMINISTRATIVES]
            areas = [need_area or rng.choice(MOTIF_AREAS.get(motif.name, [a for a, _w in AREAS]))]
        elif "e-mail" in motif.name:
            themes, areas = [T.EMAIL], []
        else:
            themes, areas = None, []
        duration = min((d for d, _w in DURATIONS), key=lambda d: abs(d - motif.duration_minutes))
        _individual(
            plan,
            day=local.date(),
            mediator_id=appointment.mediator_id,
            place=appointment.place,
            resident=appointment.resident,
            themes=themes,
            areas=areas,
            duration_minutes=duration,
            place_type=PlaceType.HOME if motif.mode == "home" else PlaceType.PLACE,
            appointment=appointment,
            procedure_detail=appointment.need,
        )
    for seats in workshops.values():
        first = seats[0]
        local = timezone.localtime(first.starts_at, plan.tz)
        _workshop(
            plan,
            day=local.date(),
            mediator_id=first.mediator_id,
            place=first.place,
            spec=WORKSHOPS[0],
            named=[a.resident for a in seats],
            hour=local.hour,
        )
    return window_start


def _workshops(plan: Plan, place, mediator_id, pool, first_day, window_start, holidays) -> None:
    """A workshop every other week before the bookings window, themes in turn."""
    rng = plan.rng
    day = first_day + timedelta(days=(3 - first_day.weekday()) % 7)  # a Thursday
    index = 0
    while day < window_start:
        if day not in holidays and not _closed_for_summer(day, plan.tz):
            spec = WORKSHOPS[index % len(WORKSHOPS)]
            named = rng.sample(pool, min(len(pool), rng.randint(2, 6)))
            _workshop(plan, day=day, mediator_id=mediator_id, place=place, spec=spec, named=named)
            index += 1
        day += timedelta(days=14)


def _workshop(plan: Plan, *, day, mediator_id, place, spec, named, hour=14) -> None:
    rng = plan.rng
    title, level, themes, duration = spec
    anonymous = rng.randint(0, 4)
    session = _new_session(
        plan,
        day=day,
        mediator_id=mediator_id,
        place=place,
        hour=min(hour + 2, 18),
        kind=SessionKind.COLLECTIVE,
        title=title,
        level=level,
        duration_minutes=duration,
        place_type=PlaceType.PLACE,
        people_count=len(named) + anonymous,
        autonomy=_pick(rng, AUTONOMY),
    )
    _tag_session(
        plan,
        session,
        themes,
        [A.PAPIERS_CITOYENNETE] if T.DEMARCHES_ADMINISTRATIVES in themes else (),
        equipment=[Equipment.PHONE] if "smartphone" in title else [Equipment.COMPUTER],
    )
    for resident in named:
        plan.participants.append((session, resident))
        _contact(plan, resident, session.created_at)
    if anonymous:
        for dimension, codes in (
            (
                CountDimension.AGE_BAND,
                [AgeBand.FROM_60_TO_69, AgeBand.OVER_70, AgeBand.FROM_40_TO_59],
            ),
            (CountDimension.GENDER, [Gender.FEMALE, Gender.MALE]),
            (CountDimension.STATUS, [ResidentStatus.RETIRED, ResidentStatus.NOT_GIVEN]),
        ):
            split = defaultdict(int)
            for _ in range(anonymous):
                split[rng.choice(codes)] += 1
            for code, count in split.items():
                plan.counts.append((session, dimension, code, count))


def _case(plan: Plan, *, resident, mediator_id, place, first_day) -> None:
    """A case followed from its opening to where it stands today, with its events and the
    sessions of the steps where the resident came."""
    rng = plan.rng
    area = _pick(rng, AREAS)
    title = rng.choice(CASE_TITLES[area])
    # Cases opened in the last two months are still running: the desk's current work.
    recent = rng.random() < 0.4
    day = first_day + timedelta(days=rng.randint(DAYS - 60 if recent else 7, DAYS - 1))
    if day.weekday() >= 5:
        day -= timedelta(days=day.weekday() - 4)
    case = Case(
        structure=plan.structure,
        resident=resident,
        procedure_area=area,
        title=title,
        mediator_id=mediator_id,
    )
    status, moment = S.OPEN, plan.at(day, rng.randint(9, 16), rng.choice([0, 20, 40]))
    steps = [("", S.OPEN, moment)]
    while status not in CLOSED_CASE_STATUSES:
        low, high = CASE_DELAYS[status]
        next_day = moment.date() + timedelta(days=rng.randint(low, high))
        if next_day.weekday() >= 5:
            next_day += timedelta(days=7 - next_day.weekday())
        if next_day >= plan.today:
            break
        target = _pick(
            rng, [(t, w) for t, w in CASE_PATHS[status] if t in CASE_TRANSITIONS[status]]
        )
        previous = moment
        moment = plan.at(next_day, rng.randint(9, 16), rng.choice([0, 20, 40]))
        if moment <= previous:  # the same day: later than the step before
            moment = min(previous + timedelta(minutes=rng.randint(20, 90)), plan.now)
        steps.append((status, target, moment))
        status = target
    case.status = status
    case.opened_at = steps[0][2]
    case.status_changed_at = steps[-1][2]
    case.closed_at = steps[-1][2] if status in CLOSED_CASE_STATUSES else None
    next_action = None
    if status not in CLOSED_CASE_STATUSES:
        # Some are due or overdue: "Mes suivis" has something to show.
        next_action = steps[-1][2].date() + timedelta(days=rng.randint(2, 25))
        if next_action.weekday() >= 5:
            next_action += timedelta(days=7 - next_action.weekday())
    case.next_action_on = next_action
    case._history_user_id = mediator_id
    case._history_date = case.opened_at
    plan.cases.append(case)
    for index, (before, after, at) in enumerate(steps):
        last = index == len(steps) - 1
        plan.events.append(
            (
                case,
                CaseEvent(
                    at=at,
                    by_id=mediator_id,
                    from_status=before,
                    to_status=after,
                    comment=rng.choice(COMMENTS[after]),
                    next_action_on=next_action
                    if last
                    else (None if after in CLOSED_CASE_STATUSES else at.date() + timedelta(days=7)),
                ),
            )
        )
        if after in (S.OPEN, S.IN_PROGRESS, S.RESOLVED, S.REDIRECTED):
            # The resident came: a session, attached to the case.
            outcome = {
                S.RESOLVED: Outcome.RESOLVED,
                S.REDIRECTED: Outcome.REDIRECTED,
            }.get(after, Outcome.TO_FOLLOW_UP)
            session = _individual(
                plan,
                day=at.date(),
                mediator_id=mediator_id,
                place=place,
                resident=resident,
                themes=[T.DEMARCHES_ADMINISTRATIVES],
                areas=[area],
                outcome=outcome,
                procedure_detail=title,
                place_type=PlaceType.PLACE,
            )
            session.created_at = at
            session.case = case


def _write(plan: Plan, pool) -> None:
    anonymous = [resident for _session, resident in plan.anonymous]
    Resident.objects.bulk_create(anonymous)
    for session, resident in plan.anonymous:
        session.resident = resident
    Case.objects.bulk_create(plan.cases)
    _history(Case, plan.cases, "opened_at")
    for case, event in plan.events:
        event.case = case
    CaseEvent.objects.bulk_create([event for _case, event in plan.events])
    HelpSession.objects.bulk_create(plan.sessions, batch_size=500)
    _history(HelpSession, plan.sessions, "created_at")
    SessionTag.objects.bulk_create(
        [
            SessionTag(session=session, dimension=dimension, code=code)
            for session, dimension, code in dict.fromkeys((s, d, c) for s, d, c in plan.tags)
        ],
        batch_size=1000,
    )
    through = HelpSession.participants.through
    through.objects.bulk_create(
        [
            through(helpsession_id=session.pk, resident_id=resident.pk)
            for session, resident in dict.fromkeys(plan.participants)
        ]
    )
    ParticipantCount.objects.bulk_create(
        [
            ParticipantCount(session=session, dimension=dimension, code=code, count=count)
            for session, dimension, code, count in plan.counts
        ]
    )
    # Residents' first and last contact follow their sessions (retention counts from the
    # last contact).
    touched = []
    for resident in pool:
        span = plan.contacts.get(resident.pk)
        if span is None:
            continue
        resident.created_at = min(resident.created_at, span[0])
        resident.last_contact_at = max(span[1], resident.created_at)
        touched.append(resident)
    Resident.objects.bulk_update(touched, ["created_at", "last_contact_at"], batch_size=500)


def _history(model, objects, date_field: str) -> None:
    """The creation rows of django-simple-history, dated and signed like the real ones."""
    users = {}
    for obj in objects:
        user_id = obj._history_user_id
        if user_id not in users:
            users[user_id] = User(pk=user_id)
        obj._history_user = users[user_id]
        obj._history_date = getattr(obj, date_field)
    model.history.bulk_history_create(objects, batch_size=500)
