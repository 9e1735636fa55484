"""Bookings: services offered (motifs), opening hours, absences, and appointments.

No double booking is guaranteed by the database, not by the code that checks first: every
appointment takes a seat in a `Slot` (a mediator's time range for one motif). On PostgreSQL an
exclusion constraint forbids two active slots of one mediator to overlap, and a check
constraint keeps `seats_taken <= capacity`; on SQLite the booking transaction is IMMEDIATE, so
checks and writes of concurrent bookings run one after the other."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from phonenumber_field.modelfields import PhoneNumberField
from simple_history.models import HistoricalRecords

from bookings.choices import (
    CANCELLED_STATUSES,
    WAITLIST_ACTIVE_STATUSES,
    AppointmentStatus,
    Channel,
    Delivery,
    MessageKind,
    MessageStatus,
    MotifMode,
    SmsEncoding,
    WaitlistStatus,
    Weekday,
)
from mediation.models import Place, Resident, Structure
from mediation.report_keys import report_key_field
from mediation.scoping import scoped_queryset


def new_token() -> str:
    # 256 bits, URL-safe: the private link of an appointment is its only key.
    return secrets.token_urlsafe(32)


class MotifQuerySet(scoped_queryset("structure")):
    def active(self):
        return self.filter(is_active=True)

    def bookable_online(self):
        return self.active().filter(bookable_online=True)


class Motif(models.Model):
    """A service offered by a structure ("Aide aux démarches CAF", "Atelier smartphone"…)."""

    structure = models.ForeignKey(
        Structure, on_delete=models.CASCADE, related_name="motifs", verbose_name=_("structure")
    )
    name = models.CharField(_("nom"), max_length=150)
    duration_minutes = models.PositiveSmallIntegerField(
        _("durée (minutes)"),
        default=30,
        validators=[MinValueValidator(5), MaxValueValidator(480)],
    )
    mode = models.CharField(
        _("modalité"), max_length=10, choices=MotifMode.choices, default=MotifMode.ON_SITE
    )
    is_collective = models.BooleanField(_("atelier collectif"), default=False)
    capacity = models.PositiveSmallIntegerField(
        _("nombre de places"),
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(200)],
        help_text=_("Pour un atelier collectif : nombre de participants au plus."),
    )
    bookable_online = models.BooleanField(
        _("réservable en ligne par les usagers"),
        default=True,
        help_text=_("Sinon, seule l'équipe peut prendre ce rendez-vous."),
    )
    min_delay_minutes = models.PositiveIntegerField(
        _("délai minimum avant le rendez-vous (minutes)"),
        default=120,
    )
    max_delay_days = models.PositiveSmallIntegerField(
        _("réservable jusqu'à (jours à l'avance)"),
        default=90,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
    )
    buffer_before_minutes = models.PositiveSmallIntegerField(
        _("temps libre avant (minutes)"),
        default=0,
        validators=[MaxValueValidator(480)],
        help_text=_("Gardé libre avant chaque rendez-vous de ce motif (préparation)."),
    )
    buffer_after_minutes = models.PositiveSmallIntegerField(
        _("temps libre après (minutes)"),
        default=0,
        validators=[MaxValueValidator(480)],
        help_text=_(
            "Gardé libre après chaque rendez-vous de ce motif (ex. 10 min pour le compte rendu)."
        ),
    )
    # Booking limits (issue #14): empty = no limit; 0 is refused (the form says to leave empty).
    max_per_day = models.PositiveSmallIntegerField(
        _("rendez-vous par jour au plus (toute l'équipe)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(1000)],
        help_text=_(
            "Pour ce motif, tous médiateur·rices confondu·es. Laissez vide pour ne pas limiter."
        ),
    )
    max_per_mediator_per_day = models.PositiveSmallIntegerField(
        _("rendez-vous par jour au plus (par médiateur·rice)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(1000)],
        help_text=_("Pour ce motif, pour chaque médiateur·rice. Laissez vide pour ne pas limiter."),
    )
    instructions = models.TextField(
        _("consignes après réservation"),
        blank=True,
        help_text=_("Ex. : apportez votre carte Vitale et vos identifiants."),
    )
    is_active = models.BooleanField(_("actif"), default=True)

    objects = MotifQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("motif")
        verbose_name_plural = _("motifs")
        ordering = ["structure", "name"]
        constraints = [
            models.UniqueConstraint(fields=["structure", "name"], name="motif_name_unique"),
            models.CheckConstraint(
                condition=models.Q(duration_minutes__gte=5), name="motif_duration_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(is_collective=True) | models.Q(capacity=1),
                name="motif_individual_capacity_one",
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        if not self.is_collective:
            self.capacity = 1
        errors = {}
        for name in ("buffer_before_minutes", "buffer_after_minutes"):
            value = getattr(self, name)
            if value and self.duration_minutes and value > self.duration_minutes:
                errors[name] = _(
                    "Le temps libre ne peut pas dépasser la durée du rendez-vous "
                    "(%(duration)s minutes)."
                ) % {"duration": self.duration_minutes}
        if errors:
            raise ValidationError(errors)

    @property
    def has_buffers(self) -> bool:
        return bool(self.buffer_before_minutes or self.buffer_after_minutes)

    @property
    def has_limits(self) -> bool:
        return bool(self.max_per_day or self.max_per_mediator_per_day)


class OpeningHoursQuerySet(scoped_queryset("place__structure")):
    pass


class OpeningHours(models.Model):
    """Plage d'ouverture: a mediator at a place, on some weekdays, every N weeks."""

    place = models.ForeignKey(
        Place, on_delete=models.CASCADE, related_name="opening_hours", verbose_name=_("lieu")
    )
    mediator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="opening_hours",
        verbose_name=_("médiateur·rice"),
    )
    motifs = models.ManyToManyField(
        Motif, related_name="opening_hours", verbose_name=_("motifs acceptés")
    )
    weekdays = models.JSONField(_("jours"), default=list, help_text=_("0 = lundi … 6 = dimanche"))
    start_time = models.TimeField(_("de"))
    end_time = models.TimeField(_("à"))
    every_n_weeks = models.PositiveSmallIntegerField(
        _("toutes les N semaines"),
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(8)],
    )
    first_day = models.DateField(_("premier jour"))
    last_day = models.DateField(_("dernier jour"), null=True, blank=True)

    objects = OpeningHoursQuerySet.as_manager()
    history = HistoricalRecords(m2m_fields=[motifs])

    class Meta:
        verbose_name = _("plage d'ouverture")
        verbose_name_plural = _("plages d'ouverture")
        ordering = ["place", "first_day", "start_time"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_time__gt=models.F("start_time")),
                name="opening_hours_end_after_start",
            ),
            models.CheckConstraint(
                condition=models.Q(last_day__isnull=True)
                | models.Q(last_day__gte=models.F("first_day")),
                name="opening_hours_last_after_first",
            ),
        ]

    def __str__(self):
        return f"{self.place} — {self.mediator}"

    def clean(self):
        errors = {}
        if self.start_time and self.end_time and self.end_time <= self.start_time:
            errors["end_time"] = _("L'heure de fin doit être après l'heure de début.")
        if self.first_day and self.last_day and self.last_day < self.first_day:
            errors["last_day"] = _("Le dernier jour doit être après le premier.")
        # A JSON field: the operators' admin lets any JSON through, not only a list.
        days = self.weekdays if isinstance(self.weekdays, list) else []
        if not days or any(not isinstance(d, int) or not 0 <= d <= 6 for d in days):
            errors["weekdays"] = _("Choisissez au moins un jour de la semaine.")
        if errors:
            raise ValidationError(errors)


