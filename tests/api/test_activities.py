"""GET /api/v1/activites: the Coop's attributes in the national vocabulary, nothing about the
people helped, newest change first, keyset pagination both ways, filters, a bounded number of
queries whatever the depth, and every answer valid against the OpenAPI document."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.utils import timezone

from api.pagination import encode_cursor
from cases.choices import Equipment, Outcome, PlaceType, ProcedureArea, RedirectedTo, Theme
from cases.models import HelpSession
from cases.services.sessions import session_update
from tests.api.conftest import structure_admin, token_for
from tests.cases.factories import HelpSessionFactory, WorkshopSessionFactory
from tests.factories import PlaceFactory, ResidentFactory

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _sessions(structure, count, *, start=T0, step=timedelta(minutes=1), **fields):
    """`count` sessions of `structure`, changed one `step` apart (newest last)."""
    sessions = [HelpSessionFactory(structure=structure, **fields) for _ in range(count)]
    for index, session in enumerate(sessions):
        HelpSession.objects.filter(pk=session.pk).update(
            created_at=start + index * step, updated_at=start + index * step
        )
    return sessions


def _ids(response) -> list[str]:
    return [item["id"] for item in response.json()["data"]]


def test_an_activity_carries_the_coops_attributes_in_its_vocabulary(call, alpha):
    place = PlaceFactory(structure=alpha, postcode="35550", commune="Lohéac", insee_code="35155")
    session = HelpSessionFactory(
        structure=alpha,
        place=place,
        place_type=PlaceType.PLACE,
        duration_minutes=45,
        themes=[Theme.DEMARCHES_ADMINISTRATIVES, Theme.ACCOMPAGNER_PROFESSIONNEL],
        procedures=[ProcedureArea.RETRAITE, ProcedureArea.LOGEMENT],
        equipment=[Equipment.PHONE, Equipment.COMPUTER],
        autonomy="partly_autonomous",
        outcome=Outcome.REDIRECTED,
        redirected_to=RedirectedTo.FRANCE_SERVICES,
    )
    response = call.get("activites", token_for(structure=alpha)[1])
    assert response.status_code == 200
    [item] = response.json()["data"]
    assert item["type"] == "activite" and item["id"] == str(session.uuid)
    attributes = item["attributes"]
    assert attributes == {
        "type": "individuel",
        "mediateur_id": str(session.mediator.uuid),
        "accompagnements": 1,
        "date": "2026-01-12",
        "duree": 45,
        "type_lieu": "lieu_activite",
        "structure_id": str(alpha.uuid),
        "lieu_activite_id": str(place.uuid),
        "lieu_code_postal": "35550",
        "lieu_commune": "Lohéac",
        "lieu_code_insee": "35155",
        "creation": attributes["creation"],
        "modification": attributes["modification"],
        "autonomie": "partiellement_autonome",
        "oriente_vers_structure": True,
        "structure_de_redirection": "aide_aux_demarches_administratives",
        "materiel": ["ordinateur", "telephone"],
        "thematiques": [
            "entrepreneuriat",
            "aide_aux_demarches_administratives",
            "travail_formation",
            "logement",
        ],
        "tags": [],
        "precisions_demarche": None,
        "titre_atelier": None,
        "niveau_atelier": None,
    }


def test_a_workshop_gives_its_title_level_and_number_of_people(call, alpha):
    WorkshopSessionFactory(
        structure=alpha, title="Découvrir son smartphone", level="intermediate", people_count=7
    )
    [item] = call.get("activites", token_for(structure=alpha)[1]).json()["data"]
    attributes = item["attributes"]
    assert attributes["type"] == "collectif"
    assert attributes["titre_atelier"] == "Découvrir son smartphone"
    assert attributes["niveau_atelier"] == "intermediaire"
    assert attributes["accompagnements"] == 7


def test_another_place_gives_its_commune_and_no_place(call, alpha):
    HelpSessionFactory(structure=alpha, place_type=PlaceType.OTHER, other_commune_insee="35238")
    HelpSessionFactory(structure=alpha, place_type=PlaceType.HOME)
    items = call.get("activites", token_for(structure=alpha)[1]).json()["data"]
    by_type = {item["attributes"]["type_lieu"]: item["attributes"] for item in items}
    assert by_type["autre"]["lieu_code_insee"] == "35238"
    assert by_type["autre"]["lieu_commune"] == "Rennes"
    assert by_type["autre"]["lieu_activite_id"] is None
    assert by_type["domicile"]["lieu_code_insee"] is None


def test_nothing_about_the_resident_leaves_and_precisions_only_when_shared(call, alpha):
    resident = ResidentFactory(
        structure=alpha, first_name="Zéphyrine", last_name="Alphonsine", phone="+33612345678"
    )
    HelpSessionFactory(
        structure=alpha,
        resident=resident,
        notes="Zéphyrine a oublié son mot de passe",
        procedure_detail="Demande de RSA de Zéphyrine",
    )
    token = token_for(structure=alpha)[1]
    body = call.get("activites", token).content.decode()
    for secret in ("Zéphyrine", "Alphonsine", "612345678", "mot de passe", "RSA"):
        assert secret not in body

    alpha.api_shares_precisions = True
    alpha.save()
    [item] = call.get("activites", token).json()["data"]
    assert item["attributes"]["precisions_demarche"] == "Demande de RSA de Zéphyrine"
    assert "a oublié" not in call.get("activites", token).content.decode()


def test_newest_change_first_and_an_edit_moves_a_session_to_the_top(call, alpha):
    admin = structure_admin(alpha)
    place = PlaceFactory(structure=alpha)
    sessions = _sessions(alpha, 3, mediator=admin, place=place)
    token = token_for(structure=alpha)[1]
    assert _ids(call.get("activites", token)) == [str(s.uuid) for s in reversed(sessions)]

    session_update(session=sessions[0], by=admin, duration_minutes=50)
    assert _ids(call.get("activites", token))[0] == str(sessions[0].uuid)


def test_pages_walk_the_whole_list_forwards_and_backwards_through_ties(call, alpha):
    # Ties on the last change (same moment): the UUID breaks them, nothing is lost or repeated.
    sessions = _sessions(alpha, 7, step=timedelta(0)) + _sessions(
        alpha, 5, start=T0 + timedelta(hours=1)
    )
    token = token_for(structure=alpha)[1]
    everything = _ids(call.get("activites", token, **{"page[size]": 500}))
    assert len(everything) == 12 and len(set(everything)) == 12

    pages, response = [], call.get("activites", token, **{"page[size]": 5})
    while True:
        body = response.json()
        pages.append([item["id"] for item in body["data"]])
        if not body["links"]["next"]:
            assert body["meta"]["has_next_page"] is False
            break
        assert body["meta"]["has_next_page"] is True
        response = call.url(body["links"]["next"], token)
    assert [len(page) for page in pages] == [5, 5, 2]
    assert sum(pages, []) == everything
    assert set(everything) == {str(s.uuid) for s in sessions}

    # And back from the last page, through the prev links.
    back = [pages[-1]]
    while body["links"]["prev"]:
        assert body["meta"]["has_prev_page"] is True
        body = call.url(body["links"]["prev"], token).json()
        back.insert(0, [item["id"] for item in body["data"]])
    assert body["meta"]["has_prev_page"] is False
    assert sum(back, []) == everything


def test_the_links_keep_the_size_and_filters(call, alpha):
    _sessions(alpha, 3)
    token = token_for(structure=alpha)[1]
    since = "2026-03-02T09:00:00Z"
    body = call.get(
        "activites", token, **{"page[size]": 2, "filter[modification][depuis]": since}
    ).json()
    assert "page%5Bsize%5D=2" in body["links"]["next"]
    assert "filter%5Bmodification%5D%5Bdepuis%5D=" in body["links"]["next"]
    assert body["meta"]["items_per_page"] == 2


def test_filters_by_creation_and_by_last_change(call, alpha):
    sessions = _sessions(alpha, 4, step=timedelta(days=1))
    HelpSession.objects.filter(pk=sessions[0].pk).update(updated_at=T0 + timedelta(days=10))
    token = token_for(structure=alpha)[1]
    created = call.get("activites", token, **{"filter[creation][depuis]": "2026-03-04T09:00:00Z"})
    assert set(_ids(created)) == {str(sessions[2].uuid), str(sessions[3].uuid)}
    changed = call.get(
        "activites", token, **{"filter[modification][depuis]": "2026-03-05T00:00:00+01:00"}
    )
    assert _ids(changed) == [str(sessions[0].uuid), str(sessions[3].uuid)]
    # Without a time zone: UTC.
    naive = call.get("activites", token, **{"filter[creation][depuis]": "2026-03-05T09:00:00"})
    assert _ids(naive) == [str(sessions[3].uuid)]


def test_a_client_of_a_structure_never_sees_another_structure(call, alpha, beta, network):
    _sessions(alpha, 2)
    theirs = _sessions(beta, 3)
    token = token_for(structure=alpha)[1]
    ids = _ids(call.get("activites", token))
    assert len(ids) == 2 and not {str(s.uuid) for s in theirs} & set(ids)
    # A cursor taken from beta's list gives nothing of beta's either.
    beta_cursor = encode_cursor((theirs[-1].updated_at_db, theirs[-1].uuid))
    for direction in ("page[after]", "page[before]"):
        response = call.get("activites", token, **{direction: beta_cursor})
        assert not {str(s.uuid) for s in theirs} & set(_ids(response))


def test_a_client_of_a_network_reads_every_structure_of_it(call, alpha, beta, network):
    coordinator = network_coordinator(network)
    _sessions(alpha, 2)
    _sessions(beta, 3)
    outside = HelpSessionFactory()
    token = token_for(network=network, by=coordinator)[1]
    ids = _ids(call.get("activites", token))
    assert len(ids) == 5 and str(outside.uuid) not in ids


def network_coordinator(network):
    from tests.factories import NetworkMembershipFactory, UserFactory

    user = UserFactory()
    NetworkMembershipFactory(user=user, network=network)
    return user


@pytest.mark.parametrize("position", ["first", "deep", "before"])
def test_a_page_takes_a_bounded_number_of_queries_wherever_it_is(
    call, alpha, django_assert_max_num_queries, position
):
    sessions = _sessions(alpha, 60, equipment=[Equipment.TABLET])
    for session in sessions[::3]:
        session.participants.add(ResidentFactory(structure=alpha))
    token = token_for(structure=alpha)[1]
    call.get("activites", token)  # the token is checked once, then remembered
    params = {"page[size]": 20}
    if position == "deep":
        params["page[after]"] = encode_cursor((sessions[40].updated_at_db, sessions[40].uuid))
    if position == "before":
        params["page[before]"] = encode_cursor((sessions[5].updated_at_db, sessions[5].uuid))
    # Client, last use, rows, the other side of the cursor, tags (+ savepoints of the test
    # client's transaction).
    with django_assert_max_num_queries(6) as captured:
        response = call.get("activites", token, **params)
    assert len(response.json()["data"]) == 20
    sql = " ".join(query["sql"].upper() for query in captured.captured_queries)
    assert "OFFSET" not in sql and "LIMIT 21" in sql


@pytest.fixture(autouse=True)
def _updated_at_db(monkeypatch):
    """`session.updated_at_db`: the value in the database (the helpers above change it with
    update(), behind the instances' back)."""
    monkeypatch.setattr(
        HelpSession,
        "updated_at_db",
        property(
            lambda self: HelpSession.objects.values_list("updated_at", flat=True).get(pk=self.pk)
        ),
        raising=False,
    )


def test_an_anonymised_residents_sessions_come_back_as_changed(call, alpha):
    from mediation.privacy import AnonymisationReason, resident_anonymise

    resident = ResidentFactory(structure=alpha)
    session = _sessions(alpha, 1, resident=resident, procedure_detail="Dossier de M. Untel")[0]
    _sessions(alpha, 2, start=T0 + timedelta(hours=1))
    before = timezone.now()
    resident_anonymise(resident=resident, by=None, reason=AnonymisationReason.REQUEST)
    token = token_for(structure=alpha)[1]
    changed = call.get("activites", token, **{"filter[modification][depuis]": before.isoformat()})
    assert _ids(changed) == [str(session.uuid)]


def test_a_session_logged_today_is_dated_by_its_logging(alpha):
    from cases.services.sessions import session_log

    admin = structure_admin(alpha)
    place = PlaceFactory(structure=alpha)
    now = timezone.now()
    session = session_log(
        structure=alpha,
        by=admin,
        date=date(2026, 1, 5),
        duration_minutes=30,
        place=place,
        resident=ResidentFactory(structure=alpha),
        themes=[Theme.EMAIL],
        now=now,
    )
    assert session.created_at == session.updated_at == now
