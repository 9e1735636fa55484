"""The OpenAPI document of the read API: served at /api/v1/openapi.json, generated from the
code, a valid OpenAPI 3 document, whose enumerations are the national values."""

from openapi_spec_validator import validate

from cases import national


def test_the_served_document_is_the_generated_one_and_valid(client, db, openapi_document):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.json() == openapi_document
    validate(openapi_document)
    assert openapi_document["openapi"].startswith("3.")


def test_it_describes_the_endpoints_their_parameters_and_their_errors(openapi_document):
    paths = openapi_document["paths"]
    assert set(paths) == {
        "/api/v1/activites",
        "/api/v1/structures",
        "/api/v1/lieux-activite",
        "/api/v1/health",
    }
    activites = paths["/api/v1/activites"]["get"]
    names = {p["name"] for p in activites["parameters"]}
    assert names == {
        "page[size]",
        "page[after]",
        "page[before]",
        "filter[creation][depuis]",
        "filter[modification][depuis]",
    }
    size = next(p for p in activites["parameters"] if p["name"] == "page[size]")["schema"]
    assert (size["minimum"], size["maximum"], size["default"]) == (1, 500, 500)
    assert {"200", "400", "401", "429"} <= set(activites["responses"])
    assert activites["security"] == [{"ClientToken": []}]
    assert "security" not in paths["/api/v1/health"]["get"]


def test_its_enumerations_are_the_national_values(openapi_document):
    schemas = openapi_document["components"]["schemas"]
    attributes = schemas["ActiviteAttributes"]["properties"]

    def enum(schema):
        for option in schema.get("anyOf", [schema]):
            if "enum" in option:
                return option["enum"]
            if "items" in option:
                return option["items"]["enum"]
        raise AssertionError(schema)

    assert enum(attributes["type"]) == list(national.KIND.national)
    assert enum(attributes["thematiques"]) == list(national.THEMES.national)
    assert enum(attributes["materiel"]) == list(national.EQUIPMENT.national)
    assert enum(attributes["autonomie"]) == list(national.AUTONOMY.national)
    assert enum(attributes["structure_de_redirection"]) == list(national.REDIRECTED_TO.national)
    assert enum(attributes["niveau_atelier"]) == list(national.WORKSHOP_LEVEL.national)
    assert enum(attributes["type_lieu"]) == list(national.PLACE_TYPE.national)


def test_the_documentation_page_is_public_and_french(client, db):
    response = client.get("/api/v1/documentation/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Authorization: Bearer" in page and "/api/v1/openapi.json" in page
    assert "filter[modification][depuis]" in page
