"""API clients: who may read a structure's or a network's activity through the read API
(`api/v1.py`), with a secret shown once and kept only hashed."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from mediation.models import Network, Structure
from mediation.scoping import ScopedQuerySet, visible_structure_ids


class ApiClientQuerySet(ScopedQuerySet):
    def visible_to(self, user, action=None):
        """The clients of the structures where the user may `manage_api_clients`, and of the
        networks where they may `manage_network_api_clients` (on one of its structures: only
        someone who may do it on all of them creates or revokes one, see `api.services`)."""
        structures = visible_structure_ids(user, action or "manage_api_clients")
        networks = Network.objects.visible_to(user, "manage_network_api_clients")
        return self.filter(models.Q(structure_id__in=structures) | models.Q(network__in=networks))

    def active(self):
        return self.filter(revoked_at__isnull=True)


class ApiClient(models.Model):
    """A program reading the activity of one structure, or of every structure of a network
    (those that join it later included), as `Authorization: Bearer <uuid>:<secret>`."""

    #: The client id, public (the first half of the token).
    uuid = models.UUIDField(_("identifiant"), default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(
        _("nom"),
        max_length=100,
        help_text=_(
            "Qui s'en sert, pour quoi : « Coop de la médiation numérique », « entrepôt "
            "de données du département »…"
        ),
    )
    structure = models.ForeignKey(
        Structure,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="api_clients",
        verbose_name=_("structure"),
    )
    network = models.ForeignKey(
        Network,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="api_clients",
        verbose_name=_("réseau"),
    )
    # Django's password hasher (settings.PASSWORD_HASHERS): the secret is never stored.
    secret_hash = models.CharField(max_length=255, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("créé par"),
    )
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("révoqué le"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("révoqué par"),
    )
    last_used_at = models.DateTimeField(_("dernier appel"), null=True, blank=True)

    objects = ApiClientQuerySet.as_manager()

    class Meta:
        verbose_name = _("client de l'API")
        verbose_name_plural = _("clients de l'API")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(structure__isnull=False, network__isnull=True)
                | models.Q(structure__isnull=True, network__isnull=False),
                name="api_client_one_scope",
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @property
    def scope(self) -> Structure | Network:
        return self.structure if self.structure_id else self.network
