import pytest

from mediation.choices import Role
from tests.factories import (
    MembershipFactory,
    PlaceFactory,
    ResidentFactory,
    StructureFactory,
    UserFactory,
)


def member(structure, role=Role.MEDIATOR, **user_fields):
    user = UserFactory(**user_fields)
    MembershipFactory(user=user, structure=structure, role=role)
    return user


@pytest.fixture
def structure(db):
    return StructureFactory(name="Mairie de Lohéac", slug="mairie-loheac")


@pytest.fixture
def place(structure):
    return PlaceFactory(structure=structure, name="Salle du conseil")


@pytest.fixture
def mediator(structure):
    return member(structure, Role.MEDIATOR, first_name="Camille", last_name="Le Goff")


@pytest.fixture
def structure_admin(structure):
    return member(structure, Role.STRUCTURE_ADMIN, first_name="Hélène", last_name="Robin")


@pytest.fixture
def coordinator(structure):
    return member(structure, Role.COORDINATOR)


@pytest.fixture
def resident(structure):
    return ResidentFactory(structure=structure)


@pytest.fixture
def mediator_client(client, mediator):
    client.force_login(mediator)
    return client


@pytest.fixture
def admin_client_structure(client, structure_admin):
    client.force_login(structure_admin)
    return client
