"""Our codes → the values of *La Coop de la médiation numérique*, field by field: the one mapping
of the activity log to the national vocabulary (DOMAIN.md, "National vocabularies").

Permanence keeps its own stored codes (English, or the snake_case keys of DOMAIN.md: reports,
exports and the database use them); what leaves for the national tools (the read API, `api/`)
is translated here and nowhere else. Each `CoopField` says which of our choices it reads,
which values the Coop accepts for it, our code → its value, and, where the Coop has no value of
its own for something Permanence records, why the value chosen is the closest (`why`).

`tests/cases/test_national.py` walks every choice of every mapped field and fails on a code
without a national value, on a value the Coop does not accept, and on a reference list of
`cases/choices.py` or `mediation/choices.py` that is neither mapped here nor listed in
`NOT_EXCHANGED`. `docs/vocabulaire-national.md` is generated from this module
(`manage.py national_vocabulary`), and a test checks that the committed file is up to date.

Labels shown to people stay the French labels of the choices: national codes are never shown.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from functools import cached_property
from types import MappingProxyType

from django.db import models

from cases.choices import (
    DURATION_PICKS,
    MAX_DURATION_MINUTES,
    Autonomy,
    Equipment,
    Outcome,
    PlaceType,
    ProcedureArea,
    RedirectedTo,
    SessionKind,
    Theme,
    WorkshopLevel,
)
from mediation.choices import AgeBand, Gender, ResidentStatus


@dataclass(frozen=True)
class CoopField:
    """One attribute of the Coop's `activite` items, and how our values map to it."""

    #: The attribute's name in the Coop's API v1 (`activite` items).
    name: str
    #: What it is, in French (the generated documentation's heading).
    title: str
    #: Where our values come from ("cases.choices.Theme", or a model field for durations).
    source: str
    #: Every value the Coop accepts for this attribute (DOMAIN.md, exactly).
    national: tuple
    #: Our code → the Coop's value.
    values: Mapping
    #: Our choices, when the values come from a `TextChoices`.
    choices: type[models.TextChoices] | None = None
    #: Our code → why it maps to that value, where the Coop has no value of its own for it.
    why: Mapping[str, str] = field(default_factory=dict)
    #: A sentence for the documentation, about the field as a whole.
    note: str = ""

    @cached_property
    def by_code(self) -> dict:
        """`values` keyed by plain codes (a choice's member hashes slowly): what readers use."""
        return {_plain(code): value for code, value in self.values.items()}


COOP_THEMES = (
    "diagnostic_numerique",
    "prendre_en_main_du_materiel",
    "maintenance_de_materiel",
    "gere_ses_contenus_numeriques",
    "navigation_sur_internet",
    "email",
    "bureautique",
    "reseaux_sociaux",
    "sante",
    "banque_et_achats_en_ligne",
    "entrepreneuriat",
    "insertion_professionnelle",
    "securite_numerique",
    "parentalite",
    "scolarite_et_numerique",
    "creer_avec_le_numerique",
    "culture_numerique",
    "intelligence_artificielle",
    "aide_aux_demarches_administratives",
    # The procedure areas are in the same list.
    "papiers_elections_citoyennete",
    "famille_scolarite",
    "social_sante",
    "travail_formation",
    "logement",
    "transports_mobilite",
    "argent_impots",
    "justice",
    "etrangers_europe",
    "loisirs_sports_culture",
    "associations",
)

