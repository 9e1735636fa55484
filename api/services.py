"""Writes of the read API: creating and revoking API clients, and checking a client's token.

A client reads one structure (created by a structure admin: `manage_api_clients`) or every
structure of a network (created by a coordinator who may `manage_network_api_clients` on all
of them). Its secret is drawn here, shown once, and stored only through Django's password
hashers; the token is `<client uuid>:<secret>`."""

from __future__ import annotations

import hashlib
import logging
import secrets
import uuid
from datetime import timedelta

from django.contrib.auth.hashers import check_password, make_password
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from api.models import ApiClient
from mediation.models import Network, Structure, User
from mediation.permissions import user_can

logger = logging.getLogger("permanence.api")

#: Bytes of randomness of a secret (43 characters once encoded).
SECRET_BYTES = 32
#: A checked token is remembered this long (by a hash of it): the password hasher is slow on
#: purpose, and a client reads page after page. Revocation is read from the database at
#: every call, so it is immediate all the same.
VERIFIED_SECONDS = 300
#: `last_used_at` is written at most this often (not at every page).
LAST_USED_PRECISION = timedelta(minutes=1)


def can_manage_network_clients(user: User, network: Network) -> bool:
    """May `user` create or revoke `network`'s clients: they read every structure of it, so
    `manage_network_api_clients` is needed on each (a network coordinator has it)."""
    structure_ids = list(Structure.objects.in_network(network).values_list("pk", flat=True))
    return bool(structure_ids) and all(
        user_can(user, "manage_network_api_clients", pk) for pk in structure_ids
    )


def can_manage_client(user: User, client: ApiClient) -> bool:
    if client.structure_id is not None:
        return user_can(user, "manage_api_clients", client.structure_id)
    return can_manage_network_clients(user, client.network)


@transaction.atomic
def api_client_create(
    *,
    name: str,
    by: User,
    structure: Structure | None = None,
    network: Network | None = None,
) -> tuple[ApiClient, str]:
    """Create a client of `structure` or of `network` (one of them); return it with its
    secret, which is never shown again. PermissionDenied when `by` may not."""
    if (structure is None) == (network is None):
        raise ValueError("an API client reads a structure or a network")
    allowed = (
        user_can(by, "manage_api_clients", structure)
        if structure is not None
        else can_manage_network_clients(by, network)
    )
    if not allowed:
        raise PermissionDenied
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Donnez un nom à ce client.")})
    secret = secrets.token_urlsafe(SECRET_BYTES)
    client = ApiClient(
        name=name,
        structure=structure,
        network=network,
        secret_hash=make_password(secret),
        created_by=by,
    )
    client.full_clean()
    client.save()
    logger.info("API client %s created for %s by user %s", client.uuid, client.scope, by.pk)
    return client, secret


@transaction.atomic
def api_client_revoke(*, client: ApiClient, by: User) -> ApiClient:
    """Revoke `client`: its token is refused from the next call on. Idempotent."""
    client = ApiClient.objects.select_for_update().get(pk=client.pk)
    if not can_manage_client(by, client):
        raise PermissionDenied
    if client.revoked_at is None:
        client.revoked_at = timezone.now()
        client.revoked_by = by
        client.save(update_fields=["revoked_at", "revoked_by"])
        logger.info("API client %s revoked by user %s", client.uuid, by.pk)
    return client


def _verified_key(client: ApiClient, secret: str) -> str:
    digest = hashlib.sha256(f"{client.uuid}:{secret}:{client.secret_hash}".encode()).hexdigest()
    return f"api:verified:{digest}"


def api_client_authenticate(token: str) -> ApiClient | None:
    """The active client whose token this is (`<client uuid>:<secret>`), or None: unknown,
    revoked, or a wrong secret all read the same."""
    client_id, _sep, secret = token.partition(":")
    try:
        client_uuid = uuid.UUID(client_id)
    except ValueError:
        return None
    if not secret or len(secret) > 200:
        return None
    client = (
        ApiClient.objects.active()
        .select_related("structure", "network")
        .filter(uuid=client_uuid)
        .first()
    )
    if client is None:
        return None
    key = _verified_key(client, secret)
    if cache.get(key):
        return client
    if not check_password(secret, client.secret_hash):
        return None
    cache.set(key, True, VERIFIED_SECONDS)
    return client


def api_client_used(client: ApiClient, *, now=None) -> None:
    """Remember when the client last called (at most once a minute: one UPDATE)."""
    now = now or timezone.now()
    if client.last_used_at is None or now - client.last_used_at >= LAST_USED_PRECISION:
        ApiClient.objects.filter(pk=client.pk).update(last_used_at=now)
        client.last_used_at = now
