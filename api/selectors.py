"""Reads of the read API: what an API client may see (its scope), and the pages of activities,
structures and places in the national vocabulary (`cases/national.py`).

Nothing about a resident leaves: no identity, no note; the free-text precision of a procedure
only for a structure that chose to share it (`Structure.api_shares_precisions`). Each page is
read in a fixed number of queries whatever its position (`api.pagination`)."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

from django.db.models import QuerySet

from api.models import ApiClient
from api.pagination import Order, Page, keyset_page
from cases import national
from cases.choices import PlaceType, SessionKind, TagDimension
from cases.models import HelpSession, SessionTag
from mediation.communes import commune_name
from mediation.models import Place, Structure

ACTIVITY_ORDER = Order(("updated_at", "uuid"))
STRUCTURE_ORDER = Order(("created_at", "uuid"))
PLACE_ORDER = Order(("uuid",))


def _uuid(value) -> str | None:
    return None if value is None else str(value)


def _moment(value: datetime) -> str:
    """An instant in UTC, as the Coop writes them: 2026-03-02T09:00:00Z."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def client_structures(client: ApiClient) -> QuerySet:
    """The ids of the structures `client` reads, as a subquery: its structure, or every
    structure linked to its network at the time of the request."""
    if client.structure_id is not None:
        return Structure.objects.filter(pk=client.structure_id).values("pk")
    return Structure.networks.through.objects.filter(network_id=client.network_id).values(
        "structure_id"
    )


# --- Activities -------------------------------------------------------------------------------

ACTIVITY_FIELDS = (
    "id",
    "uuid",
    "kind",
    "date",
    "duration_minutes",
    "place_type",
    "other_commune_insee",
    "people_count",
    "autonomy",
    "outcome",
    "redirected_to",
    "title",
    "level",
    "procedure_detail",
    "created_at",
    "updated_at",
    "mediator__uuid",
    "structure__uuid",
    "structure__api_shares_precisions",
    "place__uuid",
    "place__postcode",
    "place__commune",
    "place__insee_code",
)


def activities_page(
    client: ApiClient,
    *,
    size: int,
    after: tuple | None = None,
    before: tuple | None = None,
    created_since: datetime | None = None,
    modified_since: datetime | None = None,
) -> tuple[Page, list[dict]]:
    """A page of the client's sessions, newest change first, and their `activite` attributes.
    Three or four queries: the rows (with their mediator, structure and place), the other side
    of the cursor, and the themes, procedure areas and equipment of the page."""
    sessions = HelpSession.objects.filter(structure_id__in=client_structures(client))
    if created_since is not None:
        sessions = sessions.filter(created_at__gte=created_since)
    if modified_since is not None:
        sessions = sessions.filter(updated_at__gte=modified_since)
    page = keyset_page(
        sessions, ACTIVITY_ORDER, size=size, after=after, before=before, values=ACTIVITY_FIELDS
    )
    tags: dict[int, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    if page.rows:
        for session_id, dimension, code in SessionTag.objects.filter(
            session_id__in=[row["id"] for row in page.rows]
        ).values_list("session_id", "dimension", "code"):
            tags[session_id][dimension].append(code)
    return page, [activity_attributes(row, tags[row["id"]]) for row in page.rows]


def activity_attributes(row: dict, tags: dict[str, list[str]]) -> dict:
    """The Coop's attributes of one session (`values()` row of ACTIVITY_FIELDS), as JSON
    types."""
    at_place = row["place_type"] == PlaceType.PLACE
    collective = row["kind"] == SessionKind.COLLECTIVE
    outcome = row["outcome"]
    shares = row["structure__api_shares_precisions"]
    return {
        "type": national.coop_value(national.KIND, row["kind"]),
        "mediateur_id": str(row["mediator__uuid"]),
        "accompagnements": row["people_count"],
        "date": row["date"].isoformat(),
        "duree": row["duration_minutes"],
        "type_lieu": national.coop_value(national.PLACE_TYPE, row["place_type"]),
        "structure_id": str(row["structure__uuid"]),
        # Not one of the Coop's attributes: the place among `lieux-activite`.
        "lieu_activite_id": _uuid(row["place__uuid"]) if at_place else None,
        "lieu_code_postal": row["place__postcode"] if at_place else None,
        # An "autre lieu" is named from the list of communes (`mediation.communes`).
        "lieu_commune": (
            row["place__commune"]
            if at_place
            else (commune_name(row["other_commune_insee"]) or None)
        ),
        "lieu_code_insee": (
            row["place__insee_code"] if at_place else (row["other_commune_insee"] or None)
        ),
        "creation": _moment(row["created_at"]),
        "modification": _moment(row["updated_at"]),
        "autonomie": national.coop_value(national.AUTONOMY, row["autonomy"]),
        "oriente_vers_structure": national.coop_value(national.REDIRECTED, outcome),
        "structure_de_redirection": national.coop_value(
            national.REDIRECTED_TO, row["redirected_to"]
        ),
        "materiel": national.coop_values(national.EQUIPMENT, tags.get(TagDimension.EQUIPMENT, ())),
        "thematiques": national.coop_values(national.THEMES, tags.get(TagDimension.THEME, ()))
        + national.coop_values(national.PROCEDURES, tags.get(TagDimension.PROCEDURE, ())),
        # Permanence has no free tags.
        "tags": [],
        "precisions_demarche": (row["procedure_detail"] or None) if shares else None,
        "titre_atelier": (row["title"] or None) if collective else None,
        "niveau_atelier": (
            national.coop_value(national.WORKSHOP_LEVEL, row["level"]) if collective else None
        ),
    }


# --- Structures and places ----------------------------------------------------------------------


def structures_page(
    client: ApiClient,
    *,
    size: int,
    after: tuple | None = None,
    before: tuple | None = None,
    created_since: datetime | None = None,
) -> tuple[Page, list[dict]]:
    """A page of the client's structures, newest first, with the ids of their places."""
    structures = Structure.objects.filter(pk__in=client_structures(client))
    if created_since is not None:
        structures = structures.filter(created_at__gte=created_since)
    page = keyset_page(structures, STRUCTURE_ORDER, size=size, after=after, before=before)
    places: dict[int, list] = defaultdict(list)
    if page.rows:
        for structure_id, place_uuid in (
            Place.objects.filter(structure__in=[s.pk for s in page.rows])
            .order_by("name")
            .values_list("structure_id", "uuid")
        ):
            places[structure_id].append(str(place_uuid))
    return page, [
        {
            "nom": structure.name,
            "siret": structure.siret or None,
            "telephone": structure.phone.as_e164 if structure.phone else None,
            "courriels": [structure.email] if structure.email else [],
            "creation": _moment(structure.created_at),
            "lieux_activite": places[structure.pk],
        }
        for structure in page.rows
    ]


def places_page(
    client: ApiClient,
    *,
    size: int,
    after: tuple | None = None,
    before: tuple | None = None,
) -> tuple[Page, list[dict]]:
    """A page of the client's places (in the order of their UUIDs: places carry no date)."""
    places = Place.objects.filter(structure_id__in=client_structures(client)).select_related(
        "structure"
    )
    page = keyset_page(places, PLACE_ORDER, size=size, after=after, before=before)
    return page, [
        {
            "nom": place.name,
            "pivot": place.structure.siret or None,
            "structure_id": str(place.structure.uuid),
            "adresse": place.address,
            "commune": place.commune,
            "code_postal": place.postcode,
            "code_insee": place.insee_code,
            "telephone": place.phone.as_e164 if place.phone else None,
            "actif": place.is_active,
        }
        for place in page.rows
    ]