KIND = CoopField(
    name="type",
    title="Type d'activité",
    source="cases.choices.SessionKind",
    choices=SessionKind,
    national=("individuel", "collectif", "demarche_administrative"),
    values={SessionKind.INDIVIDUAL: "individuel", SessionKind.COLLECTIVE: "collectif"},
    note=(
        "`demarche_administrative` n'est jamais envoyé : la Coop enregistre désormais une aide "
        "aux démarches comme un accompagnement `individuel` portant la thématique "
        "`aide_aux_demarches_administratives` (et ses démarches), ce que fait Permanence."
    ),
)
PLACE_TYPE = CoopField(
    name="type_lieu",
    title="Type de lieu",
    source="cases.choices.PlaceType",
    choices=PlaceType,
    national=("lieu_activite", "domicile", "a_distance", "autre"),
    values={
        PlaceType.PLACE: "lieu_activite",
        PlaceType.HOME: "domicile",
        PlaceType.REMOTE: "a_distance",
        PlaceType.OTHER: "autre",
    },
)
THEMES = CoopField(
    name="thematiques",
    title="Thématiques",
    source="cases.choices.Theme",
    choices=Theme,
    national=COOP_THEMES,
    values={
        Theme.DIAGNOSTIC_NUMERIQUE: "diagnostic_numerique",
        Theme.PRISE_EN_MAIN_MATERIEL: "prendre_en_main_du_materiel",
        Theme.MAINTENANCE_MATERIEL: "maintenance_de_materiel",
        Theme.CONTENUS_NUMERIQUES: "gere_ses_contenus_numeriques",
        Theme.NAVIGATION_INTERNET: "navigation_sur_internet",
        Theme.EMAIL: "email",
        Theme.BUREAUTIQUE: "bureautique",
        Theme.RESEAUX_SOCIAUX: "reseaux_sociaux",
        Theme.SANTE: "sante",
        Theme.BANQUE_ACHATS_EN_LIGNE: "banque_et_achats_en_ligne",
        # The Coop's label of `entrepreneuriat` is "Accompagner un professionnel", ours too.
        Theme.ACCOMPAGNER_PROFESSIONNEL: "entrepreneuriat",
        Theme.INSERTION_PROFESSIONNELLE: "insertion_professionnelle",
        Theme.SECURITE_NUMERIQUE: "securite_numerique",
        Theme.PARENTALITE: "parentalite",
        Theme.SCOLARITE: "scolarite_et_numerique",
        Theme.CREER_AVEC_NUMERIQUE: "creer_avec_le_numerique",
        Theme.CULTURE_NUMERIQUE: "culture_numerique",
        Theme.INTELLIGENCE_ARTIFICIELLE: "intelligence_artificielle",
        Theme.DEMARCHES_ADMINISTRATIVES: "aide_aux_demarches_administratives",
    },
)
PROCEDURES = CoopField(
    name="thematiques",
    title="Démarches administratives (dans les thématiques)",
    source="cases.choices.ProcedureArea",
    choices=ProcedureArea,
    national=COOP_THEMES,
    values={
        ProcedureArea.PAPIERS_CITOYENNETE: "papiers_elections_citoyennete",
        ProcedureArea.FAMILLE_SCOLARITE: "famille_scolarite",
        ProcedureArea.SOCIAL_SANTE: "social_sante",
        ProcedureArea.TRAVAIL_FORMATION: "travail_formation",
        ProcedureArea.RETRAITE: "travail_formation",
        ProcedureArea.LOGEMENT: "logement",
        ProcedureArea.TRANSPORTS_MOBILITE: "transports_mobilite",
        ProcedureArea.ARGENT_IMPOTS: "argent_impots",
        ProcedureArea.JUSTICE: "justice",
        ProcedureArea.ETRANGERS_EUROPE: "etrangers_europe",
        ProcedureArea.LOISIRS_SPORT_CULTURE: "loisirs_sports_culture",
        ProcedureArea.ASSOCIATIONS: "associations",
    },
    why={
        ProcedureArea.RETRAITE: (
            "la Coop n'a pas de démarche « Retraite » ; elle range la retraite et "
            "info-retraite.fr dans « Travail - Formation - Entreprise »."
        ),
    },
    note=(
        "La Coop met les démarches dans la même liste que les thématiques : elles partent dans "
        "`thematiques`, à côté de `aide_aux_demarches_administratives`."
    ),
)
EQUIPMENT = CoopField(
    name="materiel",
    title="Matériel utilisé",
    source="cases.choices.Equipment",
    choices=Equipment,
    national=("ordinateur", "telephone", "tablette", "autre", "aucun"),
    values={
        Equipment.COMPUTER: "ordinateur",
        Equipment.PHONE: "telephone",
        Equipment.TABLET: "tablette",
        Equipment.OTHER: "autre",
        Equipment.NONE: "aucun",
    },
)
AUTONOMY = CoopField(
    name="autonomie",
    title="Autonomie",
    source="cases.choices.Autonomy",
    choices=Autonomy,
    national=("entierement_accompagne", "partiellement_autonome", "autonome"),
    values={
        Autonomy.FULLY_ASSISTED: "entierement_accompagne",
        Autonomy.PARTLY_AUTONOMOUS: "partiellement_autonome",
        Autonomy.AUTONOMOUS: "autonome",
    },
    note="Non renseignée : `null`.",
)
REDIRECTED = CoopField(
    name="oriente_vers_structure",
    title="Orientation (résultat de l'accompagnement)",
    source="cases.choices.Outcome",
    choices=Outcome,
    national=(True, False),
    values={
        Outcome.RESOLVED: False,
        Outcome.TO_FOLLOW_UP: False,
        Outcome.RESIDENT_TO_FINISH: False,
        Outcome.REDIRECTED: True,
    },
    why={
        Outcome.RESOLVED: "la Coop n'enregistre que l'orientation, et une démarche aboutie "
        "n'est pas orientée.",
        Outcome.TO_FOLLOW_UP: "la Coop n'enregistre que l'orientation, et une démarche à "
        "poursuivre avec la structure n'est pas orientée ailleurs.",
        Outcome.RESIDENT_TO_FINISH: "la Coop n'enregistre que l'orientation, et une démarche "
        "que l'usager finalise seul n'est pas orientée.",
    },
    note="Résultat non renseigné : `null`.",
)
REDIRECTED_TO = CoopField(
    name="structure_de_redirection",
    title="Structure de redirection",
    source="cases.choices.RedirectedTo",
    choices=RedirectedTo,
    national=(
        "administration",
        "mediation_numerique",
        "operateur_ou_organisme_en_charge",
        "aide_sociale",
        "insertion_professionnelle",
        "aide_aux_demarches_administratives",
        "autre",
    ),
    values={
        RedirectedTo.ADMINISTRATION: "administration",
        RedirectedTo.MEDIATION_NUMERIQUE: "mediation_numerique",
        RedirectedTo.OPERATEUR: "operateur_ou_organisme_en_charge",
        RedirectedTo.AIDE_SOCIALE: "aide_sociale",
        RedirectedTo.INSERTION_PROFESSIONNELLE: "insertion_professionnelle",
        RedirectedTo.FRANCE_SERVICES: "aide_aux_demarches_administratives",
        RedirectedTo.OTHER: "autre",
    },
    why={
        RedirectedTo.FRANCE_SERVICES: (
            "la Coop n'a pas de valeur « France Services » ; c'est son exemple de « structure "
            "d'aide aux démarches administratives »."
        ),
    },
    note="Sans orientation : `null`.",
)
WORKSHOP_LEVEL = CoopField(
    name="niveau_atelier",
    title="Niveau de l'atelier",
    source="cases.choices.WorkshopLevel",
    choices=WorkshopLevel,
    national=("debutant", "intermediaire", "avance"),
    values={
        WorkshopLevel.BEGINNER: "debutant",
        WorkshopLevel.INTERMEDIATE: "intermediaire",
        WorkshopLevel.ADVANCED: "avance",
    },
    note="Atelier sans niveau, ou accompagnement individuel : `null`.",
)
DURATION = CoopField(
    name="duree",
    title="Durée",
    source="cases.models.HelpSession.duration_minutes",
    national=tuple(range(1, MAX_DURATION_MINUTES + 1)),
    values={minutes: minutes for minutes in DURATION_PICKS},
    note=(
        "En minutes des deux côtés : la durée saisie part telle quelle (de 1 à "
        f"{MAX_DURATION_MINUTES} minutes ; le tableau montre les choix rapides du formulaire)."
    ),
)
GENDER = CoopField(
    name="genre",
    title="Genre (bénéficiaires)",
    source="mediation.choices.Gender",
    choices=Gender,
    national=("masculin", "feminin", "non_communique"),
    values={Gender.FEMALE: "feminin", Gender.MALE: "masculin", Gender.NOT_GIVEN: "non_communique"},
)
AGE_BAND = CoopField(
    name="tranche_age",
    title="Tranche d'âge (bénéficiaires)",
    source="mediation.choices.AgeBand",
    choices=AgeBand,
    national=(
        "moins_de_douze",
        "douze_dix_huit",
        "dix_huit_vingt_quatre",
        "vingt_cinq_trente_neuf",
        "quarante_cinquante_neuf",
        "soixante_soixante_neuf",
        "soixante_dix_plus",
        "non_communique",
    ),
    values={
        AgeBand.UNDER_12: "moins_de_douze",
        AgeBand.FROM_12_TO_17: "douze_dix_huit",
        AgeBand.FROM_18_TO_24: "dix_huit_vingt_quatre",
        AgeBand.FROM_25_TO_39: "vingt_cinq_trente_neuf",
        AgeBand.FROM_40_TO_59: "quarante_cinquante_neuf",
        AgeBand.FROM_60_TO_69: "soixante_soixante_neuf",
        AgeBand.OVER_70: "soixante_dix_plus",
        AgeBand.NOT_GIVEN: "non_communique",
    },
)
RESIDENT_STATUS = CoopField(
    name="statut_social",
    title="Statut social (bénéficiaires)",
    source="mediation.choices.ResidentStatus",
    choices=ResidentStatus,
    national=("scolarise", "sans_emploi", "en_emploi", "retraite", "non_communique"),
    values={
        ResidentStatus.IN_SCHOOL: "scolarise",
        ResidentStatus.UNEMPLOYED: "sans_emploi",
        ResidentStatus.EMPLOYED: "en_emploi",
        ResidentStatus.RETIRED: "retraite",
        ResidentStatus.NOT_GIVEN: "non_communique",
    },
)