class DateOverrideQuerySet(scoped_queryset("place__structure")):
    pass


class DateOverride(models.Model):
    """An exceptional day at a place, without touching the recurring opening hours: open (a
    Saturday, other hours on a given day) or closed.

    For one mediator, or, for a closure only, the whole place (`mediator` empty). On its day,
    a mediator's open overrides at the place replace their recurring hours there; a closure
    removes them (all mediators' for a whole-place closure). Appointments already booked are
    kept. Read by the slot engine (`bookings/slots.py`)."""

    place = models.ForeignKey(
        Place, on_delete=models.CASCADE, related_name="date_overrides", verbose_name=_("lieu")
    )
    mediator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="date_overrides",
        verbose_name=_("médiateur·rice"),
    )
    day = models.DateField(_("jour"))
    is_closed = models.BooleanField(_("fermé ce jour-là"), default=False)
    start_time = models.TimeField(_("de"), null=True, blank=True)
    end_time = models.TimeField(_("à"), null=True, blank=True)
    motifs = models.ManyToManyField(
        Motif, blank=True, related_name="date_overrides", verbose_name=_("motifs acceptés")
    )
    reason = models.CharField(_("raison"), max_length=150, blank=True)

    objects = DateOverrideQuerySet.as_manager()
    history = HistoricalRecords(m2m_fields=[motifs])

    class Meta:
        verbose_name = _("ouverture ou fermeture exceptionnelle")
        verbose_name_plural = _("ouvertures et fermetures exceptionnelles")
        ordering = ["day", "start_time"]
        indexes = [models.Index(fields=["place", "day"])]
        constraints = [
            # Closed: no hours. Open: a mediator and hours that end after they start.
            models.CheckConstraint(
                condition=(
                    models.Q(is_closed=True, start_time__isnull=True, end_time__isnull=True)
                    | models.Q(
                        is_closed=False,
                        mediator__isnull=False,
                        start_time__isnull=False,
                        end_time__gt=models.F("start_time"),
                    )
                ),
                name="date_override_closed_or_hours",
            ),
        ]

    def __str__(self):
        return f"{self.place} — {self.day:%d/%m/%Y}"

    def clean(self):
        errors = {}
        if self.is_closed:
            self.start_time = self.end_time = None
        else:
            if self.start_time is None:
                errors["start_time"] = _("Indiquez l'heure de début.")
            if self.end_time is None:
                errors["end_time"] = _("Indiquez l'heure de fin.")
            elif self.start_time is not None and self.end_time <= self.start_time:
                errors["end_time"] = _("L'heure de fin doit être après l'heure de début.")
            if self.mediator_id is None:
                errors["mediator"] = _(
                    "Une ouverture exceptionnelle est celle d'un·e médiateur·rice : choisissez "
                    "qui reçoit."
                )
        if errors:
            raise ValidationError(errors)


