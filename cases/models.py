"""The activity log (help sessions, the national tools' "CRA") and residents' cases.

Multi-valued fields of a session (themes, procedure areas, equipment) are rows of SessionTag,
and a workshop's anonymous participants are rows of ParticipantCount: reports count them with
GROUP BY in the database, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from bookings.models import Appointment
from cases.choices import (
    MAX_DURATION_MINUTES,
    Autonomy,
    CaseEventKind,
    CaseStatus,
    CountDimension,
    Outcome,
    PlaceType,
    ProcedureArea,
    RedirectedTo,
    SessionKind,
    TagDimension,
    WorkshopLevel,
)
from mediation.models import Place, Resident, Structure, insee_validator
from mediation.report_keys import report_key_field
from mediation.scoping import scoped_queryset


class CaseQuerySet(scoped_queryset("structure")):
    def open(self):
        from cases.choices import CLOSED_CASE_STATUSES

        return self.exclude(status__in=CLOSED_CASE_STATUSES)

    def needing_action(self, today=None):
        """Open cases whose next-action date has come."""
        today = today or timezone.localdate()
        return self.open().filter(next_action_on__lte=today)


class Case(models.Model):
    """Dossier: one resident's need followed over several sessions until it is settled."""

    structure = models.ForeignKey(
        Structure, on_delete=models.PROTECT, related_name="cases", verbose_name=_("structure")
    )
    resident = models.ForeignKey(
        Resident, on_delete=models.PROTECT, related_name="cases", verbose_name=_("usager")
    )
    procedure_area = models.CharField(
        _("domaine de la démarche"), max_length=30, choices=ProcedureArea.choices
    )
    title = models.CharField(
        _("intitulé"), max_length=150, help_text=_("Ex. : Renouvellement carte d'identité")
    )
    status = models.CharField(
        _("statut"), max_length=24, choices=CaseStatus.choices, default=CaseStatus.OPEN
    )
    next_action_on = models.DateField(_("prochaine action le"), null=True, blank=True)
    mediator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="cases",
        verbose_name=_("médiateur·rice référent·e"),
    )
    opened_at = models.DateTimeField(_("ouvert le"), default=timezone.now)
    status_changed_at = models.DateTimeField(_("statut changé le"), default=timezone.now)
    closed_at = models.DateTimeField(_("clos le"), null=True, blank=True)

    objects = CaseQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("dossier")
        verbose_name_plural = _("dossiers")
        ordering = ["-opened_at"]
        indexes = [
            models.Index(fields=["structure", "status", "next_action_on"]),
            models.Index(fields=["resident", "opened_at"]),
            # "Mes suivis" of a mediator and the count in the menu: their own open cases.
            models.Index(fields=["structure", "mediator", "next_action_on"]),
        ]

    def __str__(self):
        return self.title


