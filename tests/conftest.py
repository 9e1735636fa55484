import pytest
from django.test import Client

from mediation.choices import Role
from tests.factories import (
    MembershipFactory,
    PlaceFactory,
    ResidentFactory,
    StructureFactory,
    UserFactory,
)


@pytest.fixture(autouse=True)
def _force_login_passes_the_second_factor(request, monkeypatch):
    """`client.force_login(user)` opens a session already verified by a second factor when the
    user must use one (tests/otp.py gives them an authenticator app), as if they had typed
    their code: the hundreds of tests of staff pages need not go through the code step.
    Tests of the enforcement itself are marked `real_two_factor` and get Django's plain
    force_login: a session with no second factor."""
    if request.node.get_closest_marker("real_two_factor"):
        return
    from tests.otp import verify_session

    plain = Client.force_login

    def force_login(self, user, backend=None):
        plain(self, user, backend)
        verify_session(self, user)

    monkeypatch.setattr(Client, "force_login", force_login)


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """Rate-limit counters start at zero in every test: failed logins of earlier tests would
    otherwise add up against the test client's one address (LOGIN_FAILURES_PER_ADDRESS).
    Without Redis they are database rows (rolled back with each test); with REDIS_URL, keys of
    the cache."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


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