class AbsenceQuerySet(scoped_queryset("structure")):
    pass


class Absence(models.Model):
    """Time a mediator is away (leave, training…): removes free slots."""

    structure = models.ForeignKey(
        Structure, on_delete=models.CASCADE, related_name="absences", verbose_name=_("structure")
    )
    mediator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="absences",
        verbose_name=_("médiateur·rice"),
    )
    starts_at = models.DateTimeField(_("début"))
    ends_at = models.DateTimeField(_("fin"))
    reason = models.CharField(_("motif de l'absence"), max_length=150, blank=True)
    # An occurrence of a recurring absence (written by its service, deleted with it).
    series = models.ForeignKey(
        "RecurringAbsence",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="occurrences",
        verbose_name=_("absence récurrente"),
    )

    objects = AbsenceQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("absence")
        verbose_name_plural = _("absences")
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="absence_end_after_start",
            ),
        ]

    def __str__(self):
        return f"{self.mediator} — {self.starts_at:%d/%m/%Y}"

    def clean(self):
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": _("La fin doit être après le début.")})


class RecurringAbsenceQuerySet(scoped_queryset("structure")):
    pass


class RecurringAbsence(models.Model):
    """A mediator away at the same hours on one weekday, every N weeks, for a period ("every
    Wednesday afternoon", "every other Monday"). Weeks are counted from the week of
    `first_day`, as for opening hours.

    Its occurrences are written as `Absence` rows (`series`) by `recurring_absence_create`, so
    that everything that reads absences (the slot engine, the national places file, the
    warnings about booked appointments) sees them without a query of its own. Hence a period
    of at most a year; hours are wall-clock times in `time_zone`."""

    structure = models.ForeignKey(
        Structure,
        on_delete=models.CASCADE,
        related_name="recurring_absences",
        verbose_name=_("structure"),
    )
    mediator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="recurring_absences",
        verbose_name=_("médiateur·rice"),
    )
    weekday = models.PositiveSmallIntegerField(_("jour"), choices=Weekday.choices)
    start_time = models.TimeField(_("de"))
    end_time = models.TimeField(_("à"))
    every_n_weeks = models.PositiveSmallIntegerField(
        _("toutes les N semaines"),
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(8)],
    )
    first_day = models.DateField(_("du"))
    last_day = models.DateField(_("au"))
    time_zone = models.CharField(_("fuseau horaire"), max_length=40)
    reason = models.CharField(_("motif de l'absence"), max_length=150, blank=True)

    objects = RecurringAbsenceQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("absence récurrente")
        verbose_name_plural = _("absences récurrentes")
        ordering = ["first_day", "start_time"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_time__gt=models.F("start_time")),
                name="recurring_absence_end_after_start",
            ),
            models.CheckConstraint(
                condition=models.Q(last_day__gte=models.F("first_day")),
                name="recurring_absence_last_after_first",
            ),
            models.CheckConstraint(
                condition=models.Q(weekday__lte=6), name="recurring_absence_weekday"
            ),
        ]

    def __str__(self):
        return f"{self.mediator} — {self.first_day:%d/%m/%Y}"

    def clean(self):
        errors = {}
        if self.start_time and self.end_time and self.end_time <= self.start_time:
            errors["end_time"] = _("L'heure de fin doit être après l'heure de début.")
        if self.first_day and self.last_day and self.last_day < self.first_day:
            errors["last_day"] = _("Le dernier jour doit être après le premier.")
        if errors:
            raise ValidationError(errors)


