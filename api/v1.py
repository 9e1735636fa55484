"""The read API, version 1 (`/api/v1/`): the activity log, structures and places of an API
client's scope, in the style of La Coop de la médiation numérique's API (JSON:API documents,
cursor pagination, filters by creation and last change), and its health.

An interface, like a view: it parses the query (typed parameters, unknown ones refused),
authenticates the client (`api.services`), asks the selectors (`api.selectors`) and renders the
document; django-ninja validates each response against its schema (`api.schemas`) and
generates the OpenAPI document from them. Every refusal is a JSON:API error document (400,
401, 404, 429), never a 500. Every call is rate-limited (`mediation.ratelimit`) and logged
(logger `permanence.api`)."""

from __future__ import annotations

import functools
import json
import logging
import time
from datetime import UTC, datetime
from urllib.parse import urlencode

from django.conf import settings
from django.db import connection
from django.http import Http404, HttpResponse
from django.utils import timezone
from ninja import Field, NinjaAPI, Query, Schema, Status
from ninja.errors import AuthenticationError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import HttpBearer

from api import schemas, selectors, services
from api.pagination import CursorError, Order, Page, decode_cursor
from cases.models import HelpSession
from mediation import ratelimit
from mediation.models import Place, Structure

logger = logging.getLogger("permanence.api")

DEFAULT_PAGE_SIZE = 500
MAX_PAGE_SIZE = 500

api = NinjaAPI(
    title="Permanence — API de lecture",
    version="1",
    description=(
        "Les activités (comptes rendus d'accompagnement), structures et lieux d'activité d'une "
        "structure ou d'un réseau, dans le vocabulaire de La Coop de la médiation numérique. "
        "Authentification : `Authorization: Bearer <identifiant du client>:<secret>`. "
        "Documentation : /api/v1/documentation/."
    ),
    urls_namespace="api_v1",
    docs_url=None,
    openapi_url="/openapi.json",
)


# --- Errors -------------------------------------------------------------------------------------


class BadRequest(Exception):
    def __init__(self, parameter: str | None, detail: str, code: str = "invalid_parameter"):
        super().__init__(detail)
        self.parameter, self.detail, self.code = parameter, detail, code


class RateLimited(Exception):
    pass


def error_document(status: int, code: str, title: str, detail=None, parameter=None) -> dict:
    error = {"status": str(status), "code": code, "title": title}
    if detail:
        error["detail"] = detail
    if parameter:
        error["source"] = {"parameter": parameter}
    return {"errors": [error]}


def _error(request, status: int, document: dict, **headers):
    response = api.create_response(request, document, status=status)
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    response["Cache-Control"] = "no-store"
    return response


@api.exception_handler(BadRequest)
def _bad_request(request, exc: BadRequest):
    return _error(
        request,
        400,
        error_document(400, exc.code, "Requête invalide", exc.detail, exc.parameter),
    )


@api.exception_handler(NinjaValidationError)
def _invalid(request, exc: NinjaValidationError):
    errors = []
    for item in exc.errors:
        location = list(item.get("loc", ()))
        parameter = str(location[-1]) if location else None
        errors.append(
            error_document(
                400, "invalid_parameter", "Paramètre invalide", item.get("msg"), parameter
            )["errors"][0]
        )
    return _error(request, 400, {"errors": errors})


@api.exception_handler(AuthenticationError)
def _unauthorized(request, exc):
    detail = (
        "Donnez « Authorization: Bearer <identifiant du client>:<secret> » : un client créé "
        "par la structure ou le réseau, non révoqué."
    )
    return _error(
        request,
        401,
        error_document(401, "unauthorized", "Identifiants absents ou refusés", detail),
        WWW_Authenticate='Bearer realm="api"',
    )


@api.exception_handler(RateLimited)
def _rate_limited(request, exc):
    return _error(
        request,
        429,
        error_document(429, "rate_limited", "Trop de requêtes", "Réessayez dans une minute."),
        Retry_After="60",
    )


@api.exception_handler(Http404)
def _not_found(request, exc):
    return _error(request, 404, error_document(404, "not_found", "Introuvable"))


# --- Authentication -----------------------------------------------------------------------------


