from django.db import models
from django.utils.translation import gettext_lazy as _


class MotifMode(models.TextChoices):
    ON_SITE = "on_site", _("Sur place")
    PHONE = "phone", _("Par téléphone")
    HOME = "home", _("À domicile")
    VIDEO = "video", _("En visio")


class AppointmentStatus(models.TextChoices):
    BOOKED = "booked", _("À venir")
    SEEN = "seen", _("Honoré")
    NO_SHOW = "no_show", _("Absent")
    CANCELLED_BY_RESIDENT = "cancelled_by_resident", _("Annulé par l'usager")
    CANCELLED_BY_STAFF = "cancelled_by_staff", _("Annulé par la structure")


ACTIVE_STATUSES = (AppointmentStatus.BOOKED, AppointmentStatus.SEEN, AppointmentStatus.NO_SHOW)
CANCELLED_STATUSES = (AppointmentStatus.CANCELLED_BY_RESIDENT, AppointmentStatus.CANCELLED_BY_STAFF)

#: The one table of allowed appointment status changes: status → statuses it may change to,
#: all through `bookings.services.booking.appointment_set_status` (which adds the rules of time:
#: outcomes on the day, the resident's cut-off before cancelling online). A move cancels the old
#: appointment (`booked` → cancelled) and books a new one. A cancelled appointment keeps its status.
APPOINTMENT_TRANSITIONS: dict[str, frozenset[str]] = {
    AppointmentStatus.BOOKED: frozenset(
        {
            AppointmentStatus.SEEN,
            AppointmentStatus.NO_SHOW,
            AppointmentStatus.CANCELLED_BY_RESIDENT,
            AppointmentStatus.CANCELLED_BY_STAFF,
        }
    ),
    # A mistake is corrected on the day of the appointment; later, the record stands.
    AppointmentStatus.SEEN: frozenset({AppointmentStatus.NO_SHOW}),
    AppointmentStatus.NO_SHOW: frozenset({AppointmentStatus.SEEN}),
    AppointmentStatus.CANCELLED_BY_RESIDENT: frozenset(),
    AppointmentStatus.CANCELLED_BY_STAFF: frozenset(),
}


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("lundi")
    TUESDAY = 1, _("mardi")
    WEDNESDAY = 2, _("mercredi")
    THURSDAY = 3, _("jeudi")
    FRIDAY = 4, _("vendredi")
    SATURDAY = 5, _("samedi")
    SUNDAY = 6, _("dimanche")


class MessageKind(models.TextChoices):
    CONFIRMATION = "confirmation", _("Confirmation")
    REMINDER = "reminder", _("Rappel")
    CANCELLATION = "cancellation", _("Annulation")
    MOVED = "moved", _("Déplacement")
    WAITLIST_OFFER = "waitlist_offer", _("Créneau libéré (liste d'attente)")


class Channel(models.TextChoices):
    SMS = "sms", _("SMS")
    EMAIL = "email", _("E-mail")


class Delivery(models.TextChoices):
    """What the SMS provider reported after a message was sent (its delivery receipt)."""

    DELIVERED = "delivered", _("Remis")
    UNDELIVERED = "undelivered", _("Échec de remise")


class SmsEncoding(models.TextChoices):
    """How an SMS is encoded, which sets its price: 160 characters a segment in the GSM 03.38
    alphabet, 70 in UCS-2 (see `bookings.messaging.sms_prepare`)."""

    GSM7 = "gsm7", _("GSM 7 bits")
    UCS2 = "ucs2", _("Unicode (UCS-2)")


class MessageStatus(models.TextChoices):
    PENDING = "pending", _("À envoyer")
    SENT = "sent", _("Envoyé")
    FAILED = "failed", _("Échec")
    DROPPED = "dropped", _("Abandonné (trop tard)")
    # Not sent because the appointment was cancelled or moved first: nothing went wrong.
    CANCELLED = "cancelled", _("Annulé")


class WaitlistStatus(models.TextChoices):
    WAITING = "waiting", _("En attente")
    OFFERED = "offered", _("Créneau proposé")
    BOOKED = "booked", _("A réservé")
    CLOSED = "closed", _("Clôturé")
    LEFT = "left", _("A quitté la liste")
    EXPIRED = "expired", _("Expiré")


#: An entry in one of these is still on the list: it may be offered a slot (when waiting), is
#: shown to staff and can be left from its private link. Every other status is an end.
WAITLIST_ACTIVE_STATUSES = (WaitlistStatus.WAITING, WaitlistStatus.OFFERED)
