"""The personal data of bookings, declared to the core's registry (`mediation/privacy.py`):
every field classified, how appointments and messages reach the resident, what the
right-of-access export shows of them, and when appointments, messages and waiting-list entries
expire. Imported by `BookingsConfig.ready()`."""

from bookings.choices import MessageStatus
from bookings.models import (
    Absence,
    Appointment,
    CalendarFeed,
    DateOverride,
    Motif,
    Notification,
    OpeningHours,
    RecurringAbsence,
    Slot,
    SmsOptOut,
    WaitlistEntry,
    new_token,
)
from mediation.privacy import E, Expiry, Export, K, N, R, erased, register_personal_data

register_personal_data(
    Motif,
    fields={
        "id": N,
        "structure": N,
        "name": N,
        "duration_minutes": N,
        "mode": N,
        "is_collective": N,
        "capacity": N,
        "bookable_online": N,
        "min_delay_minutes": N,
        "max_delay_days": N,
        "buffer_before_minutes": N,
        "buffer_after_minutes": N,
        "max_per_day": N,
        "max_per_mediator_per_day": N,
        "instructions": N,
        "is_active": N,
    },
)
register_personal_data(
    OpeningHours,
    fields={
        "id": N,
        "place": N,
        "mediator": K,
        "weekdays": N,
        "start_time": N,
        "end_time": N,
        "every_n_weeks": N,
        "first_day": N,
        "last_day": N,
        "motifs": N,
    },
)
# A staff member's absence: the form never asks for the cause.
register_personal_data(
    Absence,
    fields={
        "id": N,
        "structure": N,
        "mediator": K,
        "starts_at": K,
        "ends_at": K,
        "reason": K,
        "series": N,
    },
)
# An exceptional day at a place (open or closed), for a mediator or the whole place.
register_personal_data(
    DateOverride,
    fields={
        "id": N,
        "place": N,
        "mediator": K,
        "day": N,
        "is_closed": N,
        "start_time": N,
        "end_time": N,
        "motifs": N,
        "reason": K,
    },
)
# A staff member's recurring absence (its occurrences are Absence rows).
register_personal_data(
    RecurringAbsence,
    fields={
        "id": N,
        "structure": N,
        "mediator": K,
        "weekday": K,
        "start_time": K,
        "end_time": K,
        "every_n_weeks": K,
        "first_day": K,
        "last_day": K,
        "time_zone": N,
        "reason": K,
    },
)
register_personal_data(
    Slot,
    fields={
        "id": N,
        "place": N,
        "motif": N,
        "mediator": K,
        "starts_at": N,
        "ends_at": N,
        "capacity": N,
        "seats_taken": N,
        "is_active": N,
    },
)
# Deleted PRIVACY_RETENTION_DAYS after their start (with their messages and history). Booked or
# held, a future one included, an appointment is a contact that keeps the resident.
register_personal_data(
    Appointment,
    fields={
        "id": N,
        "place": N,
        "motif": N,
        "mediator": K,
        "resident": R,
        "slot": N,
        "starts_at": R,
        "ends_at": R,
        "status": R,
        "need": E,
        "token": erased(new_token, "a new token: the old private link leads nowhere"),
        "booked_online": N,
        "created_by": K,
        "created_at": R,
        "cancelled_at": R,
        "moved_from": N,
        "language": R,
        "calendar_uid": N,
        "calendar_sequence": N,
        "report_key": N,
    },
    links=("resident",),
    contact={"resident": ("starts_at", "created_at")},
    export=Export(
        "appointments",
        "Vos rendez-vous",
        hidden_in_pdf=("slot", "moved_from", "calendar_uid", "calendar_sequence"),
        labels={
            "slot": "créneau",
            "created_by": "pris par",
            "created_at": "pris le",
            "cancelled_at": "annulé le",
            "moved_from": "déplacé depuis le rendez-vous",
            "calendar_uid": "identifiant d'agenda",
            "calendar_sequence": "version dans les agendas",
        },
    ),
    expires=Expiry("starts_at"),
)


