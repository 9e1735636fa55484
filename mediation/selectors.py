"""Reads of the core, always scoped to what the user may see."""

from __future__ import annotations

from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce

from mediation.models import Membership, Network, Place, Resident, Structure


def _count(model, **filters):
    # A correlated COUNT per structure: no join fan-out between places, staff and residents.
    return Coalesce(
        Subquery(
            model.objects.filter(structure=OuterRef("pk"), **filters)
            .order_by()
            .values("structure")
            .annotate(n=Count("pk"))
            .values("n")[:1]
        ),
        0,
    )


def structures_overview(user, action=None, *, with_networks: bool = True):
    """The structures the user sees (for `action`), each with its counts of active places,
    staff and followed residents, in one query (and one more for their networks, unless
    `with_networks` is false)."""
    structures = Structure.objects.visible_to(user, action)
    if with_networks:
        structures = structures.prefetch_related("networks")
    return structures.annotate(
        place_count=_count(Place, is_active=True),
        staff_count=Coalesce(
            Subquery(
                Membership.objects.filter(structure=OuterRef("pk"))
                .order_by()
                .values("structure")
                .annotate(n=Count("user", distinct=True))
                .values("n")[:1]
            ),
            0,
        ),
        resident_count=_count(Resident, is_anonymous=False),
    ).order_by("name")


def networks_of(structures) -> list[Network]:
    """The networks of `structures` (from `structures_overview`, networks prefetched), each
    once, by name. For `structures_overview(user, action)` it is the same set as
    `Network.objects.visible_to(user, action)` (the networks of the structures the user sees),
    read without another query."""
    networks = {network.pk: network for s in structures for network in s.networks.all()}
    return sorted(networks.values(), key=lambda network: (network.name, network.pk))


def places_for(user, structure, *, include_inactive=False):
    places = Place.objects.visible_to(user).filter(structure=structure)
    return places if include_inactive else places.filter(is_active=True)


def team_of(user, structure):
    """Memberships of a structure, one row per person and role."""
    return (
        Membership.objects.visible_to(user)
        .filter(structure=structure)
        .select_related("user")
        .order_by("user__last_name", "user__first_name", "role")
    )


def places_of_mediator(user):
    """Active places of the structures where the user takes appointments."""
    return (
        Place.objects.visible_to(user, "take_appointments")
        .filter(is_active=True)
        .select_related("structure")
        .order_by("structure__name", "name")
    )
