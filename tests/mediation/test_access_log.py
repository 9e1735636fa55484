"""The access log: append-only, ids only, written by the pages that show personal data, and
reviewed by coordinators and structure admins on /s/<structure>/journal/."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from mediation.audit import access_record
from mediation.choices import Role
from mediation.models import AccessAction, AccessLog
from tests.cases.factories import CaseFactory
from tests.conftest import member
from tests.factories import NetworkFactory, NetworkMembershipFactory, ResidentFactory
from tests.search import search_get


def test_an_entry_cannot_be_changed_or_deleted(structure, mediator):
    entry = access_record(user=mediator, action=AccessAction.RESIDENT_VIEW, structure=structure)
    entry.object_id = 3
    with pytest.raises(TypeError):
        entry.save()
    with pytest.raises(TypeError):
        entry.delete()
    with pytest.raises(TypeError):
        AccessLog.objects.filter(pk=entry.pk).update(object_id=3)
    with pytest.raises(TypeError):
        AccessLog.objects.filter(pk=entry.pk).delete()
    assert AccessLog.objects.get(pk=entry.pk).object_id is None


@pytest.mark.skipif(connection.vendor != "postgresql", reason="trigger on PostgreSQL only")
def test_postgresql_refuses_an_update_of_the_log(structure, mediator):
    from django.db import DatabaseError, transaction

    entry = access_record(user=mediator, action=AccessAction.RESIDENT_VIEW, structure=structure)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE mediation_accesslog SET object_id = 1 WHERE id = %s", [entry.pk])


def test_only_the_retention_purge_deletes(structure, mediator):
    old = access_record(user=mediator, action=AccessAction.RESIDENT_VIEW, structure=structure)
    assert AccessLog.objects.purge_expired(before=timezone.now() - timedelta(days=1)) == 0
    assert AccessLog.objects.purge_expired(before=timezone.now() + timedelta(seconds=1)) == 1
    assert not AccessLog.objects.filter(pk=old.pk).exists()


def test_an_unknown_action_is_refused(structure, mediator):
    with pytest.raises(ValueError):
        access_record(user=mediator, action="peek", structure=structure)


def test_report_exports_can_be_recorded(structure, coordinator):
    entry = access_record(
        user=coordinator,
        action="report_export",
        structure=structure,
        object_type="report",
        object_id=12,
    )
    assert entry.get_action_display() == "Rapport exporté"


def test_opening_a_resident_page_is_recorded_with_ids_only(client, structure, mediator):
    resident = ResidentFactory(structure=structure, first_name="Zéphyrine")
    client.force_login(mediator)
    client.get(
        reverse("resident_detail", kwargs={"structure": structure.slug, "resident": resident.pk})
    )
    entry = AccessLog.objects.get()
    assert (entry.user, entry.structure, entry.action) == (
        mediator,
        structure,
        AccessAction.RESIDENT_VIEW,
    )
    assert (entry.object_type, entry.object_id) == ("resident", resident.pk)


def test_a_search_keeps_the_length_of_the_term_not_the_term(client, structure, mediator):
    client.force_login(mediator)
    search_get(
        client, reverse("resident_search", kwargs={"structure": structure.slug}), "Zéphyrine"
    )
    entry = AccessLog.objects.get()
    assert (entry.action, entry.term_length) == (AccessAction.RESIDENT_SEARCH, len("Zéphyrine"))
    stored = " ".join(str(v) for v in AccessLog.objects.values().get().values())
    assert "Zéphyrine" not in stored


def test_opening_the_residents_list_is_recorded_as_a_listing_not_a_search(
    client, structure, mediator, structure_admin
):
    client.force_login(mediator)
    client.get(reverse("resident_search", kwargs={"structure": structure.slug}))
    entry = AccessLog.objects.get()
    assert (entry.action, entry.term_length) == (AccessAction.RESIDENT_SEARCH, None)
    search_get(client, reverse("resident_search", kwargs={"structure": structure.slug}), "Léa")

    client.force_login(structure_admin)
    body = client.get(_journal(structure)).content.decode()

    assert "Liste des usagers consultée" in body and "derniers usagers vus, sans recherche" in body
    assert "Recherche d&#x27;usagers" in body and "recherche de 3 caractères" in body
    assert "0 caractère" not in body


def test_opening_a_case_page_is_recorded(client, structure, mediator):
    case = CaseFactory(structure=structure, mediator=mediator)
    client.force_login(mediator)
    response = client.get(
        reverse("case_detail", kwargs={"structure": structure.slug, "case": case.pk})
    )
    assert response.status_code == 200
    entry = AccessLog.objects.get()
    assert (entry.action, entry.object_type, entry.object_id) == ("case_view", "case", case.pk)


# --- The journal page ------------------------------------------------------------------------


def _journal(structure, **query):
    return reverse("access_journal", kwargs={"structure": structure.slug}) + (
        "?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else ""
    )


def test_structure_admins_and_coordinators_review_the_log_mediators_do_not(
    client, structure, mediator, structure_admin, coordinator
):
    access_record(
        user=mediator,
        action=AccessAction.RESIDENT_VIEW,
        structure=structure,
        object_type="resident",
        object_id=41,
    )
    for user in (structure_admin, coordinator):
        client.force_login(user)
        response = client.get(_journal(structure))
        assert response.status_code == 200
        body = response.content.decode()
        assert "Usager n°41" in body and mediator.get_full_name() in body
    client.force_login(mediator)
    assert client.get(_journal(structure)).status_code == 403


def test_a_network_coordinator_reviews_the_log_of_its_structures(client, structure, mediator):
    network = NetworkFactory()
    structure.networks.add(network)
    coordinator = NetworkMembershipFactory(network=network).user
    access_record(
        user=mediator,
        action=AccessAction.CASE_VIEW,
        structure=structure,
        object_type="case",
        object_id=7,
    )
    client.force_login(coordinator)
    response = client.get(_journal(structure))
    assert response.status_code == 200 and "Dossier n°7" in response.content.decode()


def test_the_log_shows_only_its_structure(client, structure, structure_admin):
    from tests.factories import StructureFactory

    other = StructureFactory()
    other_admin = member(other, Role.STRUCTURE_ADMIN)
    access_record(
        user=other_admin,
        action=AccessAction.RESIDENT_VIEW,
        structure=other,
        object_type="resident",
        object_id=99,
    )
    client.force_login(structure_admin)
    assert "Usager n°99" not in client.get(_journal(structure)).content.decode()
    assert client.get(_journal(other)).status_code == 404


def test_filters_by_action_and_person(client, structure, mediator, structure_admin):
    access_record(
        user=mediator,
        action=AccessAction.RESIDENT_VIEW,
        structure=structure,
        object_type="resident",
        object_id=1,
    )
    access_record(
        user=structure_admin,
        action=AccessAction.CASE_VIEW,
        structure=structure,
        object_type="case",
        object_id=2,
    )
    client.force_login(structure_admin)
    body = client.get(_journal(structure, action="case_view")).content.decode()
    assert "Dossier n°2" in body and "Usager n°1" not in body
    body = client.get(_journal(structure, person=mediator.pk)).content.decode()
    assert "Usager n°1" in body and "Dossier n°2" not in body


def test_the_journal_query_count_does_not_grow_with_entries(
    client, structure, mediator, structure_admin
):
    def count():
        client.force_login(structure_admin)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(_journal(structure)).status_code == 200
        return len(queries)

    access_record(user=mediator, action=AccessAction.RESIDENT_VIEW, structure=structure)
    few = count()
    for index in range(60):
        user = member(structure, Role.MEDIATOR)
        access_record(
            user=user, action=AccessAction.RESIDENT_VIEW, structure=structure, object_id=index
        )
    assert count() == few


def test_the_structure_home_links_to_the_journal_for_reviewers_only(
    client, structure, mediator, structure_admin
):
    url = reverse("structure_home", kwargs={"structure": structure.slug})
    client.force_login(structure_admin)
    assert _journal(structure) in client.get(url).content.decode()
    client.force_login(mediator)
    assert _journal(structure) not in client.get(url).content.decode()