#: Every mapped field, in the order of the Coop's `activite` attributes (then beneficiaries).
COOP_FIELDS: tuple[CoopField, ...] = (
    KIND,
    DURATION,
    PLACE_TYPE,
    AUTONOMY,
    REDIRECTED,
    REDIRECTED_TO,
    EQUIPMENT,
    THEMES,
    PROCEDURES,
    WORKSHOP_LEVEL,
    GENDER,
    AGE_BAND,
    RESIDENT_STATUS,
)

#: The reference lists of `cases/choices.py` and `mediation/choices.py` that never leave for the
#: national tools, and why. A new list is either mapped above or added here (a test says so).
# Lists of the national places schema, stored as its own values (`bookings/national_places.py`).
PLACES_SCHEMA = "valeurs du schéma national des lieux, stockées telles quelles (pas la Coop)"

NOT_EXCHANGED = MappingProxyType(
    {
        "cases.choices.CaseStatus": "les dossiers restent dans la structure",
        "cases.choices.CaseEventKind": "les dossiers restent dans la structure",
        "cases.choices.TagDimension": "organisation interne des thématiques, démarches et matériel",
        "cases.choices.CountDimension": "organisation interne des décomptes de participants",
        "mediation.choices.Role": "rôles du personnel",
        "mediation.choices.NetworkKind": "organisation des réseaux",
        "mediation.choices.PlaceTimeZone": "fuseau horaire du lieu",
        "mediation.choices.PlaceService": PLACES_SCHEMA,
        "mediation.choices.PlacePublic": PLACES_SCHEMA,
        "mediation.choices.PlaceSpecificSupport": PLACES_SCHEMA,
        "mediation.choices.PlaceFee": PLACES_SCHEMA,
        "mediation.choices.PlaceNationalProgramme": PLACES_SCHEMA,
        "mediation.choices.PlaceAccess": PLACES_SCHEMA,
        "mediation.choices.PlaceSupportMode": PLACES_SCHEMA,
        # The national places schema (`typologie`) is the places' export, not the Coop's API.
        "mediation.choices.StructureKind": "type de structure (schéma des lieux, pas la Coop)",
        "mediation.choices.FeedDetail": "réglage de l'agenda des médiateur·rices, interne",
    }
)