class SlotQuerySet(scoped_queryset("place__structure")):
    def active(self):
        return self.filter(is_active=True)


class Slot(models.Model):
    """A mediator's booked time range for one motif; appointments take its seats.

    An individual motif's slot has one seat; a workshop's has the motif's capacity."""

    place = models.ForeignKey(Place, on_delete=models.PROTECT, related_name="slots")
    motif = models.ForeignKey(Motif, on_delete=models.PROTECT, related_name="slots")
    mediator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="slots"
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    capacity = models.PositiveSmallIntegerField(default=1)
    seats_taken = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(default=True)

    objects = SlotQuerySet.as_manager()

    class Meta:
        verbose_name = _("créneau réservé")
        verbose_name_plural = _("créneaux réservés")
        indexes = [
            models.Index(fields=["mediator", "starts_at"]),
            models.Index(fields=["place", "starts_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="slot_end_after_start"
            ),
            models.CheckConstraint(
                condition=models.Q(seats_taken__lte=models.F("capacity")),
                name="slot_not_overbooked",
            ),
            # SQLite and PostgreSQL: one active slot per mediator and start time. The full
            # no-overlap rule is an exclusion constraint added on PostgreSQL by migration.
            models.UniqueConstraint(
                fields=["mediator", "starts_at"],
                condition=models.Q(is_active=True),
                name="slot_one_active_per_mediator_start",
            ),
        ]

    def __str__(self):
        return f"{self.starts_at:%Y-%m-%d %H:%M} ({self.seats_taken}/{self.capacity})"


class AppointmentQuerySet(scoped_queryset("place__structure")):
    def upcoming(self):
        return self.filter(status=AppointmentStatus.BOOKED, starts_at__gte=timezone.now())

    def moved_away(self):
        """Appointments replaced by a move: cancelled, with a newer one pointing to them."""
        return self.filter(status__in=CANCELLED_STATUSES, moved_to__isnull=False)

    def not_moved_away(self):
        """Without the old halves of moves: one row per need, the new one carries its fate."""
        return self.exclude(status__in=CANCELLED_STATUSES, moved_to__isnull=False)

    def for_day(self, day, tz):
        from datetime import datetime, time, timedelta

        start = datetime.combine(day, time.min, tzinfo=tz)
        return self.filter(starts_at__gte=start, starts_at__lt=start + timedelta(days=1))


class Appointment(models.Model):
    place = models.ForeignKey(
        Place, on_delete=models.PROTECT, related_name="appointments", verbose_name=_("lieu")
    )
    motif = models.ForeignKey(
        Motif, on_delete=models.PROTECT, related_name="appointments", verbose_name=_("motif")
    )
    mediator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="appointments",
        verbose_name=_("médiateur·rice"),
    )
    resident = models.ForeignKey(
        Resident, on_delete=models.PROTECT, related_name="appointments", verbose_name=_("usager")
    )
    slot = models.ForeignKey(Slot, on_delete=models.PROTECT, related_name="appointments")
    starts_at = models.DateTimeField(_("début"))
    ends_at = models.DateTimeField(_("fin"))
    status = models.CharField(
        _("statut"),
        max_length=24,
        choices=AppointmentStatus.choices,
        default=AppointmentStatus.BOOKED,
    )
    need = models.CharField(_("besoin exprimé"), max_length=300, blank=True)
    token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    booked_online = models.BooleanField(_("pris en ligne"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    report_key = report_key_field()
    cancelled_at = models.DateTimeField(null=True, blank=True)
    moved_from = models.OneToOneField(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="moved_to"
    )
    # The resident's calendar event (bookings/ics.py): one UID for the appointment's whole life,
    # moves included ("" before the first move: `appointment-<pk>`, what older files carried),
    # and a SEQUENCE that grows with every change the event shows (see `save`).
    #: The language the resident booked in (the public pages' choice): their SMS and e-mails
    #: are written in it. Staff bookings are French.
    language = models.CharField(
        _("langue des messages"),
        max_length=8,
        choices=settings.LANGUAGES,
        default="fr",
    )
    calendar_uid = models.CharField(max_length=100, blank=True, editable=False)
    calendar_sequence = models.PositiveIntegerField(default=0, editable=False)

    objects = AppointmentQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["token", "report_key"])

    class Meta:
        verbose_name = _("rendez-vous")
        verbose_name_plural = _("rendez-vous")
        ordering = ["starts_at"]
        indexes = [
            models.Index(fields=["place", "starts_at"]),
            models.Index(fields=["mediator", "starts_at"]),
        ]

    def __str__(self):
        return f"{self.resident} — {timezone.localtime(self.starts_at):%d/%m/%Y %H:%M}"

    def save(self, *args, **kwargs):
        """Whatever service changes what the calendar event shows, `calendar_sequence` grows
        with it, in the same save (RFC 5545: a higher SEQUENCE replaces the event the
        resident's calendar holds)."""
        saved = getattr(self, "_calendar_saved", None)
        if self.pk and saved is not None and saved != self._calendar_state():
            self.calendar_sequence += 1
            update_fields = kwargs.get("update_fields")
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "calendar_sequence"}
        super().save(*args, **kwargs)
        self._calendar_saved = self._calendar_state()

    def _calendar_state(self) -> tuple:
        """What the resident's calendar event shows: a change of time, place or motif, or a
        cancellation, is a new version of the event."""
        return (
            self.starts_at,
            self.ends_at,
            self.place_id,
            self.motif_id,
            self.status in CANCELLED_STATUSES,
        )

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        if {"starts_at", "ends_at", "place_id", "motif_id", "status"} <= set(field_names):
            instance._calendar_saved = instance._calendar_state()
        return instance

    @property
    def calendar_event_uid(self) -> str:
        """The UID of the resident's calendar event, without its "@domain"."""
        return self.calendar_uid or f"appointment-{self.pk}"

    @property
    def is_moved_away(self) -> bool:
        """Replaced by a move (`appointment_move` cancels the old one and books a new one that
        points back to it). The status stays a cancellation, by the resident or the staff;
        pages show "Déplacé" instead. Use select_related("moved_to") on lists."""
        return self.status in CANCELLED_STATUSES and getattr(self, "moved_to", None) is not None

    @property
    def status_label(self) -> str:
        """The status as residents and staff read it: "Déplacé" for the old half of a move."""
        if self.is_moved_away:
            return str(_("Déplacé"))
        return self.get_status_display()


