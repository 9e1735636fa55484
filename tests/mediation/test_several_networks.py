"""A structure may belong to several networks (an intercommunality and a département hub):
each network's coordinators see it, residents who agreed to be shared are seen by the desks of
every structure sharing at least one network with theirs, and nothing leaks to a network the
structure is not in."""

import pytest
from django.urls import reverse

from cases.services.cases import case_open
from mediation.choices import Role
from mediation.models import Network, Resident, Structure
from mediation.scoping import structure_roles
from mediation.selectors import desk_residents
from reports.models import ReportArchive
from tests.conftest import member
from tests.factories import (
    MembershipFactory,
    NetworkFactory,
    NetworkMembershipFactory,
    ResidentFactory,
    StructureFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_networks():
    """Networks A and B, a structure in both, one only in A, one only in B, and one in an
    unrelated network C."""
    a = NetworkFactory(name="Vallons de Haute-Bretagne")
    b = NetworkFactory(name="Réseau départemental d'Ille-et-Vilaine")
    c = NetworkFactory(name="Hub Outre-mer")
    return {
        "a": a,
        "b": b,
        "c": c,
        "both": StructureFactory(name="France Services de Guichen", networks=[a, b]),
        "only_a": StructureFactory(name="Mairie de Lohéac", networks=[a]),
        "only_b": StructureFactory(name="CCAS de Redon", networks=[b]),
        "only_c": StructureFactory(name="Kaz Numérik", networks=[c]),
    }


def coordinator_of(network):
    user = UserFactory()
    NetworkMembershipFactory(user=user, network=network)
    return user


# --- Coordinators -----------------------------------------------------------------------------


def test_a_coordinator_of_network_b_sees_a_structure_in_networks_a_and_b(two_networks):
    user = coordinator_of(two_networks["b"])
    assert two_networks["both"] in Structure.objects.visible_to(user, "oversee_structures")


def test_a_coordinator_of_network_a_does_not_see_a_structure_only_in_b(two_networks):
    user = coordinator_of(two_networks["a"])
    assert two_networks["only_b"] not in Structure.objects.visible_to(user)


def test_a_coordinator_of_both_networks_holds_the_role_once_per_structure(two_networks):
    user = coordinator_of(two_networks["a"])
    NetworkMembershipFactory(user=user, network=two_networks["b"])
    roles = structure_roles(user)
    assert roles[two_networks["both"].pk] == {Role.COORDINATOR}
    assert list(Structure.objects.visible_to(user)).count(two_networks["both"]) == 1


def test_the_networks_of_a_structure_in_two_networks_are_both_visible_once(two_networks):
    user = member(two_networks["both"], Role.COORDINATOR)
    # A second structure of network A: A is still listed once.
    MembershipFactory(user=user, structure=two_networks["only_a"], role=Role.COORDINATOR)
    networks = list(Network.objects.visible_to(user))
    assert sorted(networks, key=lambda n: n.pk) == sorted(
        [two_networks["a"], two_networks["b"]], key=lambda n: n.pk
    )


def test_the_home_page_links_the_report_of_each_network_once(client, two_networks):
    user = coordinator_of(two_networks["a"])
    NetworkMembershipFactory(user=user, network=two_networks["b"])
    client.force_login(user)
    body = client.get("/").content.decode()
    for network in (two_networks["a"], two_networks["b"]):
        url = reverse("network_report_dashboard", kwargs={"network": network.slug})
        assert body.count(f'href="{url}"') == 1
    assert reverse("network_report_dashboard", kwargs={"network": two_networks["c"].slug}) not in (
        body
    )


def test_the_structure_page_names_all_its_networks(client, two_networks):
    client.force_login(member(two_networks["both"], Role.MEDIATOR))
    body = client.get(two_networks["both"].get_absolute_url()).content.decode()
    assert "Réseau départemental d&#x27;Ille-et-Vilaine, Vallons de Haute-Bretagne" in body


def test_the_archives_of_both_networks_are_visible_from_a_structure_in_both(two_networks):
    for network in (two_networks["a"], two_networks["b"], two_networks["c"]):
        ReportArchive(network=network, period="2026-Q1", format="csv", content=b"x").save()
    user = member(two_networks["both"], Role.COORDINATOR)
    visible = ReportArchive.objects.visible_to(user)
    assert {archive.network for archive in visible} == {two_networks["a"], two_networks["b"]}


# --- Residents shared within a network ----------------------------------------------------------


@pytest.fixture
def shared(two_networks):
    return ResidentFactory(structure=two_networks["both"], shared_with_network=True)


def test_a_resident_shared_in_a_structure_of_a_and_b_is_seen_by_a_desk_in_a(two_networks, shared):
    assert shared in Resident.objects.visible_to(member(two_networks["only_a"], Role.MEDIATOR))


def test_a_resident_shared_in_a_structure_of_a_and_b_is_seen_by_a_desk_in_b(two_networks, shared):
    admin = member(two_networks["only_b"], Role.STRUCTURE_ADMIN)
    assert shared in Resident.objects.visible_to(admin)


def test_a_resident_shared_in_a_and_b_is_not_seen_in_an_unrelated_network(two_networks, shared):
    assert shared not in Resident.objects.visible_to(member(two_networks["only_c"]))


def test_a_resident_of_a_structure_only_in_b_is_not_seen_by_a_desk_only_in_a(two_networks):
    ResidentFactory(structure=two_networks["only_b"], shared_with_network=True)
    assert not Resident.objects.visible_to(member(two_networks["only_a"])).exists()


def test_a_resident_sharing_two_networks_with_a_desk_is_listed_once(two_networks):
    neighbour = StructureFactory(networks=[two_networks["a"], two_networks["b"]])
    resident = ResidentFactory(structure=two_networks["both"], shared_with_network=True)
    user = member(neighbour)
    assert list(Resident.objects.visible_to(user)) == [resident]
    assert list(desk_residents(user, neighbour)) == [resident]


def test_the_desk_of_a_structure_in_b_works_with_the_resident_shared_from_a_and_b(
    two_networks, shared
):
    desk = two_networks["only_b"]
    assert list(desk_residents(member(desk), desk)) == [shared]


def test_the_resident_queryset_costs_the_same_whatever_the_number_of_networks(
    two_networks, django_assert_num_queries
):
    structure = two_networks["both"]
    ResidentFactory(structure=two_networks["only_a"], shared_with_network=True)
    user = member(structure)
    # Roles (memberships, network links), then the residents: one query whatever the networks.
    with django_assert_num_queries(3) as one_network:
        list(Resident.objects.visible_to(user))
    for _ in range(5):
        network = NetworkFactory()
        structure.networks.add(network)
        ResidentFactory(structure=StructureFactory(networks=[network]), shared_with_network=True)
    user = member(structure)
    with django_assert_num_queries(len(one_network)):
        assert len(list(Resident.objects.visible_to(user))) == 6


def test_a_case_opens_at_a_structure_sharing_only_its_second_network_with_the_resident(
    two_networks, shared
):
    desk = two_networks["only_b"]
    mediator = member(desk)
    case = case_open(
        resident=shared,
        title="Renouvellement carte d'identité",
        procedure_area="papiers_citoyennete",
        by=mediator,
        structure=desk,
    )
    assert case.structure == desk


# --- History and the operators' admin -------------------------------------------------------


def test_the_history_of_a_structure_records_its_networks(two_networks):
    structure = two_networks["only_a"]
    structure.networks.add(two_networks["b"])
    last = structure.history.first()
    assert {link.network for link in last.networks.all()} == {two_networks["a"], two_networks["b"]}


def test_a_structure_added_from_the_network_side_is_recorded_too(two_networks):
    structure = two_networks["only_c"]
    two_networks["a"].structures.add(structure)
    last = structure.history.first()
    assert {link.network for link in last.networks.all()} == {two_networks["a"], two_networks["c"]}


def test_a_network_emptied_from_its_side_is_recorded_on_each_structure(two_networks):
    two_networks["a"].structures.clear()
    for structure in (two_networks["both"], two_networks["only_a"]):
        last = structure.history.first()
        assert two_networks["a"] not in {link.network for link in last.networks.all()}


def test_the_operators_admin_edits_the_networks_of_a_structure(client, two_networks):
    operator = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(operator)
    url = reverse("admin:mediation_structure_change", args=[two_networks["both"].pk])
    body = client.get(url).content.decode()
    assert 'name="networks"' in body and "selectfilter" in body
    listing = client.get(reverse("admin:mediation_structure_changelist")).content.decode()
    assert "Réseau départemental d&#x27;Ille-et-Vilaine, Vallons de Haute-Bretagne" in listing


def test_the_operators_see_the_history_of_a_structure_with_its_networks(client, two_networks):
    structure = two_networks["only_a"]
    structure.networks.add(two_networks["b"])
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    url = reverse("admin:mediation_structure_history", args=[structure.pk])
    assert client.get(url).status_code == 200
    record = structure.history.first()
    detail = reverse(
        "admin:mediation_structure_simple_history", args=[structure.pk, record.history_id]
    )
    assert client.get(detail).status_code == 200
