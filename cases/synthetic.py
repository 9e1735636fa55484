"""The one generator of synthetic data: the vocabulary of fake activity (names, communes, motifs
and needs, themes, procedure areas, durations, workshops, case histories…) and the drawing of a
resident, an appointment and a help session. The demo (`cases/demo.py`, `manage.py seed_demo`)
and the benchmarks' bulk generator (`bench/generate.py`) both draw from here, so that they stay
alike; each writes the rows its own way (model instances for the demo, COPY for the bench).

On the cases floor because it draws sessions (cases), appointments (bookings) and residents
(mediation). Weights are rough shares of what digital-mediation networks report. Every draw
takes the `random.Random` to use: the same seed gives the same data, so the order of the draws
is part of the output (`bench/generate.py --seed` reproduces a database)."""

from __future__ import annotations

import random
from bisect import bisect
from collections import Counter
from dataclasses import dataclass
from itertools import accumulate

from bookings.choices import AppointmentStatus, MotifMode
from cases.choices import (
    Autonomy,
    CaseStatus,
    CountDimension,
    Equipment,
    Outcome,
    PlaceType,
    ProcedureArea,
    RedirectedTo,
    Theme,
    WorkshopLevel,
)
from mediation.choices import AgeBand, Gender, ResidentStatus, StructureKind, age_band_for


class Picker:
    """Weighted choice with one random draw (what `random.choices` does, without rebuilding the
    cumulative weights at every call)."""

    def __init__(self, weighted):
        self.values = [value for value, _weight in weighted]
        self.cumulative = list(accumulate(weight for _value, weight in weighted))
        self.total = self.cumulative[-1]

    def __call__(self, rng: random.Random):
        return self.values[bisect(self.cumulative, rng.random() * self.total)]


# --- People and places ------------------------------------------------------------------------

FIRST_NAMES = [
    "Marie",
    "Jean",
    "Monique",
    "Bernard",
    "Nathalie",
    "Patrick",
    "Sylvie",
    "Michel",
    "Fatima",
    "Mohamed",
    "Julie",
    "Kevin",
    "Denise",
    "Éric",
    "Océane",
    "Gérard",
    "Aïcha",
    "Loïc",
    "Françoise",
    "Mathis",
    "Josiane",
    "Rémi",
    "Sabrina",
    "Yvette",
]
LAST_NAMES = [
    "Le Bihan",
    "Dupont",
    "Hamon",
    "Lebreton",
    "Guérin",
    "Bouvier",
    "Diallo",
    "Perrin",
    "Gaudin",
    "Rolland",
    "Lemoine",
    "Hoarau",
    "Payet",
    "Fontaine",
    "Barbier",
    "Texier",
    "Nguyen",
    "Collin",
    "Morel",
    "Tessier",
]

#: Communes (name, INSEE code, postcode) of an intercommunality in Ille-et-Vilaine, around the
#: demo's Guichen and Lohéac: real ones, as in `mediation/data/communes.csv.gz`
#: (tests/mediation/test_communes.py checks every code of the demo).
COMMUNES = [
    ("Guichen", "35126", "35580"),
    ("Lohéac", "35155", "35550"),
    ("Bourg-des-Comptes", "35033", "35890"),
    ("Pipriac", "35219", "35550"),
    ("Bain-de-Bretagne", "35012", "35470"),
    ("Guignen", "35127", "35580"),
    ("Laillé", "35139", "35890"),
    ("Goven", "35123", "35580"),
    ("Baulon", "35016", "35580"),
    ("Lassy", "35149", "35580"),
    ("Saint-Senoux", "35312", "35580"),
    ("Val d'Anast", "35168", "35330"),
    ("Bovel", "35035", "35330"),
    ("Saint-Malo-de-Phily", "35289", "35480"),
    ("Guipry-Messac", "35176", "35480"),
    ("Lieuron", "35151", "35550"),
    ("Pléchâtel", "35221", "35470"),
    ("Crevin", "35090", "35320"),
    ("Poligné", "35231", "35320"),
    ("Pancé", "35212", "35320"),
]
STRUCTURE_NAMES = [
    (StructureKind.MAIRIE, "Mairie de {}"),
    (StructureKind.FRANCE_SERVICES, "France Services de {}"),
    (StructureKind.MEDIATHEQUE, "Médiathèque de {}"),
    (StructureKind.CCAS, "CCAS de {}"),
    (StructureKind.ASSOCIATION, "Association numérique de {}"),
    (StructureKind.EPN, "Espace public numérique de {}"),
    (StructureKind.TIERS_LIEU, "Tiers-lieu de {}"),
]