def waitlist_cutoff(now=None):
    """Entries created before this have waited `WAITLIST_DAYS` and are over, whether or not
    the daily `waitlist_expire` has marked them yet."""
    return (now or timezone.now()) - timedelta(days=settings.WAITLIST_DAYS)


class WaitlistEntryQuerySet(scoped_queryset("place__structure")):
    def active(self, now=None):
        """Still on the list: not booked, left or closed, and younger than the period."""
        return self.filter(
            status__in=WAITLIST_ACTIVE_STATUSES, created_at__gte=waitlist_cutoff(now)
        )

    def waiting(self, now=None):
        return self.active(now).filter(status=WaitlistStatus.WAITING)

    def past_period(self, now=None):
        """Active by status but older than the period: what `waitlist_expire` ends."""
        return self.filter(status__in=WAITLIST_ACTIVE_STATUSES, created_at__lt=waitlist_cutoff(now))


class WaitlistEntry(models.Model):
    """A resident who found no convenient slot and left a number for a motif and place."""

    place = models.ForeignKey(
        Place, on_delete=models.CASCADE, related_name="waitlist", verbose_name=_("lieu")
    )
    motif = models.ForeignKey(
        Motif, on_delete=models.CASCADE, related_name="waitlist", verbose_name=_("motif")
    )
    first_name = models.CharField(_("prénom"), max_length=100)
    phone = PhoneNumberField(_("téléphone mobile"))
    status = models.CharField(
        _("statut"), max_length=10, choices=WaitlistStatus.choices, default=WaitlistStatus.WAITING
    )
    token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    language = models.CharField(
        _("langue des messages"),
        max_length=8,
        choices=settings.LANGUAGES,
        default="fr",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    offered_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(_("sorti de la liste le"), null=True, blank=True)

    objects = WaitlistEntryQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["token"])

    class Meta:
        verbose_name = _("inscription en liste d'attente")
        verbose_name_plural = _("liste d'attente")
        ordering = ["created_at"]
        indexes = [models.Index(fields=["place", "motif", "status", "created_at"])]

    def __str__(self):
        return f"{self.first_name} — {self.motif}"

    def is_active(self, now=None) -> bool:
        return self.status in WAITLIST_ACTIVE_STATUSES and self.created_at >= waitlist_cutoff(now)

    @property
    def expires_at(self):
        return self.created_at + timedelta(days=settings.WAITLIST_DAYS)


