"""Walks every URL of the project, taken from the URL resolver, as a member of another
structure: none answers with the data of a structure the user does not belong to. The alpha
structure belongs to two networks, the outsider's too (none in common), and the network pages
are walked for both of alpha's networks.

URLs added later are covered without editing this test; a URL whose parameter this test cannot
fill fails with a message saying which value to add to `kwarg_values`."""

import datetime
import re

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from api.services import api_client_create
from bookings.models import Appointment, DateOverride, RecurringAbsence
from mediation.choices import Role
from mediation.models import Membership, Place, Resident
from reports.models import ReportArchive
from tests.bookings.factories import AbsenceFactory, OpeningHoursFactory, SlotFactory
from tests.cases.factories import CaseFactory, HelpSessionFactory
from tests.factories import (
    MembershipFactory,
    NetworkFactory,
    NetworkMembershipFactory,
    PlaceFactory,
    ResidentFactory,
    StructureFactory,
    UserFactory,
)

# Pages anyone may open without an account.
PUBLIC = {
    "login",
    "logout",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
    "invitation_accept",
    "admin:login",
    "healthz",
    "favicon",
    "public_privacy",
    "public_appointment",
    "public_cancel",
    "public_move",
    "public_ics",
    "public_start",
    "public_slots",
    "public_details",
    "public_waitlist",
    "public_embed",
    # A waiting-list entry's private page: the token is the key (a forged one: 404).
    "public_waitlist_entry",
    "open_data_places",
    "open_data_structure",
    "open_data_network",
    # A mediator's subscribed agenda: the token is the key (a forged one: 404).
    "calendar_feed",
    # The SMS provider's webhook: a secret in the URL is the key (a forged one: 403).
    "brevo_sms_webhook",
}
# The read API's documentation, health and OpenAPI document (no data) are public too, and so
# is its root (django-ninja's, which answers 404: it only anchors the API's paths).
PUBLIC |= {"api_documentation", "api_v1:health", "api_v1:openapi-json", "api_v1:api-root"}
# The read API (`api/v1.py`): no session, a bearer token of an API client; without one, 401.
BEARER_API = {"api_v1:activites", "api_v1:structures", "api_v1:lieux_activite"}
# Public pages that show what a structure publishes (its name, places and services) but
# never a person.
PUBLIC_INFORMATION = {
    "public_start",
    "public_embed",
    "public_slots",
    "public_details",
    "public_waitlist",
    # The places a structure chose to publish, in the national schema.
    "open_data_places",
    "open_data_structure",
    "open_data_network",
}

PERSONAL_SECRETS = ["Zéphyrine", "Alphonsine", "secret.alpha@exemple.fr"]
SECRETS = [
    "Structure Secrète Alpha",
    "Lieu Caché Alpha",
    "structure-secrete-alpha",
    "Réseau Alpha",
    *PERSONAL_SECRETS,
]


def iter_urls(patterns=None, prefix="", namespace=""):
    """(name, route regex, parameter names) for every URL pattern, namespaces included."""
    if patterns is None:
        patterns = get_resolver().url_patterns
    for entry in patterns:
        regex = entry.pattern.regex.pattern
        if isinstance(entry, URLResolver):
            ns = entry.namespace or ""
            yield from iter_urls(
                entry.url_patterns, prefix + regex, f"{namespace}{ns}:" if ns else namespace
            )
        elif isinstance(entry, URLPattern):
            full = prefix + regex
            params = re.findall(r"\?P<(\w+)>", full)
            name = f"{namespace}{entry.name}" if entry.name else None
            yield name, full, params


@pytest.fixture
def alpha(db):
    """A structure with one of everything, full of strings that must never leak. It belongs to
    two networks."""
    return make_alpha()


