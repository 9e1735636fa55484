"""The permissions table (mediation/permissions.py) against every URL, for every role.

Every URL of the resolver (found and filled by the machinery of test_scoping_every_url.py, on
the data of its alpha structure) is opened by a member of that structure holding one role, by
a coordinator of its network, and by someone who belongs nowhere. Each staff view declares its
action (`structure_view("book_at_desk")` sets `view.permission_action`); the answer must say
"allowed" (200, a redirect elsewhere than the login, 405 once the access is checked) exactly
when the matrix below gives that action to the user's roles, and "refused" (403, 404, the
login) otherwise.

The matrix is written here again, not read from the table: changing who may do what in the
table, adding an action or a role, fails until this test says the same. A URL that is neither
listed as public or as an account page, nor declares an action of the table, fails too."""

import pytest
from django.urls import resolve, reverse

from mediation.choices import Role
from mediation.permissions import NETWORK_COORDINATOR_ROLES, PERMISSIONS
from reports.models import ReportArchive
from tests.factories import MembershipFactory, NetworkMembershipFactory, UserFactory
from tests.mediation.test_scoping_every_url import BEARER_API, PUBLIC, all_urls
from tests.mediation.test_scoping_every_url import alpha as alpha  # noqa: F401 (fixture)

M, C, A = Role.MEDIATOR, Role.COORDINATOR, Role.STRUCTURE_ADMIN

#: Who may do what, as this test expects it (the same matrix as mediation.permissions).
EXPECTED = {
    "view_structure": {M, C, A},
    "manage_structure": {A},
    "view_team": {A, C},
    "manage_team": {A},
    "manage_booking_settings": {A},
    "take_appointments": {M},
    "record_absences": {M, A},
    "record_absences_of_others": {A},
    "book_at_desk": {M, A},
    "view_outbox": {M, A},
    "manage_residents": {M, A},
    "log_session": {M, A},
    "change_others_sessions": {A},
    "follow_case": {M, A},
    "view_followups": {M, C, A},
    "review_access_log": {C, A},
    "export_structure_report": {C, A},
    "export_network_report": {C},
    "oversee_structures": {C},
    "manage_api_clients": {A},
    "manage_network_api_clients": {C},
}
#: The roles a coordinator of a network holds on each of its structures.
EXPECTED_NETWORK_COORDINATOR_ROLES = {C}

#: Steps of signing in and out (open without a session, like the public pages).
SIGN_IN_STEPS = {"login_code", "admin:logout"}
#: Pages of a signed-in person outside any structure: open to anyone who belongs somewhere.
ACCOUNT_PAGES = {
    "home",
    "day_panel",  # "Ma journée"'s live refresh: each panel reads what the user may see
    "account",
    "two_factor_setup",
    "two_factor_codes",
    "two_factor_regenerate",
    "two_factor_disable",
    "password_change",
    "password_change_done",
    # The commune pickers' suggestions: reference data, no structure's.
    "commune_suggestions",
}
#: The platform operators' admin (Django admin, `is_staff` only): refused to every profile.
OPERATORS_PREFIX = "/operateurs/"
LOGIN_PATH = "/compte/connexion/"

NETWORK_COORDINATOR = "network_coordinator"
NOBODY = "no_membership"
PROFILES = [*Role.values, NETWORK_COORDINATOR, NOBODY]


def test_the_table_says_what_this_test_expects():
    table = {action: set(roles) for action, roles in PERMISSIONS.items()}
    assert table == EXPECTED, (
        "mediation/permissions.py changed: say the same in EXPECTED of this test (and in "
        "docs/architecture.md, 'Who may do what')"
    )
    assert set(NETWORK_COORDINATOR_ROLES) == EXPECTED_NETWORK_COORDINATOR_ROLES


def test_every_role_is_given_something_to_do():
    # A role added to mediation.choices.Role and to none of the table's actions would hold a
    # membership that opens nothing.
    assert set().union(*EXPECTED.values()) == set(Role.values)


def _profile_user(profile, alpha):
    """A user of the profile, and the roles they hold on the alpha structure."""
    user = UserFactory()
    if profile == NETWORK_COORDINATOR:
        NetworkMembershipFactory(user=user, network=alpha["network"])
        return user, EXPECTED_NETWORK_COORDINATOR_ROLES
    if profile == NOBODY:
        return user, set()
    MembershipFactory(user=user, structure=alpha["structure"], role=profile)
    return user, {profile}


