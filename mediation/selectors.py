"""Reads of the core, always scoped to what the user may see; among them the one search of
residents, used by the desk agenda and the residents' pages."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce

from mediation.models import Membership, Network, Place, Resident, Structure, fold_name
from mediation.phones import looks_like_phone, phone_candidates


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


# --- Residents ------------------------------------------------------------------------------

_YEAR = re.compile(r"^(19|20)\d\d$")


def desk_residents(user, structure: Structure):
    """Residents a desk of `structure` works with: its own, and those of the structures sharing
    a network with it who agreed to be shared. Anonymous records included (filter with
    followed())."""
    return Resident.objects.visible_to(user, "manage_residents").at_desk_of(structure)


def own_residents(user, structure: Structure):
    """Residents that belong to `structure` itself: those its desk may edit, merge and book
    for."""
    return Resident.objects.visible_to(user, "manage_residents").filter(structure=structure)


@dataclass(frozen=True)
class ResidentQuery:
    """What a search box was given: phone numbers (E.164 candidates or trailing digits),
    birth years, and name words."""

    phones: tuple[str, ...] = ()
    phone_digits: str = ""
    years: tuple[int, ...] = ()
    words: str = ""

    @property
    def empty(self) -> bool:
        return not (self.phones or self.phone_digits or self.years or self.words)


def parse_resident_query(text: str, *, regions: list[str], years: bool = True) -> ResidentQuery:
    """Read a search box: "06 12 34 56 78" or "+33612345678" is a phone number (read in the
    desk's regions first), "56 78" its last digits (at least 4 besides leading zeros), "1985" a
    year of birth, anything else words of the name; "dupont 1985" is both a name and a year.

    `years=False` (the desk agenda, whose box asks for a name or a phone number): "1985" is the
    end of a phone number and every other word is part of the name."""
    text = (text or "").strip()[:100]
    if not text:
        return ResidentQuery()
    if years and _YEAR.match(text):
        return ResidentQuery(years=(int(text),))
    if looks_like_phone(text):
        numbers = phone_candidates(text, regions)
        if numbers:
            return ResidentQuery(phones=tuple(numbers))
        digits = "".join(c for c in text if c.isdigit()).lstrip("0")
        if len(digits) >= 4:
            # A partial number: the last digits the person reads out.
            return ResidentQuery(phone_digits=digits)
        return ResidentQuery()
    found, words = [], []
    for token in text.split():
        if years and _YEAR.match(token):
            found.append(int(token))
        else:
            words.append(token)
    return ResidentQuery(years=tuple(found), words=fold_name(*words))


def resident_search(user, structure: Structure, query: ResidentQuery, *, shared: bool = True):
    """Followed residents matching `query` (a queryset, to paginate or slice): every word of
    the name (accents and case ignored, in the database through `search_name`), a phone
    number or its last digits, a year of birth. Among the desk's residents
    (`desk_residents`: its own and those shared by its network), or with `shared=False` its
    own only (`own_residents`). Ordered: exact last names first when the query has words
    ("Hamon" before "Guérin-Hamon"), else by name; without a query, the residents seen most
    recently. A query that says nothing (`query.empty`) filters nothing: callers that were
    given text decide what an unreadable one shows."""
    scope = desk_residents if shared else own_residents
    residents = scope(user, structure).followed()
    if query.phones:
        residents = residents.filter(phone__in=query.phones)
    if query.phone_digits:
        residents = residents.filter(phone__endswith=query.phone_digits)
    if query.years:
        residents = residents.filter(birth_year__in=query.years)
    if query.words:
        residents = residents.matching_name(query.words)
    if query.empty:
        return residents.order_by("-last_contact_at", "pk")
    if query.words:
        return residents.exact_last_name_first(query.words)
    return residents.order_by("last_name", "first_name", "pk")


def resident_pick(residents, words: str, *, limit: int) -> tuple[list[Resident], int]:
    """The pickers (a walk-in, a case), by name only among `residents` (scoped by the caller):
    the first `limit` residents whose name holds every word, exact last names first, and how
    many match in all (shown: "20 premiers sur 21")."""
    matches = residents.matching_name(words)
    return list(matches.exact_last_name_first(words)[:limit]), matches.count()


def phone_confirmed_by_desk(*, structure_id: int, phone: str) -> bool:
    """Whether a member of the structure's staff typed or checked this E.164 number on one of
    its residents' records (`Resident.phone_confirmed_at`). Not scoped by a user: the task
    cluster asks it before texting (bookings/sms_caps.py). One query."""
    if not phone:
        return False
    return Resident.objects.filter(
        structure_id=structure_id, phone=phone, phone_confirmed_at__isnull=False
    ).exists()