def make_alpha() -> dict:
    """The rows of the `alpha` fixture (tests/test_fuzz.py builds them once per module)."""
    network = NetworkFactory(name="Réseau Alpha")
    second_network = NetworkFactory(name="Réseau Alpha départemental", slug="alpha-departement")
    structure = StructureFactory(
        name="Structure Secrète Alpha",
        slug="structure-secrete-alpha",
        networks=[network, second_network],
    )
    place = PlaceFactory(structure=structure, name="Lieu Caché Alpha")
    staff = UserFactory(
        email="secret.alpha@exemple.fr", first_name="Zéphyrine", last_name="Alphonsine"
    )
    membership = MembershipFactory(user=staff, structure=structure, role=Role.STRUCTURE_ADMIN)
    resident = ResidentFactory(structure=structure, first_name="Zéphyrine", last_name="Alphonsine")
    # Desk agenda: an appointment of the alpha resident.
    agenda_slot = SlotFactory(place=place, mediator=staff)
    appointment = Appointment.objects.create(
        place=place,
        motif=agenda_slot.motif,
        mediator=staff,
        resident=resident,
        slot=agenda_slot,
        starts_at=agenda_slot.starts_at,
        ends_at=agenda_slot.ends_at,
    )
    # Booking settings: the motif's opening hours and an absence of the alpha staff member.
    # The staff member is only an admin here: their appointment is one "à réaffecter".
    opening_hours = OpeningHoursFactory(
        place=place, mediator=staff, motifs=[agenda_slot.motif], member=False
    )
    absence = AbsenceFactory(structure=structure, mediator=staff, reason="Lieu Caché Alpha")
    # An exceptional day at the alpha place, and a recurring absence of the staff member.
    date_override = DateOverride.objects.create(
        place=place,
        mediator=staff,
        day=datetime.date(2027, 1, 9),
        start_time=datetime.time(9),
        end_time=datetime.time(12),
        reason="Lieu Caché Alpha",
    )
    recurring_absence = RecurringAbsence.objects.create(
        structure=structure,
        mediator=staff,
        weekday=2,
        start_time=datetime.time(14),
        end_time=datetime.time(18),
        first_day=datetime.date(2027, 1, 4),
        last_day=datetime.date(2027, 6, 30),
        time_zone="Europe/Paris",
        reason="Lieu Caché Alpha",
    )
    # Activity log: a session of the alpha resident, written by the alpha staff member.
    help_session = HelpSessionFactory(
        structure=structure, mediator=staff, resident=resident, place=place, notes="Zéphyrine"
    )
    # A case of the alpha resident, followed by the alpha staff member.
    case = CaseFactory(
        structure=structure, resident=resident, mediator=staff, title="Lieu Caché Alpha"
    )
    # An archived activity report of the alpha structure.
    archive = ReportArchive(
        structure=structure,
        period="2026-Q1",
        format="csv",
        content="Structure Secrète Alpha".encode(),
        filename="bilan-structure-secrete-alpha-2026-Q1.csv",
    )
    archive.save()
    # An API client of the alpha structure.
    api_client, secret = api_client_create(name="Lieu Caché Alpha", by=staff, structure=structure)
    return {
        "api_client": api_client,
        "api_token": f"{api_client.uuid}:{secret}",
        "archive": archive,
        "case": case,
        "network": network,
        "second_network": second_network,
        "structure": structure,
        "place": place,
        "staff": staff,
        "membership": membership,
        "resident": resident,
        "appointment": appointment,
        "opening_hours": opening_hours,
        "absence": absence,
        "date_override": date_override,
        "recurring_absence": recurring_absence,
        "help_session": help_session,
    }


@pytest.fixture
def outsider(db):
    """Holds every role, in another structure of two other networks, and coordinates both."""
    other_networks = [NetworkFactory(name="Réseau Bêta"), NetworkFactory(name="Réseau Gamma")]
    other = StructureFactory(name="Structure Bêta", slug="structure-beta", networks=other_networks)
    user = UserFactory(email="beta@exemple.fr")
    for role in Role.values:
        MembershipFactory(user=user, structure=other, role=role)
    for network in other_networks:
        NetworkMembershipFactory(user=user, network=network)
    PlaceFactory(structure=other, name="Lieu Bêta")
    return user


