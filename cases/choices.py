"""Reference lists of the activity log and cases (DOMAIN.md). Codes are stable: reports and
exports use them."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class SessionKind(models.TextChoices):
    INDIVIDUAL = "individual", _("Accompagnement individuel")
    COLLECTIVE = "collective", _("Atelier collectif")


class PlaceType(models.TextChoices):
    PLACE = "place", _("Lieu d'activité")
    HOME = "home", _("À domicile")
    REMOTE = "remote", _("À distance")
    OTHER = "other", _("Autre lieu")


class Theme(models.TextChoices):
    DIAGNOSTIC_NUMERIQUE = "diagnostic_numerique", _("Diagnostic numérique")
    PRISE_EN_MAIN_MATERIEL = "prise_en_main_materiel", _("Prendre en main du matériel")
    MAINTENANCE_MATERIEL = "maintenance_materiel", _("Entretenir son matériel")
    CONTENUS_NUMERIQUES = "contenus_numeriques", _("Gérer ses contenus numériques")
    NAVIGATION_INTERNET = "navigation_internet", _("Naviguer sur internet")
    EMAIL = "email", _("Messagerie (e-mail)")
    BUREAUTIQUE = "bureautique", _("Bureautique")
    RESEAUX_SOCIAUX = "reseaux_sociaux", _("Réseaux sociaux")
    SANTE = "sante", _("Santé en ligne")
    BANQUE_ACHATS_EN_LIGNE = "banque_achats_en_ligne", _("Banque et achats en ligne")
    ACCOMPAGNER_PROFESSIONNEL = "accompagner_professionnel", _("Accompagner un professionnel")
    INSERTION_PROFESSIONNELLE = "insertion_professionnelle", _("Insertion professionnelle")
    SECURITE_NUMERIQUE = "securite_numerique", _("Sécurité numérique")
    PARENTALITE = "parentalite", _("Parentalité")
    SCOLARITE = "scolarite", _("Scolarité et numérique")
    CREER_AVEC_NUMERIQUE = "creer_avec_numerique", _("Créer avec le numérique")
    CULTURE_NUMERIQUE = "culture_numerique", _("Culture numérique")
    INTELLIGENCE_ARTIFICIELLE = "intelligence_artificielle", _("Intelligence artificielle")
    DEMARCHES_ADMINISTRATIVES = "demarches_administratives", _("Démarches administratives")


class ProcedureArea(models.TextChoices):
    PAPIERS_CITOYENNETE = "papiers_citoyennete", _("Papiers, citoyenneté (ANTS, élections)")
    FAMILLE_SCOLARITE = "famille_scolarite", _("Famille, scolarité (CAF, EduConnect)")
    SOCIAL_SANTE = "social_sante", _("Social, santé (Ameli, MSA, CSS)")
    TRAVAIL_FORMATION = "travail_formation", _("Travail, formation (France Travail, CPF)")
    RETRAITE = "retraite", _("Retraite (info-retraite, CNAV, Agirc-Arrco)")
    LOGEMENT = "logement", _("Logement (APL, bailleur, énergie)")
    TRANSPORTS_MOBILITE = "transports_mobilite", _("Transports, mobilité (carte grise, ANTAI)")
    ARGENT_IMPOTS = "argent_impots", _("Argent, impôts (impots.gouv, chèque énergie)")
    JUSTICE = "justice", _("Justice")
    ETRANGERS_EUROPE = "etrangers_europe", _("Étrangers, Europe (ANEF, OFPRA)")
    LOISIRS_SPORT_CULTURE = "loisirs_sport_culture", _("Loisirs, sport, culture")
    ASSOCIATIONS = "associations", _("Associations")


class Equipment(models.TextChoices):
    COMPUTER = "computer", _("Ordinateur")
    PHONE = "phone", _("Smartphone")
    TABLET = "tablet", _("Tablette")
    OTHER = "other", _("Autre matériel")
    NONE = "none", _("Aucun matériel")


class Autonomy(models.TextChoices):
    FULLY_ASSISTED = "fully_assisted", _("Avec guidage")
    PARTLY_AUTONOMOUS = "partly_autonomous", _("Autonome avec guidage si besoin")
    AUTONOMOUS = "autonomous", _("Autonome")


class Outcome(models.TextChoices):
    RESOLVED = "resolved", _("Démarche aboutie")
    TO_FOLLOW_UP = "to_follow_up", _("À poursuivre")
    RESIDENT_TO_FINISH = "resident_to_finish", _("À finaliser par l'usager")
    REDIRECTED = "redirected", _("Orienté")


class RedirectedTo(models.TextChoices):
    ADMINISTRATION = "administration", _("Administration")
    MEDIATION_NUMERIQUE = "mediation_numerique", _("Autre structure de médiation numérique")
    OPERATEUR = "operateur", _("Opérateur (CAF, CPAM…)")
    AIDE_SOCIALE = "aide_sociale", _("Aide sociale (CCAS, assistante sociale)")
    INSERTION_PROFESSIONNELLE = "insertion_professionnelle", _("Insertion professionnelle")
    FRANCE_SERVICES = "france_services", _("France Services")
    OTHER = "other", _("Autre")


class WorkshopLevel(models.TextChoices):
    BEGINNER = "beginner", _("Débutant")
    INTERMEDIATE = "intermediate", _("Intermédiaire")
    ADVANCED = "advanced", _("Avancé")


class TagDimension(models.TextChoices):
    """The multi-valued fields of a session, kept as rows for GROUP BY in reports."""

    THEME = "theme", _("Thème")
    PROCEDURE = "procedure", _("Démarche")
    EQUIPMENT = "equipment", _("Matériel")


class CountDimension(models.TextChoices):
    """Anonymous participant counts of a workshop."""

    AGE_BAND = "age_band", _("Tranche d'âge")
    STATUS = "status", _("Situation")
    GENDER = "gender", _("Genre")


class CaseStatus(models.TextChoices):
    OPEN = "open", _("Ouvert")
    IN_PROGRESS = "in_progress", _("En cours")
    WAITING_RESIDENT = "waiting_resident", _("En attente de l'usager")
    WAITING_ADMINISTRATION = "waiting_administration", _("En attente de l'administration")
    RESOLVED = "resolved", _("Résolu")
    ABANDONED = "abandoned", _("Abandonné")
    REDIRECTED = "redirected", _("Orienté")


class CaseEventKind(models.TextChoices):
    """What a line of a case's timeline records: a status change (the opening included) or a
    note (free text, a next-action date, a document reference) that leaves the status alone."""

    STATUS = "status", _("Changement de statut")
    NOTE = "note", _("Note")


#: The change reason of a case's history row written by a note (its new next-action date): the
#: timeline shows the date on the note, not again as an edit of the case.
NOTE_CHANGE_REASON = "note"


CLOSED_CASE_STATUSES = (CaseStatus.RESOLVED, CaseStatus.ABANDONED, CaseStatus.REDIRECTED)

# The one table of allowed case status changes (see cases.services.cases.case_transition).
CASE_TRANSITIONS: dict[str, set[str]] = {
    CaseStatus.OPEN: {
        CaseStatus.IN_PROGRESS,
        CaseStatus.WAITING_RESIDENT,
        CaseStatus.WAITING_ADMINISTRATION,
        *CLOSED_CASE_STATUSES,
    },
    CaseStatus.IN_PROGRESS: {
        CaseStatus.WAITING_RESIDENT,
        CaseStatus.WAITING_ADMINISTRATION,
        *CLOSED_CASE_STATUSES,
    },
    CaseStatus.WAITING_RESIDENT: {
        CaseStatus.IN_PROGRESS,
        CaseStatus.WAITING_ADMINISTRATION,
        *CLOSED_CASE_STATUSES,
    },
    CaseStatus.WAITING_ADMINISTRATION: {
        CaseStatus.IN_PROGRESS,
        CaseStatus.WAITING_RESIDENT,
        *CLOSED_CASE_STATUSES,
    },
    # A closed case can be reopened (the need came back), never moved between closed states.
    CaseStatus.RESOLVED: {CaseStatus.IN_PROGRESS},
    CaseStatus.ABANDONED: {CaseStatus.IN_PROGRESS},
    CaseStatus.REDIRECTED: {CaseStatus.IN_PROGRESS},
}

DURATION_PICKS = [15, 30, 45, 60, 90, 120]
MAX_DURATION_MINUTES = 8 * 60