class ClientToken(HttpBearer):
    """`Authorization: Bearer <client uuid>:<secret>`. Failures are counted per address: past
    API_AUTH_FAILURES_PER_MINUTE, the address is refused (429) before any secret is checked;
    a client past API_RATE_LIMIT_PER_MINUTE calls is refused too."""

    openapi_description = "Identifiant du client et secret, séparés par « : »."

    def authenticate(self, request, token):
        address = ratelimit.client_ip(request)
        failures = settings.API_AUTH_FAILURES_PER_MINUTE
        if ratelimit.exceeded("api-auth", address, limit=failures, window=60):
            raise RateLimited
        client = services.api_client_authenticate(token)
        if client is None:
            ratelimit.hit("api-auth", address, limit=failures, window=60)
            return None
        limit = settings.API_RATE_LIMIT_PER_MINUTE
        if not ratelimit.hit("api", str(client.uuid), limit=limit, window=60):
            raise RateLimited
        services.api_client_used(client)
        return client


bearer = ClientToken()
ERRORS = {400: schemas.Errors, 401: schemas.Errors, 429: schemas.Errors}


def served(view):
    """Render the operation's document and log the call: client, path, rows, time (never a
    token).

    The document is built of JSON types by the selectors and written as it is: validating
    500 items against the schemas at every call would cost more than reading them (the
    tests validate every answer against the OpenAPI document instead, `tests/api/`)."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        start = time.perf_counter()
        document = view(request, *args, **kwargs)
        response = HttpResponse(
            json.dumps(document, ensure_ascii=False, separators=(",", ":")),
            content_type="application/json; charset=utf-8",
        )
        response["Cache-Control"] = "no-store"
        logger.info(
            "API %s client=%s status=200 items=%s ms=%.1f",
            request.path,
            request.auth.uuid,
            len(document["data"]),
            (time.perf_counter() - start) * 1000,
        )
        return response

    return wrapper


# --- Parameters ---------------------------------------------------------------------------------


class PageParams(Schema):
    size: int = Field(
        DEFAULT_PAGE_SIZE,
        ge=1,
        le=MAX_PAGE_SIZE,
        alias="page[size]",
        description="Nombre d'éléments par page, de 1 à 500.",
    )
    after: str | None = Field(
        None, alias="page[after]", description="Curseur : la page qui suit (plus ancienne)."
    )
    before: str | None = Field(
        None, alias="page[before]", description="Curseur : la page qui précède (plus récente)."
    )


class CreationFilter(PageParams):
    created_since: datetime | None = Field(
        None,
        alias="filter[creation][depuis]",
        description="Créés à partir de cette date-heure ISO 8601 (UTC si sans fuseau).",
    )


class ActivityFilters(CreationFilter):
    modified_since: datetime | None = Field(
        None,
        alias="filter[modification][depuis]",
        description="Modifiées à partir de cette date-heure ISO 8601 (UTC si sans fuseau).",
    )


def _known_only(request, params_class: type[Schema]) -> None:
    known = {field.alias or name for name, field in params_class.model_fields.items()}
    for name in request.GET:
        if name not in known:
            raise BadRequest(
                name,
                f"Paramètre inconnu « {name} ». Paramètres acceptés : {', '.join(sorted(known))}.",
                code="unknown_parameter",
            )


def _cursors(params: PageParams, model, order: Order) -> tuple[tuple | None, tuple | None]:
    if params.after is not None and params.before is not None:
        raise BadRequest("page[before]", "Donnez page[after] ou page[before], pas les deux.")
    decoded = []
    for name, value in (("page[after]", params.after), ("page[before]", params.before)):
        if value is None:
            decoded.append(None)
            continue
        try:
            decoded.append(decode_cursor(value, model, order))
        except CursorError:
            raise BadRequest(
                name, "Curseur illisible : reprenez le lien next ou prev d'une réponse."
            ) from None
    return decoded[0], decoded[1]


def _since(moment: datetime | None, parameter: str) -> datetime | None:
    """A filter's date-time in UTC (UTC when it gives no time zone); 400 when it has no UTC
    equivalent (year 9999 west of Greenwich)."""
    if moment is None:
        return None
    if timezone.is_naive(moment):
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise BadRequest(parameter, "Date-heure hors des limites.") from None


def _document(request, kind: str, page: Page, attributes: list[dict], order: Order, params):
    """The JSON:API list document: `data`, `links` (self, next, prev) and `meta`."""
    kept = {
        name: value
        for name, value in request.GET.items()
        if name not in ("page[after]", "page[before]")
    }

    def link(cursor_name=None, cursor=None):
        query = dict(kept)
        if cursor_name:
            query[cursor_name] = cursor
        return request.build_absolute_uri(request.path + (f"?{urlencode(query)}" if query else ""))

    current = (
        ("page[after]", params.after)
        if params.after
        else (("page[before]", params.before) if params.before else (None, None))
    )
    return {
        "data": [
            {"type": kind, "id": str(order.key(row)[-1]), "attributes": attrs}
            for row, attrs in zip(page.rows, attributes, strict=True)
        ],
        "links": {
            "self": link(*current),
            "next": link("page[after]", page.last) if page.has_next and page.last else None,
            "prev": link("page[before]", page.first) if page.has_prev and page.first else None,
        },
        "meta": {
            "items_per_page": params.size,
            "has_next_page": page.has_next,
            "has_prev_page": page.has_prev,
        },
    }


# --- Operations ---------------------------------------------------------------------------------


@api.get(
    "/activites",
    auth=bearer,
    response={200: schemas.ActiviteList, **ERRORS},
    url_name="activites",
    summary="Liste des activités",
    description=(
        "Les accompagnements et ateliers de la structure ou du réseau du client, triés par "
        "date de dernière modification décroissante (puis identifiant). Aucune donnée sur les "
        "personnes aidées ; les précisions de démarche seulement si la structure les partage."
    ),
    tags=["Activités"],
)
@served
def activites(request, params: Query[ActivityFilters]):
    _known_only(request, ActivityFilters)
    after, before = _cursors(params, HelpSession, selectors.ACTIVITY_ORDER)
    page, attributes = selectors.activities_page(
        request.auth,
        size=params.size,
        after=after,
        before=before,
        created_since=_since(params.created_since, "filter[creation][depuis]"),
        modified_since=_since(params.modified_since, "filter[modification][depuis]"),
    )
    return _document(request, "activite", page, attributes, selectors.ACTIVITY_ORDER, params)


@api.get(
    "/structures",
    auth=bearer,
    response={200: schemas.StructureList, **ERRORS},
    url_name="structures",
    summary="Liste des structures",
    description="La structure du client, ou celles de son réseau, les plus récentes d'abord.",
    tags=["Structures"],
)
@served
def structures(request, params: Query[CreationFilter]):
    _known_only(request, CreationFilter)
    after, before = _cursors(params, Structure, selectors.STRUCTURE_ORDER)
    page, attributes = selectors.structures_page(
        request.auth,
        size=params.size,
        after=after,
        before=before,
        created_since=_since(params.created_since, "filter[creation][depuis]"),
    )
    return _document(request, "structure", page, attributes, selectors.STRUCTURE_ORDER, params)


@api.get(
    "/lieux-activite",
    auth=bearer,
    response={200: schemas.LieuList, **ERRORS},
    url_name="lieux_activite",
    summary="Liste des lieux d'activité",
    description="Les lieux des structures du client, dans l'ordre de leurs identifiants.",
    tags=["Lieux d'activité"],
)
@served
def lieux_activite(request, params: Query[PageParams]):
    _known_only(request, PageParams)
    after, before = _cursors(params, Place, selectors.PLACE_ORDER)
    page, attributes = selectors.places_page(
        request.auth, size=params.size, after=after, before=before
    )
    return _document(request, "lieu_activite", page, attributes, selectors.PLACE_ORDER, params)


@api.get(
    "/health",
    response={200: schemas.Health, 503: schemas.Health},
    url_name="health",
    summary="État du service",
    description="Sans authentification : la base de données répond-elle ?",
    tags=["Service"],
)
def health(request):
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            healthy = cursor.fetchone()[0] == 1
    except Exception:  # noqa: BLE001 — any failure means "not healthy"
        healthy = False
    return Status(
        200 if healthy else 503, {"meta": {"status": "ok" if healthy else "error", "version": "v1"}}
    )
