"""GET /api/v1/structures and /api/v1/lieux-activite: the client's structures and places only,
paginated like the activities."""

from datetime import UTC, datetime, timedelta

from mediation.models import Structure
from tests.api.conftest import token_for
from tests.api.test_activities import network_coordinator
from tests.factories import PlaceFactory, StructureFactory


def test_a_structure_client_reads_its_structure_and_places(call, alpha, beta):
    alpha.siret = "21350155700019"
    alpha.email = "contact@loheac.fr"
    alpha.phone = "+33299000000"
    alpha.save()
    first = PlaceFactory(structure=alpha, name="A", phone="+33299000001")
    second = PlaceFactory(structure=alpha, name="B", is_active=False)
    PlaceFactory(structure=beta)
    token = token_for(structure=alpha)[1]

    [structure] = call.get("structures", token).json()["data"]
    assert structure["type"] == "structure" and structure["id"] == str(alpha.uuid)
    assert structure["attributes"] | {"creation": None} == {
        "nom": "Alpha",
        "siret": "21350155700019",
        "telephone": "+33299000000",
        "courriels": ["contact@loheac.fr"],
        "creation": None,
        "lieux_activite": [str(first.uuid), str(second.uuid)],
    }

    places = call.get("lieux-activite", token).json()["data"]
    assert {p["id"] for p in places} == {str(first.uuid), str(second.uuid)}
    by_id = {p["id"]: p["attributes"] for p in places}
    assert by_id[str(first.uuid)] == {
        "nom": "A",
        "pivot": "21350155700019",
        "structure_id": str(alpha.uuid),
        "adresse": first.address,
        "commune": first.commune,
        "code_postal": first.postcode,
        "code_insee": first.insee_code,
        "telephone": "+33299000001",
        "actif": True,
    }
    assert by_id[str(second.uuid)]["actif"] is False


def test_a_network_client_reads_the_structures_that_join_it_later(call, alpha, beta, network):
    token = token_for(network=network, by=network_coordinator(network))[1]
    assert len(call.get("structures", token).json()["data"]) == 2
    newcomer = StructureFactory(networks=[network])
    ids = [item["id"] for item in call.get("structures", token).json()["data"]]
    assert ids[0] == str(newcomer.uuid) and len(ids) == 3


def test_structures_and_places_page_through_without_loss(call, network):
    coordinator = network_coordinator(network)
    for index in range(7):
        structure = StructureFactory(networks=[network])
        Structure.objects.filter(pk=structure.pk).update(
            created_at=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=index // 2)
        )
        PlaceFactory(structure=structure)
    token = token_for(network=network, by=coordinator)[1]
    for endpoint, total in (("structures", 9), ("lieux-activite", 7)):
        everything = [i["id"] for i in call.get(endpoint, token).json()["data"]]
        assert len(everything) == total
        seen, body = [], call.get(endpoint, token, **{"page[size]": 2}).json()
        while True:
            seen += [i["id"] for i in body["data"]]
            if not body["links"]["next"]:
                break
            body = call.url(body["links"]["next"], token).json()
        assert seen == everything


def test_structures_filter_by_creation(call, alpha):
    Structure.objects.filter(pk=alpha.pk).update(created_at=datetime(2025, 1, 1, tzinfo=UTC))
    token = token_for(structure=alpha)[1]
    assert (
        call.get("structures", token, **{"filter[creation][depuis]": "2025-06-01"}).json()["data"]
        == []
    )