class NotMapped(KeyError):
    pass


def coop_value(coop_field: CoopField, code):
    """The Coop's value of our `code` for `coop_field` (None for an empty code: the Coop's
    `null`). An unknown code is an error, never a silent gap in what is sent."""
    if code in ("", None):
        return None
    try:
        return coop_field.by_code[code]
    except KeyError:
        raise NotMapped(f"{code!r} of {coop_field.source} has no national value") from None


def coop_values(coop_field: CoopField, codes: Iterable[str]) -> list:
    """The Coop's values of `codes`, each once, in the Coop's order (two of our codes may share
    one national value: "retraite" and "travail_formation")."""
    wanted = {coop_value(coop_field, code) for code in codes}
    if len(wanted) == 1:
        return [] if None in wanted else list(wanted)
    return [value for value in coop_field.national if value in wanted]


def _plain(code):
    return code.value if isinstance(code, Enum) else code


def mapping_gaps() -> list[str]:
    """What is wrong with the mapping: a choice without a national value, a value the Coop does
    not accept, a mapped code that is no longer a choice, a `why` for a code not mapped."""
    gaps = []
    for coop_field in COOP_FIELDS:
        where = f"{coop_field.source} → {coop_field.name}"
        if coop_field.choices is not None:
            codes = set(coop_field.choices.values)
            gaps += [
                f"{where}: {c!r} has no national value"
                for c in sorted(codes - set(coop_field.values))
            ]
            gaps += [
                f"{where}: {c!r} is not a choice" for c in sorted(set(coop_field.values) - codes)
            ]
        gaps += [
            f"{where}: {_plain(code)!r} → {value!r}, which the Coop does not accept"
            for code, value in coop_field.values.items()
            if value not in coop_field.national
        ]
        gaps += [
            f"{where}: a `why` for {c!r}, which is not mapped"
            for c in sorted(set(coop_field.why) - set(coop_field.values))
        ]
    return gaps


