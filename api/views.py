"""Staff pages of the read API: a structure's API clients (`/s/<structure>/api/`, structure
admins), a network's (`/reseaux/<network>/api/`, its coordinators), and the public
documentation page (`/api/v1/documentation/`). Interfaces: they parse a form and call
`api.services`; the secret is shown once, in the answer to the creation, and never stored."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from api import services
from api.forms import ApiClientForm, PrecisionsSharingForm
from api.models import ApiClient
from api.v1 import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from mediation import services as mediation_services
from mediation.access import network_view, structure_view
from mediation.scoping import access_object
from mediation.views.staff import add_service_errors


def _api_urls(request) -> dict:
    return {
        "base": request.build_absolute_uri("/api/v1/"),
        "documentation": reverse("api_documentation"),
        "openapi": reverse("api_v1:openapi-json"),
    }


def _with_revoke_urls(clients, url_name: str, **kwargs) -> list[ApiClient]:
    clients = list(clients.select_related("created_by"))
    for client in clients:
        client.revoke_url = reverse(url_name, kwargs={**kwargs, "client": client.pk})
    return clients


def _created(request, client: ApiClient, secret: str, *, scope_name: str, back_url: str):
    """The one page that shows the secret."""
    return render(
        request,
        "api/client_created.html",
        {
            "client": client,
            "token": f"{client.uuid}:{secret}",
            "scope_name": scope_name,
            "back_url": back_url,
            "structure": client.structure,
            "network": client.network,
            "urls": _api_urls(request),
        },
    )


def _create(request, form, *, back_url: str, scope_name: str, **scope):
    try:
        client, secret = services.api_client_create(
            name=form.cleaned_data["name"], by=request.user, **scope
        )
    except ValidationError as error:
        add_service_errors(form, error)
        return None
    return _created(request, client, secret, scope_name=scope_name, back_url=back_url)


@structure_view("manage_api_clients")
@require_http_methods(["GET", "POST"])
def structure_clients(request, structure):
    back_url = reverse("api_clients", kwargs={"structure": structure.slug})
    creating = request.method == "POST" and "create" in request.POST
    sharing_posted = request.method == "POST" and "share" in request.POST
    form = ApiClientForm(request.POST if creating else None, prefix="client")
    sharing = PrecisionsSharingForm(
        request.POST if sharing_posted else None, instance=structure, prefix="sharing"
    )
    if creating and form.is_valid():
        answer = _create(
            request, form, back_url=back_url, scope_name=structure.name, structure=structure
        )
        if answer is not None:
            return answer
    if sharing_posted and sharing.is_valid():
        mediation_services.structure_update(structure=sharing.instance, by=request.user)
        messages.success(request, _("Votre choix sur les précisions des démarches est enregistré."))
        return redirect(back_url)
    return render(
        request,
        "api/clients.html",
        {
            "structure": structure,
            "scope_name": structure.name,
            "clients": _with_revoke_urls(
                ApiClient.objects.visible_to(request.user).filter(structure=structure),
                "api_client_revoke",
                structure=structure.slug,
            ),
            "form": form,
            "sharing": sharing,
            "can_create": True,
            "urls": _api_urls(request),
        },
    )


@structure_view("manage_api_clients")
@require_POST
def structure_client_revoke(request, structure, client: int):
    obj = access_object(
        ApiClient.objects.filter(structure=structure),
        request.user,
        "manage_api_clients",
        pk=client,
    )
    services.api_client_revoke(client=obj, by=request.user)
    messages.success(request, _("Le client « %(name)s » est révoqué.") % {"name": obj.name})
    return redirect("api_clients", structure=structure.slug)


@network_view("manage_network_api_clients")
@require_http_methods(["GET", "POST"])
def network_clients(request, network):
    back_url = reverse("network_api_clients", kwargs={"network": network.slug})
    can_create = services.can_manage_network_clients(request.user, network)
    creating = request.method == "POST" and "create" in request.POST
    form = ApiClientForm(request.POST if creating else None, prefix="client")
    if creating and can_create and form.is_valid():
        answer = _create(request, form, back_url=back_url, scope_name=network.name, network=network)
        if answer is not None:
            return answer
    return render(
        request,
        "api/clients.html",
        {
            "network": network,
            "scope_name": network.name,
            "clients": _with_revoke_urls(
                ApiClient.objects.visible_to(request.user).filter(network=network),
                "network_api_client_revoke",
                network=network.slug,
            ),
            "form": form,
            "can_create": can_create,
            "urls": _api_urls(request),
        },
    )


@network_view("manage_network_api_clients")
@require_POST
def network_client_revoke(request, network, client: int):
    obj = access_object(ApiClient.objects.filter(network=network), request.user, pk=client)
    services.api_client_revoke(client=obj, by=request.user)
    messages.success(request, _("Le client « %(name)s » est révoqué.") % {"name": obj.name})
    return redirect("network_api_clients", network=network.slug)


def documentation(request):
    """The human documentation of the read API (public: it shows no data)."""
    from cases.national import DOC_PATH

    return render(
        request,
        "api/documentation.html",
        {
            "urls": _api_urls(request),
            "default_size": DEFAULT_PAGE_SIZE,
            "max_size": MAX_PAGE_SIZE,
            "vocabulary_doc": DOC_PATH,
            "public_page": not request.user.is_authenticated,
        },
    )
