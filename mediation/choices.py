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
