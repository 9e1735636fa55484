"""Archived reports: what was sent to coordinators and funders, kept as it was sent.

An archive holds the file itself (in the database: a report weighs tens of kilobytes, and the
backups then hold it too) and the parameters that produced it. It is never changed afterwards:
`save()` refuses to update one, so a report sent in April reads the same in December even if
sessions were logged late in between.

A published report (`PublishedReport`) is the anonymised report of a closed period and scope,
as it was first published: every later view, download and archive of that period and scope
serves it (`reports.frozen`), so two versions of a closed period can never be compared."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from mediation.models import Network, Structure
from mediation.scoping import ScopedQuerySet, visible_structure_ids


class ReportFormat(models.TextChoices):
    PDF = "pdf", "PDF"
    CSV = "csv", "CSV"
    XLSX = "xlsx", _("Tableur (XLSX)")


class ReportArchiveQuerySet(ScopedQuerySet):
    def visible_to(self, user, action=None):
        """Archives of the user's structures, and of the networks of those structures."""
        ids = visible_structure_ids(user, action)
        networks = Network.objects.visible_to(user, action).values("pk")
        return self.filter(Q(structure_id__in=ids) | Q(network_id__in=networks))


class ReportArchive(models.Model):
    structure = models.ForeignKey(
        Structure,
        verbose_name=_("structure"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="report_archives",
    )
    network = models.ForeignKey(
        Network,
        verbose_name=_("réseau"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="report_archives",
    )
    period = models.CharField(_("période"), max_length=20)
    format = models.CharField(_("format"), max_length=8, choices=ReportFormat.choices)
    content = models.BinaryField(_("fichier"))
    filename = models.CharField(_("nom du fichier"), max_length=200)
    sha256 = models.CharField(_("empreinte SHA-256"), max_length=64)
    parameters = models.JSONField(_("paramètres"), default=dict)
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("créé par"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = ReportArchiveQuerySet.as_manager()

    class Meta:
        verbose_name = _("bilan archivé")
        verbose_name_plural = _("bilans archivés")
        ordering = ["-period", "format"]
        constraints = [
            models.CheckConstraint(
                condition=Q(structure__isnull=True, network__isnull=False)
                | Q(structure__isnull=False, network__isnull=True),
                name="report_archive_one_scope",
            ),
            models.UniqueConstraint(
                fields=["structure", "period", "format"],
                condition=Q(structure__isnull=False),
                name="report_archive_structure_unique",
            ),
            models.UniqueConstraint(
                fields=["network", "period", "format"],
                condition=Q(network__isnull=False),
                name="report_archive_network_unique",
            ),
        ]

    def __str__(self):
        return self.filename

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("An archived report is never changed.")
        self.sha256 = hashlib.sha256(bytes(self.content)).hexdigest()
        super().save(*args, **kwargs)

    @property
    def scope(self) -> Structure | Network:
        return self.structure or self.network

    @property
    def size_kb(self) -> int:
        return max(1, len(self.content) // 1024)


class PublishedReport(models.Model):
    """The anonymised report of a closed period for a structure or a network, stored the
    first time it is published and never changed (`save()` refuses an update): the dict of
    `reports.publish` without the comparison with the previous period (added when served,
    from that period's own published report)."""

    structure = models.ForeignKey(
        Structure,
        verbose_name=_("structure"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="published_reports",
    )
    network = models.ForeignKey(
        Network,
        verbose_name=_("réseau"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="published_reports",
    )
    period = models.CharField(_("période"), max_length=20)
    report = models.JSONField(_("bilan publié"), encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(_("publié le"), auto_now_add=True)

    class Meta:
        verbose_name = _("bilan publié")
        verbose_name_plural = _("bilans publiés")
        ordering = ["-period"]
        constraints = [
            models.CheckConstraint(
                condition=Q(structure__isnull=True, network__isnull=False)
                | Q(structure__isnull=False, network__isnull=True),
                name="published_report_one_scope",
            ),
            models.UniqueConstraint(
                fields=["structure", "period"],
                condition=Q(structure__isnull=False),
                name="published_report_structure_unique",
            ),
            models.UniqueConstraint(
                fields=["network", "period"],
                condition=Q(network__isnull=False),
                name="published_report_network_unique",
            ),
        ]

    def __str__(self):
        return f"{self.scope} — {self.period}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("A published report is never changed.")
        super().save(*args, **kwargs)

    @property
    def scope(self) -> Structure | Network:
        return self.structure or self.network
