"""Reference lists of the core (see DOMAIN.md). Codes are stable: exports use them."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class StructureKind(models.TextChoices):
    MAIRIE = "mairie", _("Mairie")
    CCAS = "ccas", _("CCAS")
    FRANCE_SERVICES = "france_services", _("France Services")
    MEDIATHEQUE = "mediatheque", _("Médiathèque")
    EPN = "epn", _("Espace public numérique (EPN)")
    ASSOCIATION = "association", _("Association")
    EPCI = "epci", _("Intercommunalité (EPCI)")
    TIERS_LIEU = "tiers_lieu", _("Tiers-lieu")


class FeedDetail(models.TextChoices):
    """What a mediator's subscribed agenda shows of a resident (`bookings.ics`): never the
    phone number nor the need, whatever the choice."""

    INITIALS = "initials", _("Initiales et motif")
    FULL_NAME = "full_name", _("Nom complet et motif")


class NetworkKind(models.TextChoices):
    EPCI = "epci", _("Intercommunalité")
    DEPARTEMENT = "departement", _("Département")
    HUB = "hub", _("Hub / réseau de médiation")


class Role(models.TextChoices):
    MEDIATOR = "mediator", _("Médiateur·rice numérique")
    COORDINATOR = "coordinator", _("Coordinateur·rice")
    STRUCTURE_ADMIN = "structure_admin", _("Administrateur·rice de structure")


class PlaceTimeZone(models.TextChoices):
    PARIS = "Europe/Paris", _("Métropole (Europe/Paris)")
    GUADELOUPE = "America/Guadeloupe", _("Guadeloupe")
    MARTINIQUE = "America/Martinique", _("Martinique")
    CAYENNE = "America/Cayenne", _("Guyane")
    REUNION = "Indian/Reunion", _("La Réunion")
    MAYOTTE = "Indian/Mayotte", _("Mayotte")
    MIQUELON = "America/Miquelon", _("Saint-Pierre-et-Miquelon")
    ST_BARTHELEMY = "America/St_Barthelemy", _("Saint-Barthélemy")
    MARIGOT = "America/Marigot", _("Saint-Martin")
    WALLIS = "Pacific/Wallis", _("Wallis-et-Futuna")
    TAHITI = "Pacific/Tahiti", _("Polynésie française (Tahiti, îles du Vent et Sous-le-Vent…)")
    MARQUESAS = "Pacific/Marquesas", _("Polynésie française (Marquises)")
    GAMBIER = "Pacific/Gambier", _("Polynésie française (Gambier)")
    NOUMEA = "Pacific/Noumea", _("Nouvelle-Calédonie")


class Gender(models.TextChoices):
    FEMALE = "female", _("Femme")
    MALE = "male", _("Homme")
    NOT_GIVEN = "not_given", _("Non communiqué")


class ResidentStatus(models.TextChoices):
    IN_SCHOOL = "in_school", _("Scolarisé")
    UNEMPLOYED = "unemployed", _("Sans emploi")
    EMPLOYED = "employed", _("En emploi")
    RETIRED = "retired", _("Retraité")
    NOT_GIVEN = "not_given", _("Non communiqué")


class AgeBand(models.TextChoices):
    UNDER_12 = "<12", _("Moins de 12 ans")
    FROM_12_TO_17 = "12-17", _("12 à 17 ans")
    FROM_18_TO_24 = "18-24", _("18 à 24 ans")
    FROM_25_TO_39 = "25-39", _("25 à 39 ans")
    FROM_40_TO_59 = "40-59", _("40 à 59 ans")
    FROM_60_TO_69 = "60-69", _("60 à 69 ans")
    OVER_70 = "70+", _("70 ans et plus")
    NOT_GIVEN = "not_given", _("Non communiqué")


AGE_BAND_BOUNDS = [
    (AgeBand.UNDER_12, 0, 11),
    (AgeBand.FROM_12_TO_17, 12, 17),
    (AgeBand.FROM_18_TO_24, 18, 24),
    (AgeBand.FROM_25_TO_39, 25, 39),
    (AgeBand.FROM_40_TO_59, 40, 59),
    (AgeBand.FROM_60_TO_69, 60, 69),
    (AgeBand.OVER_70, 70, 200),
]


def age_band_for(birth_year: int | None, on_year: int) -> str:
    """The age band of someone born in `birth_year`, as of `on_year` (birthday not known)."""
    if not birth_year:
        return AgeBand.NOT_GIVEN
    age = on_year - birth_year
    for band, low, high in AGE_BAND_BOUNDS:
        if low <= age <= high:
            return band
    return AgeBand.NOT_GIVEN


# --- The national schema of digital-inclusion places ("lieux de médiation numérique") -------
# Its controlled lists, value for value (DOMAIN.md, "National vocabularies"): the stored value
# *is* the national one, so the open-data files (bookings/national_places.py) write them as
# they are, with no mapping to keep in step.


class PlaceService(models.TextChoices):
    DEMARCHES = "Aide aux démarches administratives", _("Aide aux démarches administratives")
    OUTILS_QUOTIDIEN = (
        "Maîtrise des outils numériques du quotidien",
        _("Maîtrise des outils numériques du quotidien"),
    )
    INSERTION = (
        "Insertion professionnelle via le numérique",
        _("Insertion professionnelle via le numérique"),
    )
    SECURITE = "Utilisation sécurisée du numérique", _("Utilisation sécurisée du numérique")
    PARENTALITE = (
        "Parentalité et éducation avec le numérique",
        _("Parentalité et éducation avec le numérique"),
    )
    LOISIRS = "Loisirs et créations numériques", _("Loisirs et créations numériques")
    COMPREHENSION = "Compréhension du monde numérique", _("Compréhension du monde numérique")
    ACCES_MATERIEL = (
        "Accès internet et matériel informatique",
        _("Accès internet et matériel informatique"),
    )
    MATERIEL_SOLIDAIRE = (
        "Acquisition de matériel informatique à prix solidaire",
        _("Acquisition de matériel informatique à prix solidaire"),
    )


class PlacePublic(models.TextChoices):
    """`publics_specifiquement_adresses`: a place open to all ticks none."""

    JEUNES = "Jeunes", _("Jeunes")
    ETUDIANTS = "Étudiants", _("Étudiants")
    FAMILLES = "Familles et/ou enfants", _("Familles et/ou enfants")
    SENIORS = "Seniors", _("Seniors")
    FEMMES = "Femmes", _("Femmes")


class PlaceSpecificSupport(models.TextChoices):
    """`prise_en_charge_specifique`."""

    SURDITE = "Surdité", _("Surdité")
    HANDICAPS_MOTEURS = "Handicaps moteurs", _("Handicaps moteurs")
    HANDICAPS_MENTAUX = "Handicaps mentaux", _("Handicaps mentaux")
    ILLETTRISME = "Illettrisme", _("Illettrisme")
    ANGLAIS = "Langues étrangères (anglais)", _("Langues étrangères (anglais)")
    AUTRES_LANGUES = "Langues étrangères (autres)", _("Langues étrangères (autres)")
    DEFICIENCE_VISUELLE = "Déficience visuelle", _("Déficience visuelle")


class PlaceFee(models.TextChoices):
    """`frais_a_charge`."""

    GRATUIT = "Gratuit", _("Gratuit")
    GRATUIT_SOUS_CONDITION = "Gratuit sous condition", _("Gratuit sous condition")
    PAYANT = "Payant", _("Payant")


class PlaceNationalProgramme(models.TextChoices):
    """`dispositif_programmes_nationaux`."""

    AIDANTS_CONNECT = "Aidants Connect", _("Aidants Connect")
    BNR = "Bibliothèques numérique de référence", _("Bibliothèques numérique de référence")
    PIX = "Certification PIX", _("Certification PIX")
    CONSEILLERS_NUMERIQUES = "Conseillers numériques", _("Conseillers numériques")
    EMMAUS_CONNECT = "Emmaüs Connect", _("Emmaüs Connect")
    FRANCE_SERVICES = "France Services", _("France Services")
    GEN = "Grande école du numérique", _("Grande école du numérique")
    CROIX_ROUGE = "La Croix Rouge", _("La Croix Rouge")
    PAN_CAF = "Point d'accès numérique CAF", _("Point d'accès numérique CAF")
    PROMENEURS = "Promeneurs du net", _("Promeneurs du net")
    RELAIS_NUMERIQUE = "Relais numérique (Emmaüs Connect)", _("Relais numérique (Emmaüs Connect)")


class PlaceAccess(models.TextChoices):
    """`modalites_acces`: how a resident gets help there."""

    SE_PRESENTER = "Se présenter", _("Se présenter")
    TELEPHONER = "Téléphoner", _("Téléphoner")
    MAIL = "Contacter par mail", _("Contacter par mail")
    RDV_EN_LIGNE = "Prendre un RDV en ligne", _("Prendre un RDV en ligne")
    PAS_DE_PUBLIC = "Ce lieu n'accueille pas de public", _("Ce lieu n'accueille pas de public")
    PRESCRIPTION = (
        "Envoyer un mail avec une fiche de prescription",
        _("Envoyer un mail avec une fiche de prescription"),
    )


class PlaceSupportMode(models.TextChoices):
    """`modalites_accompagnement`."""

    AUTONOMIE = "En autonomie", _("En autonomie")
    INDIVIDUEL = "Accompagnement individuel", _("Accompagnement individuel")
    ATELIER = "Dans un atelier collectif", _("Dans un atelier collectif")
    DISTANCE = "À distance", _("À distance")