class CaseEvent(models.Model):
    """A line of a case's timeline written by the case services: a status change with its
    optional comment (`kind="status"`; the opening is the one with no `from_status`), or a note
    that leaves the status alone (`kind="note"`: free text, a new next-action date, a document
    reference; its statuses stay empty)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(
        _("nature"),
        max_length=8,
        choices=CaseEventKind.choices,
        default=CaseEventKind.STATUS,
        # Bulk writers that name their columns (bench/generate.py) get it from the database.
        db_default=CaseEventKind.STATUS,
    )
    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    from_status = models.CharField(max_length=24, choices=CaseStatus.choices, blank=True)
    to_status = models.CharField(max_length=24, choices=CaseStatus.choices, blank=True)
    comment = models.TextField(_("commentaire"), blank=True)
    # A status change: the case's date after it. A note: the date it set (None: unchanged).
    next_action_on = models.DateField(null=True, blank=True)
    # "n° dossier CAF 1234567", "pré-demande ANTS 2612…": the resident's identifier at an
    # administration, personal data erased with the comment (cases/privacy.py).
    document_reference = models.CharField(
        # `default` too: SQLite's multi-row INSERT (bulk_create) cannot say DEFAULT.
        _("référence de document"),
        max_length=100,
        blank=True,
        default="",
        db_default="",
    )

    objects = scoped_queryset("case__structure").as_manager()

    class Meta:
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["case", "at"])]
        constraints = [
            # A status change says where it leads; a note changes no status.
            models.CheckConstraint(
                condition=(models.Q(kind=CaseEventKind.STATUS) & ~models.Q(to_status=""))
                | models.Q(kind=CaseEventKind.NOTE, from_status="", to_status=""),
                name="case_event_kind_statuses",
            ),
        ]

    def __str__(self):
        if self.kind == CaseEventKind.NOTE:
            return "note"
        return f"{self.from_status} → {self.to_status}"


class HelpSessionQuerySet(scoped_queryset("structure")):
    def individual(self):
        return self.filter(kind=SessionKind.INDIVIDUAL)

    def collective(self):
        return self.filter(kind=SessionKind.COLLECTIVE)


class HelpSession(models.Model):
    """One logged help session (compte rendu d'activité), individual or a workshop."""

    # The stable identifier the national tools know it by (API `activite` id).
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    structure = models.ForeignKey(
        Structure, on_delete=models.PROTECT, related_name="sessions", verbose_name=_("structure")
    )
    place = models.ForeignKey(
        Place,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="sessions",
        verbose_name=_("lieu"),
    )
    mediator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="help_sessions",
        verbose_name=_("médiateur·rice"),
    )
    kind = models.CharField(
        _("type"), max_length=12, choices=SessionKind.choices, default=SessionKind.INDIVIDUAL
    )
    date = models.DateField(_("date"))
    # The day this session counts in reports: its `date`, unless it was recorded when the
    # month of `date` was already closed (REPORTS_GRACE_DAYS after its end): then the day it
    # was recorded, so that a closed period never changes. Set by the session services only
    # (`session_report_date`); an edit that keeps the date keeps it.
    report_date = models.DateField(_("compté dans les bilans le"))
    duration_minutes = models.PositiveSmallIntegerField(
        _("durée (minutes)"),
        validators=[MinValueValidator(1), MaxValueValidator(MAX_DURATION_MINUTES)],
    )
    place_type = models.CharField(
        _("où"), max_length=8, choices=PlaceType.choices, default=PlaceType.PLACE
    )
    other_commune_insee = models.CharField(
        _("commune (autre lieu)"), max_length=5, blank=True, validators=[insee_validator]
    )
    # Individual sessions: the resident helped (named, or an anonymous record that keeps only
    # age band, status, gender and commune). Workshops: `participants` and counts.
    resident = models.ForeignKey(
        Resident,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="sessions",
        verbose_name=_("usager"),
    )
    participants = models.ManyToManyField(
        Resident,
        blank=True,
        related_name="workshop_sessions",
        verbose_name=_("participants nommés"),
    )
    people_count = models.PositiveIntegerField(
        _("personnes accompagnées"),
        default=1,
        help_text=_("Accompagnements : une par personne aidée (calculé)."),
    )
    appointment = models.OneToOneField(
        Appointment, on_delete=models.SET_NULL, null=True, blank=True, related_name="help_session"
    )
    case = models.ForeignKey(
        Case,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="sessions",
        verbose_name=_("dossier"),
    )
    procedure_detail = models.CharField(_("précision sur la démarche"), max_length=200, blank=True)
    autonomy = models.CharField(
        _("autonomie à la fin"), max_length=20, choices=Autonomy.choices, blank=True
    )
    done_on_behalf = models.BooleanField(_("réalisé à la place de l'usager"), default=False)
    outcome = models.CharField(_("résultat"), max_length=20, choices=Outcome.choices, blank=True)
    redirected_to = models.CharField(
        _("orienté vers"), max_length=30, choices=RedirectedTo.choices, blank=True
    )
    title = models.CharField(_("titre de l'atelier"), max_length=150, blank=True)
    level = models.CharField(_("niveau"), max_length=12, choices=WorkshopLevel.choices, blank=True)
    notes = models.TextField(
        _("notes"),
        blank=True,
        help_text=_(
            "Jamais de numéro de sécurité sociale, de mot de passe, de coordonnées "
            "bancaires ni d'information de santé."
        ),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # The last change of what the session says (set by the session services, and when an
    # erasure empties its free text): the national tools read the log by it, newest first.
    updated_at = models.DateTimeField(_("modifié le"), default=timezone.now)
    report_key = report_key_field()

    objects = HelpSessionQuerySet.as_manager()
    history = HistoricalRecords(
        m2m_fields=[participants], excluded_fields=["report_key", "uuid", "updated_at"]
    )

    class Meta:
        verbose_name = _("accompagnement")
        verbose_name_plural = _("accompagnements")
        ordering = ["-date", "-created_at"]
        indexes = [
            models.Index(fields=["structure", "date"]),
            models.Index(fields=["resident", "date"]),
            models.Index(fields=["case", "date"]),
            models.Index(fields=["place", "date"]),
            # The report queries select a period by report_date (reports.indicators).
            models.Index(fields=["structure", "report_date"]),
            models.Index(fields=["resident", "report_date"]),
            models.Index(fields=["place", "report_date"]),
            # The read API's order (api.selectors): by last change, then uuid, newest first.
            models.Index(fields=["updated_at", "uuid"], name="session_api_order"),
            models.Index(fields=["structure", "updated_at", "uuid"], name="session_api_scope"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    duration_minutes__gte=1, duration_minutes__lte=MAX_DURATION_MINUTES
                ),
                name="session_duration_range",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} — {self.date:%d/%m/%Y}"


class SessionTag(models.Model):
    """One value of a multi-valued field of a session (a theme, a procedure area, an
    equipment)."""

    session = models.ForeignKey(HelpSession, on_delete=models.CASCADE, related_name="tags")
    dimension = models.CharField(max_length=10, choices=TagDimension.choices)
    code = models.CharField(max_length=40)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["session", "dimension", "code"], name="session_tag_unique"
            ),
        ]
        indexes = [models.Index(fields=["dimension", "code"])]

    def __str__(self):
        return f"{self.dimension}:{self.code}"


class ParticipantCount(models.Model):
    """Anonymous participants of a workshop, counted by age band, status or gender."""

    session = models.ForeignKey(
        HelpSession, on_delete=models.CASCADE, related_name="participant_counts"
    )
    dimension = models.CharField(max_length=10, choices=CountDimension.choices)
    code = models.CharField(max_length=12)
    count = models.PositiveSmallIntegerField(validators=[MaxValueValidator(500)])

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["session", "dimension", "code"], name="participant_count_unique"
            ),
        ]

    def __str__(self):
        return f"{self.dimension}:{self.code}={self.count}"
