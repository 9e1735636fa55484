"""Refusals of the read API: bad input is a 400 JSON:API error naming the parameter, never a
500; missing, wrong or revoked credentials a 401; too many calls a 429. Each answer is valid
against the OpenAPI document (the `call` fixture checks it)."""

import base64
import json

import pytest
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api import services
from tests.api.conftest import structure_admin, token_for

ENDPOINTS = ["activites", "structures", "lieux-activite"]


def _error(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    [error] = response.json()["errors"]
    assert error["status"] == str(status)
    return error


def _b64(value) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


BAD = [
    ("page[size]", "0"),
    ("page[size]", "501"),
    ("page[size]", "abc"),
    ("page[size]", "-3"),
    ("page[size]", "1e3"),
    ("page[after]", "pas-un-curseur"),
    ("page[after]", "%%%"),
    ("page[before]", _b64(["2026-01-01T00:00:00+00:00"])),
    ("page[after]", _b64(["2026-01-01T00:00:00", "0b6c3a6e-4b5e-4a53-9d6b-3f6c0f2c1a11"])),
    ("page[after]", _b64(["hier", "0b6c3a6e-4b5e-4a53-9d6b-3f6c0f2c1a11"])),
    ("page[after]", _b64(["2026-01-01T00:00:00+00:00", "pas-un-uuid"])),
    ("page[after]", _b64({"a": 1})),
    ("page[after]", _b64([1, 2])),
    ("filter[creation][depuis]", "hier"),
    ("filter[creation][depuis]", "2026-13-45"),
    ("filter[modification][depuis]", "2026-02-30T10:00:00Z"),
    ("filter[modification][depuis]", "9999-12-31T23:59:59-05:00"),
    ("filter[creation][depuis]", "0001-01-01T00:00:00+05:00"),
    ("page[after]", _b64(["9999-12-31T23:59:59-05:00", "0b6c3a6e-4b5e-4a53-9d6b-3f6c0f2c1a11"])),
    ("filter[creation][avant]", "2026-01-01"),
    ("filter[lieu]", "x"),
    ("sort", "-date"),
    ("page[number]", "2"),
]


@pytest.mark.parametrize(("parameter", "value"), BAD)
def test_bad_input_is_a_400_naming_the_parameter(call, alpha, alpha_token, parameter, value):
    error = _error(call.get("activites", alpha_token, **{parameter: value}), 400)
    assert error["source"]["parameter"] == parameter
    assert error["code"] in ("invalid_parameter", "unknown_parameter")


@pytest.mark.parametrize("endpoint", ["structures", "lieux-activite"])
def test_filters_an_endpoint_does_not_take_are_refused(call, alpha_token, endpoint):
    error = _error(
        call.get(endpoint, alpha_token, **{"filter[modification][depuis]": "2026-01-01"}), 400
    )
    assert error["code"] == "unknown_parameter"


def test_both_cursors_at_once_are_refused(call, alpha_token):
    cursor = _b64(["2026-01-01T00:00:00+00:00", "0b6c3a6e-4b5e-4a53-9d6b-3f6c0f2c1a11"])
    error = _error(
        call.get("activites", alpha_token, **{"page[after]": cursor, "page[before]": cursor}),
        400,
    )
    assert error["source"]["parameter"] == "page[before]"


@given(
    st.dictionaries(
        st.sampled_from(
            [
                "page[size]",
                "page[after]",
                "page[before]",
                "filter[creation][depuis]",
                "filter[modification][depuis]",
                "filter[x]",
            ]
        ),
        st.text(max_size=60),
        max_size=3,
    )
)
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_no_query_string_gives_a_500(call, alpha_token, endpoint_query):
    for endpoint in ENDPOINTS:
        response = call.get(endpoint, alpha_token, **endpoint_query)
        assert response.status_code in (200, 400), (endpoint, endpoint_query, response.content)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize(
    "token",
    [
        None,
        "",
        "pas-de-deux-points",
        "0b6c3a6e-4b5e-4a53-9d6b-3f6c0f2c1a11:mauvais-secret",
        "pas-un-uuid:secret",
        ":",
    ],
)
def test_missing_or_wrong_credentials_are_a_401(call, alpha, endpoint, token):
    error = _error(call.get(endpoint, token), 401)
    assert error["code"] == "unauthorized"


def test_a_wrong_secret_of_a_real_client_and_a_revoked_client_are_a_401(call, alpha):
    client, token = token_for(structure=alpha)
    client_id = token.partition(":")[0]
    _error(call.get("activites", f"{client_id}:autre-secret"), 401)
    assert call.get("activites", token).status_code == 200
    services.api_client_revoke(client=client, by=structure_admin(alpha))
    # Refused at once, even though the token was just checked (and remembered).
    response = call.get("activites", token)
    _error(response, 401)
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_the_secret_is_stored_hashed(alpha):
    client, token = token_for(structure=alpha)
    secret = token.partition(":")[2]
    assert secret not in client.secret_hash and len(secret) >= 40
    client.refresh_from_db()
    assert client.secret_hash.startswith(("md5$", "pbkdf2_sha256$", "argon2", "scrypt"))


@override_settings(API_RATE_LIMIT_PER_MINUTE=3)
def test_a_client_calling_too_often_is_told_to_wait(call, alpha_token):
    for _ in range(3):
        assert call.get("structures", alpha_token).status_code == 200
    response = call.get("structures", alpha_token)
    assert _error(response, 429)["code"] == "rate_limited"
    assert response["Retry-After"] == "60"


@override_settings(API_AUTH_FAILURES_PER_MINUTE=2)
def test_an_address_guessing_tokens_is_refused_before_any_check(call, alpha, monkeypatch):
    client, token = token_for(structure=alpha)
    for _ in range(3):
        _error(call.get("activites", f"{client.uuid}:devine"), 401)
    checks = []
    monkeypatch.setattr(services, "check_password", lambda *a: checks.append(a) or True)
    _error(call.get("activites", token), 429)
    assert checks == []


def test_an_unknown_path_under_the_api_is_not_a_500(client):
    assert client.get("/api/v1/inconnu").status_code == 404


def test_health_needs_no_token(call, db):
    response = call.get("health")
    assert response.status_code == 200
    assert response.json() == {"meta": {"status": "ok", "version": "v1"}}


def test_calls_are_logged_without_the_token(call, alpha_token, caplog):
    with caplog.at_level("INFO", logger="permanence.api"):
        call.get("activites", alpha_token)
    secret = alpha_token.partition(":")[2]
    assert "API /api/v1/activites client=" in caplog.text
    assert secret not in caplog.text