def _waitlist_entries_of(resident):
    """Waiting-list entries are not linked to a record: those left with the resident's mobile
    number at their structure's places are theirs, and go with the erasure (with their history
    and messages)."""
    if not resident.phone:
        return WaitlistEntry._base_manager.none()
    return WaitlistEntry._base_manager.filter(
        place__structure_id=resident.structure_id, phone=resident.phone
    )


WAITLIST_LABELS = {
    "created_at": "inscrit le",
    "offered_at": "place proposée le",
    "ended_at": "sorti de la liste le",
}

# Not linked to a resident record: deleted PRIVACY_RETENTION_DAYS after creation.
register_personal_data(
    WaitlistEntry,
    fields={
        "id": N,
        "place": N,
        "motif": N,
        "first_name": R,
        "phone": R,
        "status": R,
        "token": R,
        "language": R,
        "created_at": R,
        "offered_at": R,
        "ended_at": R,
    },
    expires=Expiry("created_at"),
    owned_rows=_waitlist_entries_of,
    export=Export(
        "waitlist_entries",
        "Vos inscriptions sur liste d'attente",
        rows=_waitlist_entries_of,
        labels=WAITLIST_LABELS,
    ),
)


def _drop_messages_of_erased(messages):
    # Not sent to someone who asked to be forgotten.
    messages.filter(status=MessageStatus.PENDING).update(status=MessageStatus.DROPPED)


# Deleted PRIVACY_RETENTION_DAYS after creation; the recipient is erased on anonymisation.
register_personal_data(
    Notification,
    fields={
        "id": N,
        "structure": N,
        "appointment": R,
        "waitlist_entry": R,
        "kind": R,
        "channel": R,
        "recipient": E,
        "status": R,
        "send_after": R,
        "send_before": R,
        "attempts": N,
        "sent_at": R,
        "last_error": N,
        "provider_reference": N,
        "encoding": N,
        "segments": N,
        "delivery": R,
        "delivery_at": R,
        "created_at": R,
    },
    links=("appointment__resident",),
    export=Export(
        "messages",
        "Messages qui vous ont été envoyés",
        # The messages about their waiting-list entries too.
        rows=lambda resident: Notification._base_manager.filter(
            waitlist_entry__in=_waitlist_entries_of(resident)
        ),
        hidden_in_pdf=("provider_reference", "last_error", "encoding", "segments", "attempts"),
        labels={
            "appointment": "rendez-vous",
            "waitlist_entry": "inscription sur liste d'attente",
            "provider_reference": "référence chez l'opérateur",
            "created_at": "créé le",
        },
    ),
    expires=Expiry("created_at"),
    before_erase=_drop_messages_of_erased,
)

# A mediator's calendar subscription: staff data, not a resident's. The token is a key to their
# agenda (initials and motifs only); revoked ones are kept to answer 410.
register_personal_data(
    CalendarFeed,
    fields={
        "id": N,
        "structure": N,
        "user": K,
        "token": K,
        "created_at": K,
        "revoked_at": K,
    },
)


def _sms_opt_outs_of(resident):
    """A STOP is not linked to a record: the one given with the resident's number to their
    structure is theirs, and goes with the erasure (the erased record has no number left to
    text)."""
    if not resident.phone:
        return SmsOptOut._base_manager.none()
    return SmsOptOut._base_manager.filter(
        structure_id=resident.structure_id, phone=resident.phone.as_e164
    )


# A number that answered STOP to a structure's SMS (bookings/services/receipts.py): kept
# PRIVACY_RETENTION_DAYS after the answer, then deleted like the messages it answered.
register_personal_data(
    SmsOptOut,
    fields={
        "id": N,
        "structure": N,
        "phone": R,
        "created_at": R,
        "lifted_at": R,
        "lifted_by": K,
    },
    expires=Expiry("created_at"),
    owned_rows=_sms_opt_outs_of,
)