# --- The documentation ------------------------------------------------------------------------

DOC_PATH = "docs/vocabulaire-national.md"


def _cell(value) -> str:
    if isinstance(value, bool):
        return "`true`" if value else "`false`"
    return f"`{value}`"


def _label(coop_field: CoopField, code) -> str:
    if coop_field.choices is None:
        return f"{code} min"
    return str(coop_field.choices(code).label)


def vocabulary_markdown() -> str:
    """`docs/vocabulaire-national.md`, generated from `COOP_FIELDS` (French, for the people who
    check what Permanence sends)."""
    from django.utils import translation

    lines = [
        "# Vocabulaire national : correspondance avec La Coop de la médiation numérique",
        "",
        "<!-- Généré par `manage.py national_vocabulary` depuis `cases/national.py` : ne pas "
        "modifier à la main. -->",
        "",
        "Permanence garde ses propres codes (les bilans, les exports et la base les utilisent) ; "
        "ce qui part vers les outils nationaux (l'API de lecture `/api/v1/`) est traduit "
        "par `cases/national.py`, champ par champ, selon cette table. Les personnes ne voient "
        "jamais ces codes : l'interface montre les libellés français. Une valeur marquée "
        "« au plus proche » n'a pas d'équivalent exact à la Coop : la colonne « Pourquoi » "
        "dit pourquoi cette valeur-là.",
        "",
    ]
    with translation.override("fr"):
        for coop_field in COOP_FIELDS:
            lines += [
                f"## {coop_field.title} — `{coop_field.name}`",
                "",
                f"Source : `{coop_field.source}`.",
                "",
            ]
            if coop_field.note:
                lines += [coop_field.note, ""]
            has_why = bool(coop_field.why)
            header = "| Libellé | Code Permanence | Valeur Coop |"
            rule = "|---|---|---|"
            if has_why:
                header += " Pourquoi |"
                rule += "---|"
            lines += [header, rule]
            for code, value in coop_field.values.items():
                row = f"| {_label(coop_field, code)} | {_cell(code)} | {_cell(value)} |"
                if has_why:
                    why = coop_field.why.get(code, "")
                    row += f" {'au plus proche : ' + why if why else ''} |"
                lines.append(row)
            lines.append("")
        lines += ["## Listes qui ne partent pas vers la Coop", ""]
        lines += [f"- `{source}` : {why}." for source, why in NOT_EXCHANGED.items()]
    return "\n".join(lines) + "\n"
