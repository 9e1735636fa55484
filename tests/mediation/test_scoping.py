import pytest
from django.http import Http404

from mediation.choices import Role
from mediation.models import Network, Place, Resident, Structure
from mediation.permissions import UnknownAction, user_can
from mediation.scoping import access_object, has_role, structure_roles
from tests.conftest import member
from tests.factories import (
    NetworkFactory,
    NetworkMembershipFactory,
    PlaceFactory,
    ResidentFactory,
    StructureFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def test_mediator_sees_only_the_structures_they_belong_to():
    mine, other = StructureFactory(), StructureFactory()
    user = member(mine)
    PlaceFactory(structure=mine), PlaceFactory(structure=other)
    assert list(Structure.objects.visible_to(user)) == [mine]
    assert {p.structure_id for p in Place.objects.visible_to(user)} == {mine.pk}


def test_mediator_shared_between_two_town_halls_sees_both():
    a, b, c = StructureFactory(), StructureFactory(), StructureFactory()
    user = member(a)
    member_b = member(b)
    from mediation.models import Membership

    Membership.objects.create(user=user, structure=b, role=Role.MEDIATOR)
    assert set(Structure.objects.visible_to(user)) == {a, b}
    assert c not in Structure.objects.visible_to(member_b)


def test_network_coordinator_sees_every_structure_of_the_network_and_no_other():
    network = NetworkFactory()
    inside = [StructureFactory(networks=[network]) for _ in range(3)]
    outside = StructureFactory(networks=[NetworkFactory()])
    coordinator = UserFactory()
    NetworkMembershipFactory(user=coordinator, network=network)
    assert set(Structure.objects.visible_to(coordinator)) == set(inside)
    assert set(Structure.objects.visible_to(coordinator, "oversee_structures")) == set(inside)
    assert not Structure.objects.visible_to(coordinator, "take_appointments").exists()
    assert outside not in Structure.objects.visible_to(coordinator)
    assert list(Network.objects.visible_to(coordinator)) == [network]


def test_actions_filter_the_visible_structures_by_the_roles_held_there():
    a, b = StructureFactory(), StructureFactory()
    user = member(a, Role.MEDIATOR)
    from mediation.models import Membership

    Membership.objects.create(user=user, structure=b, role=Role.STRUCTURE_ADMIN)
    assert list(Structure.objects.visible_to(user, "manage_structure")) == [b]
    assert user_can(user, "take_appointments", a) and not user_can(user, "manage_structure", a)
    assert has_role(user, a, "take_appointments") and has_role(user, a)


def test_scoping_helpers_take_an_action_of_the_table_not_roles():
    user = member(StructureFactory())
    with pytest.raises(TypeError):
        Structure.objects.visible_to(user, [Role.MEDIATOR])
    with pytest.raises(UnknownAction):
        Structure.objects.visible_to(user, Role.MEDIATOR)


def test_inactive_and_anonymous_users_see_nothing(django_user_model):
    from django.contrib.auth.models import AnonymousUser

    structure = StructureFactory()
    user = member(structure)
    user.is_active = False
    assert structure_roles(user) == {}
    assert not Structure.objects.visible_to(AnonymousUser()).exists()


def test_access_object_raises_404_outside_the_users_structures():
    mine, other = StructureFactory(), StructureFactory()
    user = member(mine)
    resident = ResidentFactory(structure=other)
    with pytest.raises(Http404):
        access_object(Resident, user, pk=resident.pk)
    with pytest.raises(Http404):
        access_object(Resident, user, pk="not-a-number")
    own = ResidentFactory(structure=mine)
    assert access_object(Resident, user, pk=own.pk) == own


def test_access_object_refuses_unscoped_models():
    from mediation.models import User

    with pytest.raises(TypeError):
        access_object(User, UserFactory(), pk=1)


def test_structure_roles_are_computed_once_per_request(django_assert_num_queries):
    structure = StructureFactory()
    user = member(structure)
    with django_assert_num_queries(3):
        structure_roles(user)
        structure_roles(user)
        list(Structure.objects.visible_to(user))


def test_coordinators_never_list_named_residents():
    network = NetworkFactory()
    structure = StructureFactory(networks=[network])
    ResidentFactory(structure=structure)
    network_coordinator = UserFactory()
    NetworkMembershipFactory(user=network_coordinator, network=network)
    structure_coordinator = member(structure, Role.COORDINATOR)
    assert not Resident.objects.visible_to(network_coordinator).exists()
    assert not Resident.objects.visible_to(structure_coordinator).exists()
    assert Resident.objects.visible_to(member(structure, Role.MEDIATOR)).count() == 1


def test_a_resident_who_agreed_is_seen_by_the_other_structures_of_the_network():
    network = NetworkFactory()
    home, neighbour = StructureFactory(networks=[network]), StructureFactory(networks=[network])
    elsewhere = StructureFactory(networks=[NetworkFactory()])
    shared = ResidentFactory(structure=home, shared_with_network=True)
    private = ResidentFactory(structure=home)
    neighbour_mediator = member(neighbour)
    assert list(Resident.objects.visible_to(neighbour_mediator)) == [shared]
    assert not Resident.objects.visible_to(member(elsewhere)).exists()
    assert set(Resident.objects.visible_to(member(home))) == {shared, private}


def test_residents_are_found_by_name_ignoring_accents_and_case():
    structure = StructureFactory()
    eric = ResidentFactory(structure=structure, first_name="Éric", last_name="Le Goff")
    ResidentFactory(structure=structure, first_name="Marie", last_name="Dupont")
    assert list(Resident.objects.matching_name("eric")) == [eric]
    assert list(Resident.objects.matching_name("LE-GOFF Eric")) == [eric]
    assert list(Resident.objects.matching_name("goff é")) == [eric]
