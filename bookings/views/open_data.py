"""Open data: the published places in the national schema "lieux de médiation numérique"
(`bookings.national_places`), for anyone, without an account: the whole instance, one
structure, one network. Only what structures chose to publish; never a person."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

from bookings import national_places
from mediation.models import Network, Structure

#: Open data is read by other sites' scripts and by aggregators: a few minutes of caching.
MAX_AGE = 15 * 60


def _file(places, fmt: str, name: str) -> HttpResponse:
    if fmt not in national_places.RENDERERS:
        raise Http404
    render, content_type = national_places.RENDERERS[fmt]
    response = HttpResponse(render(national_places.place_rows(places)), content_type=content_type)
    response["Content-Disposition"] = f'inline; filename="{name}.{fmt}"'
    # Public data, no credentials: any site may read it.
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_safe
@cache_control(public=True, max_age=MAX_AGE)
def places(request, fmt: str):
    return _file(national_places.published_places(), fmt, "lieux")


@require_safe
@cache_control(public=True, max_age=MAX_AGE)
def structure_places(request, structure: str, fmt: str):
    structure = get_object_or_404(Structure, slug=structure)
    return _file(
        national_places.published_places(structure=structure), fmt, f"lieux-{structure.slug}"
    )


@require_safe
@cache_control(public=True, max_age=MAX_AGE)
def network_places(request, network: str, fmt: str):
    network = get_object_or_404(Network, slug=network)
    return _file(national_places.published_places(network=network), fmt, f"lieux-{network.slug}")
