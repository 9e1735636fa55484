"""The staff pages of the read API: a structure admin creates a client of the structure and
sees its secret once, revokes it, and chooses whether precisions go out; a network coordinator
does the same for a network; nobody else."""

from django.urls import reverse

from api.models import ApiClient
from mediation.choices import Role
from tests.api.conftest import structure_admin, token_for
from tests.api.test_activities import network_coordinator
from tests.conftest import member


def _page(structure):
    return reverse("api_clients", kwargs={"structure": structure.slug})


def test_an_admin_creates_a_client_and_sees_its_secret_once(client, call, alpha):
    admin = structure_admin(alpha)
    client.force_login(admin)
    response = client.post(_page(alpha), {"client-name": "Coop", "create": "1"})
    assert response.status_code == 200
    created = ApiClient.objects.get()
    assert (created.structure, created.created_by, created.name) == (alpha, admin, "Coop")
    page = response.content.decode()
    start = page.index(f'value="{created.uuid}:') + len('value="')
    token = page[start : page.index('"', start)]
    secret = token.partition(":")[2]
    assert len(secret) >= 40 and secret not in created.secret_hash
    # Never again: not on the list, not anywhere.
    assert secret not in client.get(_page(alpha)).content.decode()
    client.logout()
    assert call.get("activites", token).status_code == 200


def test_a_client_needs_a_name(client, alpha):
    client.force_login(structure_admin(alpha))
    response = client.post(_page(alpha), {"client-name": " ", "create": "1"})
    assert response.status_code == 200 and not ApiClient.objects.exists()
    assert "Ce champ est obligatoire" in response.content.decode()


def test_an_admin_revokes_a_client(client, call, alpha):
    admin = structure_admin(alpha)
    api_client, token = token_for(structure=alpha, by=admin)
    client.force_login(admin)
    url = reverse("api_client_revoke", kwargs={"structure": alpha.slug, "client": api_client.pk})
    assert client.get(url).status_code == 405
    assert client.post(url).status_code == 302
    api_client.refresh_from_db()
    assert api_client.revoked_by == admin and not api_client.is_active
    assert "Révoqué le" in client.get(_page(alpha)).content.decode()
    client.logout()
    assert call.get("activites", token).status_code == 401


def test_another_structures_client_is_out_of_reach(client, alpha, beta):
    their_client, _token = token_for(structure=beta)
    client.force_login(structure_admin(alpha))
    url = reverse("api_client_revoke", kwargs={"structure": alpha.slug, "client": their_client.pk})
    assert client.post(url).status_code == 404
    their_client.refresh_from_db()
    assert their_client.is_active
    assert "Entrepôt" not in client.get(_page(alpha)).content.decode()


def test_only_the_structure_admin_manages_its_clients(client, alpha):
    for role in (Role.MEDIATOR, Role.COORDINATOR):
        client.force_login(member(alpha, role))
        assert client.get(_page(alpha)).status_code == 403
        assert client.post(_page(alpha), {"client-name": "X", "create": "1"}).status_code == 403
    assert not ApiClient.objects.exists()


def test_the_admin_chooses_whether_precisions_go_out(client, alpha):
    admin = structure_admin(alpha)
    client.force_login(admin)
    response = client.post(_page(alpha), {"sharing-api_shares_precisions": "on", "share": "1"})
    assert response.status_code == 302
    alpha.refresh_from_db()
    assert alpha.api_shares_precisions
    assert alpha.history.latest().history_user == admin
    client.post(_page(alpha), {"share": "1"})
    alpha.refresh_from_db()
    assert not alpha.api_shares_precisions


def test_a_network_coordinator_manages_the_networks_clients(client, alpha, beta, network):
    coordinator = network_coordinator(network)
    client.force_login(coordinator)
    url = reverse("network_api_clients", kwargs={"network": network.slug})
    response = client.post(url, {"client-name": "Entrepôt départemental", "create": "1"})
    assert response.status_code == 200
    created = ApiClient.objects.get()
    assert created.network == network and created.structure is None
    assert "Entrepôt départemental" in client.get(url).content.decode()
    revoke = reverse(
        "network_api_client_revoke", kwargs={"network": network.slug, "client": created.pk}
    )
    assert client.post(revoke).status_code == 302
    created.refresh_from_db()
    assert not created.is_active


def test_a_coordinator_of_one_structure_of_the_network_cannot_create_a_network_client(
    client, alpha, beta, network
):
    # A network client reads every structure of the network: a coordinator of alpha only
    # may see the page, not create or revoke one.
    existing, _token = token_for(network=network, by=network_coordinator(network))
    client.force_login(member(alpha, Role.COORDINATOR))
    url = reverse("network_api_clients", kwargs={"network": network.slug})
    page = client.get(url)
    assert page.status_code == 200 and "Révoquer" not in page.content.decode()
    client.post(url, {"client-name": "Fuite", "create": "1"})
    assert ApiClient.objects.count() == 1
    revoke = reverse(
        "network_api_client_revoke", kwargs={"network": network.slug, "client": existing.pk}
    )
    assert client.post(revoke).status_code == 403
    existing.refresh_from_db()
    assert existing.is_active


def test_the_structure_home_links_to_the_api_page_for_its_admin(client, alpha):
    client.force_login(structure_admin(alpha))
    page = client.get(reverse("structure_home", kwargs={"structure": alpha.slug}))
    assert _page(alpha) in page.content.decode()
    client.force_login(member(alpha, Role.MEDIATOR))
    page = client.get(reverse("structure_home", kwargs={"structure": alpha.slug}))
    assert _page(alpha) not in page.content.decode()
