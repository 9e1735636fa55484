"""Fixtures of the read API's tests: API clients with their tokens, and a client of the test
server that checks every answer of the API against the OpenAPI document it publishes."""

import json

import pytest
from django.core.cache import cache
from openapi_core import OpenAPI
from openapi_core.contrib.django import DjangoOpenAPIRequest, DjangoOpenAPIResponse

from api import services
from api.v1 import api
from mediation.choices import Role
from tests.factories import MembershipFactory, NetworkFactory, StructureFactory, UserFactory


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(scope="session")
def openapi_document():
    """The document /api/v1/openapi.json serves (as JSON: its status codes are strings)."""
    return json.loads(json.dumps(api.get_openapi_schema(path_prefix="/api/v1")))


@pytest.fixture(scope="session")
def openapi(openapi_document):
    return OpenAPI.from_dict(openapi_document)


class ApiCaller:
    """GETs the API as a client would (a bearer token, no session) and validates each answer
    (status, headers, body) against the OpenAPI document."""

    def __init__(self, client, openapi):
        self.client, self.openapi, self.checked = client, openapi, 0

    def get(self, path, token=None, **query):
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        response = self.client.get(f"/api/v1/{path}", query, headers=headers)
        self.validate(response)
        return response

    def url(self, url, token):
        response = self.client.get(url, headers={"Authorization": f"Bearer {token}"})
        self.validate(response)
        return response

    def validate(self, response):
        self.openapi.validate_response(
            DjangoOpenAPIRequest(response.wsgi_request), DjangoOpenAPIResponse(response)
        )
        self.checked += 1


@pytest.fixture
def call(client, openapi):
    return ApiCaller(client, openapi)


def structure_admin(structure):
    user = UserFactory()
    MembershipFactory(user=user, structure=structure, role=Role.STRUCTURE_ADMIN)
    return user


def token_for(structure=None, network=None, by=None):
    """A new API client of the structure or network, and its token."""
    if by is None:
        by = structure_admin(structure) if structure is not None else None
    client, secret = services.api_client_create(
        name="Entrepôt", by=by, structure=structure, network=network
    )
    return client, f"{client.uuid}:{secret}"


@pytest.fixture
def alpha(db):
    return StructureFactory(name="Alpha", slug="alpha")


@pytest.fixture
def beta(db):
    return StructureFactory(name="Bêta", slug="beta")


@pytest.fixture
def network(alpha, beta):
    network = NetworkFactory(name="Réseau des deux", slug="deux")
    alpha.networks.add(network)
    beta.networks.add(network)
    return network


@pytest.fixture
def alpha_token(alpha):
    return token_for(structure=alpha)[1]