def kwarg_values(alpha, network="network") -> dict[str, str]:
    resident = alpha["resident"]
    return {
        # Structure-scoped pages
        "structure": alpha["structure"].slug,
        "place": str(alpha["place"].pk),
        "membership": str(alpha["membership"].pk),
        "appointment": str(alpha["appointment"].pk),
        "resident": str(resident.pk),
        "motif": str(alpha["appointment"].motif_id),
        "opening_hours": str(alpha["opening_hours"].pk),
        "absence": str(alpha["absence"].pk),
        "date_override": str(alpha["date_override"].pk),
        "recurring_absence": str(alpha["recurring_absence"].pk),
        "session": str(alpha["help_session"].pk),
        "case": str(alpha["case"].pk),
        "network": alpha[network].slug,
        "archive": str(alpha["archive"].pk),
        "client": str(alpha["api_client"].pk),
        "fmt": "csv",
        "pk": str(alpha["staff"].pk),
        # Account pages (tokens are forged: they must lead nowhere)
        "uidb64": urlsafe_base64_encode(force_bytes(alpha["staff"].pk)),
        "token": "set-password",
        # Platform operators' admin
        "app_label": "mediation",
        "model_name": "resident",
        "object_id": str(resident.pk),
        "id": str(alpha["staff"].pk),
        "content_type_id": str(ContentType.objects.get_for_model(Resident).pk),
        "history_id": "1",
        "url": "mediation/resident/",
        "path": "x",
    }


def build(name, regex, params, values):
    missing = [p for p in params if p not in values]
    assert not missing, (
        f"URL {name or regex!r} takes {missing}: add a value pointing at the alpha structure's "
        f"data to kwarg_values() in {__file__}"
    )
    positional = re.findall(r"\((?!\?)", regex)
    if name and not positional:
        return reverse(name, kwargs={p: values[p] for p in params})
    # Unnamed patterns or positional groups (django-simple-history's admin): fill by hand,
    # the first positional group with the alpha object's id.
    url = regex.replace("^", "").replace("\\Z", "").replace("$", "")
    for p in params:
        url = re.sub(rf"\(\?P<{p}>[^)]*\)", values[p], url)
    url = re.sub(r"\([^?)][^)]*\)", values["object_id"], url, count=1)
    url = re.sub(r"\([^?)][^)]*\)", "1", url)
    return "/" + url.replace("\\", "")


def assert_no_secret(response, url, name=None):
    body = response.content.decode(errors="replace")
    for secret in PERSONAL_SECRETS if name in PUBLIC_INFORMATION else SECRETS:
        assert secret not in body, f"{url} shows {secret!r} to a user of another structure"


def all_urls(alpha, network="network", only_params=()):
    values = kwarg_values(alpha, network)
    urls = []
    for name, regex, params in iter_urls():
        if not set(only_params) <= set(params):
            continue
        url = build(name, regex, params, values)
        urls.append((name, url, bool(params)))
    return urls


def test_the_walk_sees_the_urls_of_every_app(alpha):
    names = {name for name, _url, _p in all_urls(alpha)}
    assert {"home", "structure_home", "place_edit", "membership_remove", "admin:index"} <= names


def test_member_of_another_structure_never_sees_its_data(client, alpha, outsider):
    client.force_login(outsider)
    before = (Membership.objects.count(), Place.objects.count(), Resident.objects.count())
    for name, url, has_params in all_urls(alpha):
        for method in ("get", "post"):
            client.force_login(outsider)  # the walk goes through the logout URL too
            response = getattr(client, method)(url, {})
            assert response.status_code != 500, f"{method.upper()} {url} → 500"
            assert_no_secret(response, url, name)
            if name in PUBLIC:
                continue
            if url.startswith("/operateurs/"):
                # Operators only: a staff member is sent to the operators' login.
                assert response.status_code in (302, 403, 404), f"{method} {url}"
                if response.status_code == 302:
                    assert response["Location"].startswith("/operateurs/")
            elif has_params:
                assert response.status_code in (403, 404, 405), (
                    f"{method.upper()} {url} answered {response.status_code} to an outsider"
                )
    # Nothing of alpha's was changed by the POSTs.
    assert (Membership.objects.count(), Place.objects.count(), Resident.objects.count()) == before
    assert Membership.objects.filter(pk=alpha["membership"].pk).exists()