class NotificationQuerySet(scoped_queryset("structure")):
    def pending(self):
        return self.filter(status=MessageStatus.PENDING)


class Notification(models.Model):
    """One message to a resident: at most one per (appointment, kind, channel), whatever the
    retries, so that a re-run task never sends twice."""

    structure = models.ForeignKey(Structure, on_delete=models.CASCADE, related_name="notifications")
    appointment = models.ForeignKey(
        Appointment, on_delete=models.CASCADE, null=True, blank=True, related_name="notifications"
    )
    waitlist_entry = models.ForeignKey(
        WaitlistEntry, on_delete=models.CASCADE, null=True, blank=True, related_name="notifications"
    )
    kind = models.CharField(_("type"), max_length=20, choices=MessageKind.choices)
    channel = models.CharField(_("canal"), max_length=5, choices=Channel.choices)
    recipient = models.CharField(_("destinataire"), max_length=254)
    status = models.CharField(
        _("statut"), max_length=10, choices=MessageStatus.choices, default=MessageStatus.PENDING
    )
    send_after = models.DateTimeField(_("à envoyer à partir de"), default=timezone.now)
    send_before = models.DateTimeField(_("à envoyer avant"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("tentatives"), default=0)
    sent_at = models.DateTimeField(_("envoyé le"), null=True, blank=True)
    last_error = models.CharField(_("dernière erreur"), max_length=300, blank=True)
    provider_reference = models.CharField(max_length=100, blank=True)
    # SMS only, set when the text is written for sending: what the provider bills.
    encoding = models.CharField(
        _("encodage"), max_length=5, choices=SmsEncoding.choices, blank=True
    )
    segments = models.PositiveSmallIntegerField(_("segments"), null=True, blank=True)
    # The provider's delivery receipt (SMS, Brevo webhook): set once, by
    # `bookings.services.receipts.notification_record_delivery`.
    delivery = models.CharField(_("remise"), max_length=12, choices=Delivery.choices, blank=True)
    delivery_at = models.DateTimeField(_("remis ou refusé le"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        verbose_name = _("message envoyé")
        verbose_name_plural = _("messages envoyés")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "send_after"])]
        constraints = [
            models.UniqueConstraint(
                fields=["appointment", "kind", "channel"],
                condition=models.Q(appointment__isnull=False),
                name="notification_once_per_appointment",
            ),
            models.UniqueConstraint(
                fields=["waitlist_entry", "kind", "channel"],
                condition=models.Q(waitlist_entry__isnull=False),
                name="notification_once_per_waitlist_entry",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} ({self.get_channel_display()})"


class SmsOptOutQuerySet(scoped_queryset("structure")):
    def active(self):
        return self.filter(lifted_at__isnull=True)


class SmsOptOut(models.Model):
    """A number that answered STOP to a structure's SMS: that structure sends it no more SMS
    (e-mail still goes). Checked by `bookings.selectors.sms_allowed`, the one place.

    Lifted (`lifted_at`) when the resident texts START, or by staff with the resident's consent
    recorded (`bookings.services.receipts.sms_opt_out_lift`); a later STOP makes it active
    again. One row per number and structure; its history keeps every change and who made it."""

    structure = models.ForeignKey(Structure, on_delete=models.CASCADE, related_name="sms_opt_outs")
    phone = models.CharField(_("numéro"), max_length=20)  # E.164
    created_at = models.DateTimeField(_("date"), default=timezone.now)
    lifted_at = models.DateTimeField(_("levé le"), null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("levé par"),
    )

    objects = SmsOptOutQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("refus des SMS")
        verbose_name_plural = _("refus des SMS")
        constraints = [
            models.UniqueConstraint(fields=["structure", "phone"], name="sms_opt_out_once")
        ]

    def __str__(self):
        return f"STOP ({self.created_at:%d/%m/%Y})"


class CalendarFeedQuerySet(scoped_queryset("structure")):
    def active(self):
        return self.filter(revoked_at__isnull=True)


class CalendarFeed(models.Model):
    """A mediator's private calendar subscription (`webcal://`): their appointments and
    workshops at one structure, for their phone's calendar. The token is its only key;
    renewing it revokes the old one, which then answers 410."""

    structure = models.ForeignKey(
        Structure, on_delete=models.CASCADE, related_name="calendar_feeds"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feeds"
    )
    token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = CalendarFeedQuerySet.as_manager()

    class Meta:
        verbose_name = _("abonnement d'agenda")
        verbose_name_plural = _("abonnements d'agenda")
        constraints = [
            models.UniqueConstraint(
                fields=["structure", "user"],
                condition=models.Q(revoked_at__isnull=True),
                name="calendar_feed_one_active",
            )
        ]

    def __str__(self):
        return f"{self.user} — {self.structure}"
