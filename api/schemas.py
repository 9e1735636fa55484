"""The documents of the read API, as typed schemas: django-ninja validates every response
against them and generates the OpenAPI document (`/api/v1/openapi.json`) from them. The
enumerations are the national values of `cases/national.py`, so the document and the mapping
cannot disagree."""

from __future__ import annotations

import datetime as dt
from typing import Literal
from uuid import UUID

from ninja import Field, Schema

from cases import national


def _one_of(coop_field: national.CoopField):
    return Literal[tuple(coop_field.national)]


Kind = _one_of(national.KIND)
PlaceType = _one_of(national.PLACE_TYPE)
Theme = _one_of(national.THEMES)
Equipment = _one_of(national.EQUIPMENT)
Autonomy = _one_of(national.AUTONOMY)
RedirectedTo = _one_of(national.REDIRECTED_TO)
WorkshopLevel = _one_of(national.WORKSHOP_LEVEL)


# --- Lists --------------------------------------------------------------------------------------


class Links(Schema):
    self: str = Field(description="Cette page.")
    next: str | None = Field(description="La page suivante (plus ancienne), s'il y en a une.")
    prev: str | None = Field(description="La page précédente (plus récente), s'il y en a une.")


class ListMeta(Schema):
    items_per_page: int = Field(description="Nombre maximum d'éléments par page (page[size]).")
    has_next_page: bool
    has_prev_page: bool


# --- Activities ---------------------------------------------------------------------------------


class ActiviteAttributes(Schema):
    type: Kind = Field(description="Type d'activité.")
    mediateur_id: UUID = Field(description="Identifiant du médiateur ou de la médiatrice.")
    accompagnements: int = Field(description="Nombre d'accompagnements (personnes aidées).")
    date: dt.date = Field(description="Jour de l'activité.")
    duree: int = Field(description="Durée en minutes.")
    type_lieu: PlaceType = Field(description="Où l'activité a eu lieu.")
    structure_id: UUID = Field(description="La structure (voir /structures).")
    lieu_activite_id: UUID | None = Field(
        description="Le lieu (voir /lieux-activite), si type_lieu = lieu_activite. "
        "N'existe pas à la Coop."
    )
    lieu_code_postal: str | None
    lieu_commune: str | None
    lieu_code_insee: str | None = Field(
        description="Commune du lieu d'activité, ou de l'« autre lieu »."
    )
    creation: dt.datetime = Field(description="Saisie de l'activité.")
    modification: dt.datetime = Field(description="Dernière modification (ordre de la liste).")
    autonomie: Autonomy | None
    oriente_vers_structure: bool | None
    structure_de_redirection: RedirectedTo | None
    materiel: list[Equipment]
    thematiques: list[Theme] = Field(description="Thématiques, puis démarches administratives.")
    tags: list[str] = Field(description="Toujours vide : Permanence n'a pas d'étiquettes libres.")
    precisions_demarche: str | None = Field(
        description="Texte libre : seulement si la structure a choisi de le partager."
    )
    titre_atelier: str | None
    niveau_atelier: WorkshopLevel | None


class Activite(Schema):
    type: Literal["activite"]
    id: UUID
    attributes: ActiviteAttributes


class ActiviteList(Schema):
    data: list[Activite]
    links: Links
    meta: ListMeta


# --- Structures and places ----------------------------------------------------------------------


class StructureAttributes(Schema):
    nom: str
    siret: str | None
    telephone: str | None = Field(description="Au format international (+33…).")
    courriels: list[str]
    creation: dt.datetime = Field(description="Création dans Permanence (ordre de la liste).")
    lieux_activite: list[UUID] = Field(description="Ses lieux (voir /lieux-activite).")


class StructureResource(Schema):
    type: Literal["structure"]
    id: UUID
    attributes: StructureAttributes


class StructureList(Schema):
    data: list[StructureResource]
    links: Links
    meta: ListMeta


class LieuAttributes(Schema):
    nom: str
    pivot: str | None = Field(description="SIRET de la structure, s'il est connu.")
    structure_id: UUID
    adresse: str
    commune: str
    code_postal: str
    code_insee: str
    telephone: str | None = Field(description="Au format international (+33…).")
    actif: bool = Field(description="Faux pour un lieu fermé (ses activités passées restent).")


class Lieu(Schema):
    type: Literal["lieu_activite"]
    id: UUID
    attributes: LieuAttributes


class LieuList(Schema):
    data: list[Lieu]
    links: Links
    meta: ListMeta


# --- Health and errors --------------------------------------------------------------------------


class HealthMeta(Schema):
    status: Literal["ok", "error"]
    version: Literal["v1"]


class Health(Schema):
    meta: HealthMeta


class ErrorSource(Schema):
    parameter: str | None = Field(None, description="Le paramètre de la requête en cause.")


class Error(Schema):
    status: str = Field(description="Le code HTTP, en texte (« 400 »).")
    code: str = Field(description="Code stable de l'erreur (invalid_parameter, unauthorized…).")
    title: str
    detail: str | None = None
    source: ErrorSource | None = None


class Errors(Schema):
    errors: list[Error]