def _walk(alpha):
    """(name, url) of every URL, on the alpha structure's data. The network archive URL gets an
    archive of alpha's network (the shared walk fills `archive` with the structure's)."""
    archive = ReportArchive(
        network=alpha["network"],
        period="2026-Q1",
        format="csv",
        content=b"Reseau Alpha",
        filename="bilan-reseau-alpha-2026-Q1.csv",
    )
    archive.save()
    network_archive = {
        name: reverse(name, kwargs={"network": alpha["network"].slug, "archive": archive.pk})
        for name in ("network_report_archive_download", "network_report_archive_download_excel")
    }
    for name, url, _has_params in all_urls(alpha):
        yield name, network_archive.get(name, url)


def _area(url: str) -> str:
    """/s/<structure>/ or /reseaux/<network>/ for their pages, / for the others."""
    parts = url.split("/")
    return "/".join(parts[:3]) + "/" if parts[1] in ("s", "reseaux") else "/"


def _answer(url, response) -> str:
    status = response.status_code
    if status in (403, 404):
        return "refused"
    if status in (301, 302):
        location = response["Location"]
        if location.startswith(LOGIN_PATH) or location.startswith(f"{OPERATORS_PREFIX}login/"):
            return "refused"
        if location.startswith(_area(url)):
            return "allowed"
        return f"sent elsewhere ({location})"
    if status in (200, 405):  # 405: a POST-only view, once the access is checked
        return "allowed"
    return f"unexpected {status}"


def _expected(view, held: set[str]) -> tuple[str, str]:
    """("allowed" or "refused", why), from the action the view declares. The walk's objects
    belong to someone else (the alpha staff member): a view that needs more for another's
    object declares it as `permission_action_on_others`."""
    action = view.permission_action
    needed = [action]
    if on_others := getattr(view, "permission_action_on_others", None):
        needed.append(on_others)
    for name in needed:
        assert name in EXPECTED, f"action {name!r} is not in this test's EXPECTED"
    allowed = all(held & EXPECTED[name] for name in needed)
    return ("allowed" if allowed else "refused"), " + ".join(needed)


@pytest.mark.parametrize("profile", PROFILES)
def test_every_url_answers_each_role_as_the_table_says(client, alpha, profile):
    user, held = _profile_user(profile, alpha)
    mismatches, checked = [], 0
    for name, url in _walk(alpha):
        if name in PUBLIC or name in SIGN_IN_STEPS or name in BEARER_API:
            continue
        if "_auth_user_id" not in client.session:
            client.force_login(user)  # someone who belongs nowhere is signed out at each request
        response = client.get(url)
        answer = _answer(url, response)
        if url.startswith(OPERATORS_PREFIX):
            expected, why = "refused", "operators only"
        elif name in ACCOUNT_PAGES:
            expected, why = ("allowed" if held else "refused"), "account page"
        else:
            view = resolve(url).func
            assert hasattr(view, "permission_action"), (
                f"{url} ({name}) declares no action: decorate its view with "
                "mediation.access.structure_view(action) or network_view(action), or list it "
                f"as public in test_scoping_every_url.PUBLIC or in ACCOUNT_PAGES of {__file__}"
            )
            expected, why = _expected(view, held)
            checked += 1
        if answer != expected:
            mismatches.append(
                f"GET {url} ({name}, {why}): {answer} ({response.status_code}), expected {expected}"
            )
    assert checked > 50, "the walk found too few staff URLs"
    assert not mismatches, f"as {profile}:\n" + "\n".join(mismatches)


def test_views_carry_the_action_they_declare(alpha):
    # Control: the walk reads each staff URL's action from its view, public ones have none.
    urls = {name: url for name, url, _p in all_urls(alpha)}
    assert resolve(urls["agenda"]).func.permission_action == "book_at_desk"
    assert resolve(urls["network_report_dashboard"]).func.permission_action == (
        "export_network_report"
    )
    assert not hasattr(resolve(urls["public_start"]).func, "permission_action")