def test_coordinator_of_other_networks_never_sees_the_second_network_of_a_structure(
    client, alpha, outsider
):
    urls = all_urls(alpha, "second_network", only_params=["network"])
    assert urls, "no network page to walk"
    for name, url, _has_params in urls:
        for method in ("get", "post"):
            client.force_login(outsider)
            response = getattr(client, method)(url, {})
            if name in PUBLIC:  # a network's open data: what its structures publish
                assert response.status_code != 500, f"{method.upper()} {url}"
                assert_no_secret(response, url, name)
                continue
            assert response.status_code in (403, 404, 405), f"{method.upper()} {url}"
            assert_no_secret(response, url)


def test_a_coordinator_of_the_second_network_does_see_its_pages(client, alpha):
    # Control: the walk above would find the network pages if the user could see them.
    coordinator = UserFactory()
    NetworkMembershipFactory(user=coordinator, network=alpha["second_network"])
    client.force_login(coordinator)
    url = reverse("network_report_dashboard", kwargs={"network": alpha["second_network"].slug})
    assert client.get(url).status_code == 200


def test_anonymous_visitor_is_sent_to_login_except_on_public_pages(client, alpha):
    for name, url, _has_params in all_urls(alpha):
        response = client.get(url)
        assert response.status_code != 500, url
        assert_no_secret(response, url, name)
        if name in PUBLIC:
            # Public pages answer, or say the (forged) link or choice leads nowhere; /healthz
            # says 503 when no task cluster runs (none does under test).
            answers = (200, 302, 400, 404, 405) + ((503,) if name == "healthz" else ())
            assert response.status_code in answers, url
        elif name in BEARER_API:
            assert response.status_code == 401, url
        else:
            assert response.status_code in (302, 403, 404), url
            if response.status_code == 302:
                location = response["Location"]
                assert "/connexion/" in location or (
                    url.startswith("/operateurs/") and location.startswith("/operateurs/")
                ), f"{url} → {location}"


def test_a_member_of_the_structure_does_see_what_the_walk_looks_for(client, alpha):
    # Control: the secrets are really on the pages, so their absence above means something.
    client.force_login(alpha["staff"])
    body = client.get(reverse("place_list", kwargs={"structure": alpha["structure"].slug}))
    assert "Lieu Caché Alpha" in body.content.decode()
    team = client.get(reverse("team", kwargs={"structure": alpha["structure"].slug}))
    assert "secret.alpha@exemple.fr" in team.content.decode()


def test_an_api_client_of_another_structure_or_network_never_sees_its_data(client, alpha, outsider):
    # The outsider's structure and networks have clients of their own: with their tokens, the
    # read API shows nothing of alpha's (its structure, place, staff, or their identifiers).
    from mediation.models import Network, Structure

    other = Structure.objects.get(slug="structure-beta")
    tokens = []
    for scope in [
        {"structure": other},
        *({"network": n} for n in Network.objects.filter(memberships__user=outsider)),
    ]:
        api_client, secret = api_client_create(name="Autre", by=outsider, **scope)
        tokens.append(f"{api_client.uuid}:{secret}")
    HelpSessionFactory(structure=other, mediator=outsider)
    identifiers = [str(alpha[key].uuid) for key in ("structure", "place", "staff", "help_session")]
    for name, url, _has_params in all_urls(alpha):
        if name not in BEARER_API:
            continue
        for token in tokens:
            response = client.get(url, headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == 200, url
            assert_no_secret(response, url)
            body = response.content.decode()
            assert not any(identifier in body for identifier in identifiers), url