def draw_name(rng: random.Random) -> tuple[str, str]:
    return FIRST_NAMES[rng.randrange(len(FIRST_NAMES))], LAST_NAMES[rng.randrange(len(LAST_NAMES))]


def distinct_names(rng: random.Random, count: int, taken: set) -> list[tuple[str, str]]:
    """`count` (first, last) names none of which is in `taken` (nor twice), compound last
    names when the simple ones run out; fewer if even those run out."""
    candidates = [(first, last) for first in FIRST_NAMES for last in LAST_NAMES] + [
        (first, f"{last}-{other}")
        for first in FIRST_NAMES
        for last in LAST_NAMES[:8]
        for other in LAST_NAMES[-4:]
        if other != last
    ]
    rng.shuffle(candidates)
    names = []
    for name in candidates:
        if len(names) >= count:
            break
        if name not in taken:
            taken.add(name)
            names.append(name)
    return names


def draw_profile(rng: random.Random, year: int) -> tuple[int | None, str, str]:
    """Year of birth (30 % not given), age band in `year`, and a situation that fits the age."""
    birth_year = None if rng.random() < 0.3 else rng.randint(1935, year - 10)
    if birth_year is None:
        status = ResidentStatus.NOT_GIVEN
    elif year - birth_year >= 63:
        status = ResidentStatus.RETIRED
    elif year - birth_year < 18:
        status = ResidentStatus.IN_SCHOOL
    else:
        status = (ResidentStatus.EMPLOYED, ResidentStatus.UNEMPLOYED)[rng.random() < 0.5]
    return birth_year, age_band_for(birth_year, year), status


def draw_commune(rng: random.Random, home: str, communes) -> str:
    """The INSEE code of where a resident lives: most near the desk (`home`), a few not said,
    the others anywhere in `communes` (codes)."""
    draw = rng.random()
    if draw < 0.6:
        return home
    if draw < 0.65:
        return ""
    return communes[rng.randrange(len(communes))]


def draw_gender(rng: random.Random) -> str:
    return (Gender.FEMALE, Gender.MALE, Gender.NOT_GIVEN)[bisect((0.55, 0.93), rng.random())]


def draw_anonymous(rng: random.Random, home: str) -> tuple[str, str, str, str]:
    """Age band, gender, situation and commune (INSEE code) of a resident helped anonymously:
    all that is kept of them."""
    return (
        PICK_AGE_BAND(rng),
        rng.choice(Gender.values),
        rng.choice(ResidentStatus.values),
        home if rng.random() < 0.7 else "",
    )


def draw_phone(rng: random.Random, time_zone: str) -> str:
    """A mobile number of the desk's region (La Réunion or metropolitan France)."""
    if time_zone == "Indian/Reunion":
        return f"+262 692 {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)}"
    return (
        f"+33 6 {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)} "
        f"{rng.randint(10, 99)}"
    )


def draw_regular(rng: random.Random, residents: list):
    """One of `residents`, the first ones far more often: some come often, most once or twice."""
    return residents[int(len(residents) * rng.random() ** 1.7)]


# --- Help sessions ----------------------------------------------------------------------------

THEMES = [
    (Theme.DEMARCHES_ADMINISTRATIVES, 40),
    (Theme.EMAIL, 10),
    (Theme.PRISE_EN_MAIN_MATERIEL, 9),
    (Theme.NAVIGATION_INTERNET, 8),
    (Theme.SECURITE_NUMERIQUE, 5),
    (Theme.SANTE, 5),
    (Theme.BANQUE_ACHATS_EN_LIGNE, 4),
    (Theme.BUREAUTIQUE, 4),
    (Theme.INSERTION_PROFESSIONNELLE, 4),
    (Theme.CONTENUS_NUMERIQUES, 3),
    (Theme.DIAGNOSTIC_NUMERIQUE, 3),
    (Theme.RESEAUX_SOCIAUX, 2),
    (Theme.MAINTENANCE_MATERIEL, 2),
    (Theme.SCOLARITE, 2),
    (Theme.PARENTALITE, 1),
    (Theme.CULTURE_NUMERIQUE, 1),
    (Theme.CREER_AVEC_NUMERIQUE, 1),
    (Theme.INTELLIGENCE_ARTIFICIELLE, 1),
    (Theme.ACCOMPAGNER_PROFESSIONNEL, 1),
]
AREAS = [
    (ProcedureArea.SOCIAL_SANTE, 16),
    (ProcedureArea.ARGENT_IMPOTS, 15),
    (ProcedureArea.FAMILLE_SCOLARITE, 14),
    (ProcedureArea.PAPIERS_CITOYENNETE, 13),
    (ProcedureArea.RETRAITE, 11),
    (ProcedureArea.TRAVAIL_FORMATION, 10),
    (ProcedureArea.LOGEMENT, 9),
    (ProcedureArea.TRANSPORTS_MOBILITE, 6),
    (ProcedureArea.ETRANGERS_EUROPE, 3),
    (ProcedureArea.JUSTICE, 1),
    (ProcedureArea.LOISIRS_SPORT_CULTURE, 1),
    (ProcedureArea.ASSOCIATIONS, 1),
]
#: Without "none", drawn on its own (`draw_equipment`).
EQUIPMENT = [
    (Equipment.COMPUTER, 45),
    (Equipment.PHONE, 38),
    (Equipment.TABLET, 8),
    (Equipment.OTHER, 3),
]
#: The session form's picks (`cases.choices.DURATION_PICKS`).
DURATIONS = [(15, 10), (30, 35), (45, 25), (60, 20), (90, 7), (120, 3)]
WORKSHOP_DURATIONS = [(60, 20), (90, 40), (120, 35), (180, 5)]
PLACE_TYPES = [
    (PlaceType.PLACE, 86),
    (PlaceType.REMOTE, 8),
    (PlaceType.HOME, 4),
    (PlaceType.OTHER, 2),
]
AUTONOMY = [
    (Autonomy.FULLY_ASSISTED, 40),
    (Autonomy.PARTLY_AUTONOMOUS, 40),
    (Autonomy.AUTONOMOUS, 20),
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
#: Anonymous participants of a workshop.
WORKSHOP_AGE_BANDS = [
    (AgeBand.FROM_25_TO_39, 5),
    (AgeBand.FROM_40_TO_59, 15),
    (AgeBand.FROM_60_TO_69, 35),
    (AgeBand.OVER_70, 40),
    (AgeBand.NOT_GIVEN, 5),
]


@dataclass(frozen=True)
class Workshop:
    title: str
    level: str
    theme: str
    #: The demo's length (in the form's picks); the bench draws from WORKSHOP_DURATIONS.
    duration: int
    equipment: str = Equipment.COMPUTER


WORKSHOPS = [
    Workshop(
        "Atelier smartphone débutant",
        WorkshopLevel.BEGINNER,
        Theme.PRISE_EN_MAIN_MATERIEL,
        120,
        Equipment.PHONE,
    ),
    Workshop("Envoyer une pièce jointe par e-mail", WorkshopLevel.BEGINNER, Theme.EMAIL, 90),
    Workshop(
        "Arnaques en ligne : les repérer",
        WorkshopLevel.INTERMEDIATE,
        Theme.SECURITE_NUMERIQUE,
        90,
        Equipment.PHONE,
    ),
    Workshop(
        "Mes démarches avec FranceConnect",
        WorkshopLevel.BEGINNER,
        Theme.DEMARCHES_ADMINISTRATIVES,
        120,
    ),
    Workshop(
        "Découvrir l'intelligence artificielle",
        WorkshopLevel.ADVANCED,
        Theme.INTELLIGENCE_ARTIFICIELLE,
        90,
    ),
    Workshop("Ranger ses photos", WorkshopLevel.INTERMEDIATE, Theme.CONTENUS_NUMERIQUES, 90),
]

PICK_PLACE_TYPE = Picker(PLACE_TYPES)
PICK_DURATION = Picker(DURATIONS)
PICK_WORKSHOP_DURATION = Picker(WORKSHOP_DURATIONS)
PICK_THEME = Picker(THEMES)
PICK_AREA = Picker(AREAS)
PICK_EQUIPMENT = Picker(EQUIPMENT)
PICK_AUTONOMY = Picker(AUTONOMY)
PICK_OUTCOME = Picker(OUTCOMES)
PICK_REDIRECTION = Picker(REDIRECTIONS)
PICK_WORKSHOP_AGE = Picker(WORKSHOP_AGE_BANDS)
PICK_AGE_BAND = Picker([(band, 1) for band in AgeBand.values])


def draw_duration(rng: random.Random, *, free: float = 0.05) -> int:
    """Minutes: one of the form's picks, or for a share `free` of the sessions, typed (5–240)."""
    return PICK_DURATION(rng) if rng.random() > free else rng.randint(5, 240)


def draw_themes(rng: random.Random) -> set:
    """One theme, sometimes two or three."""
    return {PICK_THEME(rng) for _ in range(1 + (rng.random() < 0.35) + (rng.random() < 0.1))}


def draw_areas(rng: random.Random) -> list:
    """The procedure areas of an administrative session: one, sometimes two."""
    return list({PICK_AREA(rng) for _ in range(1 + (rng.random() < 0.25))})


def draw_equipment(rng: random.Random) -> set:
    if rng.random() < 0.06:
        return {Equipment.NONE}
    return {PICK_EQUIPMENT(rng) for _ in range(1 + (rng.random() < 0.2))}


def draw_assessment(rng: random.Random, *, collective: bool = False, outcome=None):
    """(autonomy, outcome, redirected_to) as a mediator fills them in: often, not always.
    A given `outcome` is kept (and gets its redirection when it is one)."""
    autonomy = PICK_AUTONOMY(rng) if rng.random() < (0.3 if collective else 0.8) else ""
    if outcome is None:
        outcome = PICK_OUTCOME(rng) if not collective and rng.random() < 0.85 else ""
    redirected_to = PICK_REDIRECTION(rng) if outcome == Outcome.REDIRECTED else ""
    return autonomy, outcome, redirected_to


def draw_on_behalf(rng: random.Random) -> bool:
    """Whether the mediator did it in the resident's stead."""
    return rng.random() < 0.1


def draw_workshop(rng: random.Random) -> Workshop:
    return WORKSHOPS[rng.randrange(len(WORKSHOPS))]


def draw_participant_counts(rng: random.Random, anonymous: int) -> list[tuple[str, str, int]]:
    """(dimension, code, count) of a workshop's `anonymous` participants, as a mediator counts
    them: by age band always, by gender often, by situation sometimes."""
    counts = []
    for dimension, pick, share in (
        (CountDimension.AGE_BAND, PICK_WORKSHOP_AGE, 1.0),
        (CountDimension.GENDER, lambda r: r.choice(Gender.values), 0.7),
        (CountDimension.STATUS, lambda r: r.choice(ResidentStatus.values), 0.4),
    ):
        if rng.random() < share:
            split = Counter(str(pick(rng)) for _ in range(anonymous))
            counts.extend((dimension.value, code, n) for code, n in split.items())
    return counts


# --- Cases ------------------------------------------------------------------------------------

A = ProcedureArea
#: Per procedure area: titles of cases, which double as the needs of appointments and the
#: precision of a session.
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
AREA_OF_TITLE = {title: area for area, titles in CASE_TITLES.items() for title in titles}


def draw_detail(rng: random.Random, area) -> str:
    """The precision a mediator writes about an administrative session, half of the time."""
    return rng.choice(CASE_TITLES[area]) if rng.random() < 0.5 else ""


S = CaseStatus
#: Where cases stand at the end (the bench's cases are written in that status directly).
CASE_STATUSES = [
    (S.OPEN, 10),
    (S.IN_PROGRESS, 15),
    (S.WAITING_RESIDENT, 10),
    (S.WAITING_ADMINISTRATION, 10),
    (S.RESOLVED, 45),
    (S.ABANDONED, 5),
    (S.REDIRECTED, 5),
]
PICK_CASE_STATUS = Picker(CASE_STATUSES)
#: Next status of a case followed step by step (the demo), by current status (weights); a
#: test checks them against `cases.choices.CASE_TRANSITIONS`.
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
#: What a mediator writes when a case takes each status.
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


# --- Motifs and appointments ------------------------------------------------------------------


@dataclass(frozen=True)
class MotifSpec:
    """A motif as a structure offers it, with what a session logged from one of its
    appointments is about (`themes`; none: drawn) and the needs residents write when booking
    (titles of `CASE_TITLES` when administrative, so the session gets their area)."""

    name: str
    duration_minutes: int
    themes: tuple = ()
    needs: tuple = ()
    instructions: str = ""
    mode: str = MotifMode.ON_SITE
    bookable_online: bool = True
    is_collective: bool = False
    capacity: int = 1
    #: Offered at the structure's main place only (its antennas do not do it).
    main_place_only: bool = False

    @property
    def areas(self) -> list:
        """The procedure areas of its needs."""
        return list(dict.fromkeys(AREA_OF_TITLE[n] for n in self.needs if n in AREA_OF_TITLE))

    def model_fields(self) -> dict:
        return {
            "name": self.name,
            "duration_minutes": self.duration_minutes,
            "instructions": self.instructions,
            "mode": self.mode,
            "bookable_online": self.bookable_online,
            "is_collective": self.is_collective,
            "capacity": self.capacity,
        }


ADMINISTRATIVE = (Theme.DEMARCHES_ADMINISTRATIVES,)
ONLINE_PROCEDURES = MotifSpec(
    "Aide aux démarches en ligne",
    30,
    themes=ADMINISTRATIVE,
    needs=(
        "Déclaration de revenus",
        "Créer son espace impots.gouv",
        "Chèque énergie",
        "Inscription France Travail",
        "Actualisation France Travail",
        "CV et candidature en ligne",
        "Demande de logement social",
        "Inscription à la cantine (EduConnect)",
        "Créer un compte Ameli",
        "",
    ),
    instructions="Apportez vos identifiants (impots.gouv, CAF, Ameli…) et une pièce d'identité.",
)
BENEFITS = MotifSpec(
    "Dossier CAF, retraite ou santé",
    60,
    themes=ADMINISTRATIVE,
    needs=(
        "Prime d'activité",
        "Demande de RSA",
        "Déclaration de grossesse à la CAF",
        "Demande d'APL",
        "Ouverture droits retraite",
        "Demande de retraite en ligne",
        "Relevé de carrière incomplet",
        "Complémentaire santé solidaire",
        "Carte Vitale perdue",
        "",
    ),
    instructions="Apportez votre numéro d'allocataire ou de sécurité sociale sur papier, et les "
    "courriers reçus.",
)
IDENTITY_PAPERS = MotifSpec(
    "Carte d'identité, passeport, permis, carte grise (ANTS)",
    45,
    themes=ADMINISTRATIVE,
    needs=(
        "Renouvellement carte d'identité",
        "Demande de passeport",
        "Permis de conduire (ANTS)",
        "Carte grise : changement d'adresse",
        "Achat d'un véhicule d'occasion",
    ),
    instructions="Apportez l'ancien titre, un justificatif de domicile et, pour un titre "
    "d'identité, une photo avec son code e-photo.",
    main_place_only=True,
)
EMAIL = MotifSpec(
    "Créer et utiliser son adresse e-mail",
    45,
    themes=(Theme.EMAIL,),
    needs=("Créer une adresse e-mail", "Mot de passe oublié", "Envoyer une pièce jointe", ""),
    instructions="Venez avec votre téléphone si vous en avez un.",
)
DEVICES = MotifSpec(
    "Prendre en main son ordinateur ou sa tablette",
    60,
    themes=(Theme.PRISE_EN_MAIN_MATERIEL,),
    needs=("Tablette offerte, jamais utilisée", "Installer une application", "Faire une visio", ""),
    instructions="Apportez votre appareil chargé, avec son chargeur.",
)
HOME_VISIT = MotifSpec(
    "Accompagnement à domicile",
    60,
    mode=MotifMode.HOME,
    bookable_online=False,
)
SMARTPHONE_WORKSHOP = MotifSpec(
    "Atelier smartphone débutant",
    120,
    themes=(Theme.PRISE_EN_MAIN_MATERIEL,),
    instructions="Apportez votre smartphone chargé.",
    is_collective=True,
    capacity=8,
)
#: What each kind of structure offers: identity papers at France Services only (the ANTS
#: procedures), benefits where the operators' partners or the social services are, home visits
#: from town halls, CCAS and associations; a library's digital space teaches the devices.
MOTIFS = {
    StructureKind.FRANCE_SERVICES: [ONLINE_PROCEDURES, BENEFITS, IDENTITY_PAPERS, EMAIL],
    StructureKind.MAIRIE: [ONLINE_PROCEDURES, EMAIL, HOME_VISIT],
    StructureKind.MEDIATHEQUE: [EMAIL, DEVICES, ONLINE_PROCEDURES],
    StructureKind.CCAS: [ONLINE_PROCEDURES, BENEFITS, HOME_VISIT],
    StructureKind.ASSOCIATION: [ONLINE_PROCEDURES, EMAIL, DEVICES, HOME_VISIT],
}
MOTIF_SPECS = {
    spec.name: spec
    for spec in [
        ONLINE_PROCEDURES,
        BENEFITS,
        IDENTITY_PAPERS,
        EMAIL,
        DEVICES,
        HOME_VISIT,
        SMARTPHONE_WORKSHOP,
    ]
}


def motifs_of(kind: str) -> list[MotifSpec]:
    """The motifs of a structure of `kind`: its individual ones, then the smartphone workshop."""
    return [*MOTIFS.get(kind, [ONLINE_PROCEDURES, EMAIL]), SMARTPHONE_WORKSHOP]


#: How the appointments that did not end in a session turned out (the bench's).
UNSEEN_STATUSES = [
    (AppointmentStatus.NO_SHOW, 40),
    (AppointmentStatus.CANCELLED_BY_RESIDENT, 42),
    (AppointmentStatus.CANCELLED_BY_STAFF, 14),
    (AppointmentStatus.BOOKED, 4),
]
_UNSEEN_BOUNDS = tuple(total / 100 for total in accumulate(w for _s, w in UNSEEN_STATUSES))[:-1]
#: Share of appointments booked by the residents themselves, on the public pages.
BOOKED_ONLINE = 0.4


def draw_unseen_status(rng: random.Random) -> str:
    return UNSEEN_STATUSES[bisect(_UNSEEN_BOUNDS, rng.random())][0]


def draw_appointment_status(rng: random.Random, *, past: bool, collective: bool) -> str:
    """How an appointment turned out (`past`) or stands: mostly seen, some no-shows and
    cancellations; workshop seats are not released."""
    roll = rng.random()
    if collective:
        if not past:
            return AppointmentStatus.BOOKED
        return AppointmentStatus.SEEN if roll < 0.85 else AppointmentStatus.NO_SHOW
    if not past:
        return AppointmentStatus.CANCELLED_BY_RESIDENT if roll < 0.05 else AppointmentStatus.BOOKED
    # About what French public-service desks report: three in four seen, one in eight a
    # no-show, one in ten cancelled by the resident, a few by the structure.
    if roll < 0.76:
        return AppointmentStatus.SEEN
    if roll < 0.88:
        return AppointmentStatus.NO_SHOW
    if roll < 0.97:
        return AppointmentStatus.CANCELLED_BY_RESIDENT
    return AppointmentStatus.CANCELLED_BY_STAFF


def draw_booked_online(rng: random.Random) -> bool:
    return rng.random() < BOOKED_ONLINE
