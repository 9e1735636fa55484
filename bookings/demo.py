"""Demo data of bookings: services, opening hours around today, and a month of appointments
before and after today (see mediation.demo). Idempotent: a structure that already has services
keeps its data."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.utils import timezone

from bookings.choices import CANCELLED_STATUSES, AppointmentStatus, MotifMode
from bookings.models import Appointment, Motif, OpeningHours, Slot
from bookings.slots import free_slots
from mediation.choices import Role
from mediation.demo import register_demo_step
from mediation.models import Membership, Resident

MOTIFS = [
    {
        "name": "Aide aux démarches en ligne",
        "duration_minutes": 30,
        "instructions": "Apportez vos identifiants (impots.gouv, CAF, Ameli…) et une pièce "
        "d'identité.",
    },
    {
        "name": "Dossier CAF, retraite ou santé",
        "duration_minutes": 60,
        "instructions": "Apportez votre numéro d'allocataire ou de sécurité sociale sur papier, "
        "et les courriers reçus.",
    },
    {
        "name": "Créer et utiliser son adresse e-mail",
        "duration_minutes": 45,
        "instructions": "Venez avec votre téléphone si vous en avez un.",
    },
    {
        "name": "Accompagnement à domicile",
        "duration_minutes": 60,
        "mode": MotifMode.HOME,
        "bookable_online": False,
    },
    {
        "name": "Atelier smartphone débutant",
        "duration_minutes": 120,
        "is_collective": True,
        "capacity": 8,
        "instructions": "Apportez votre smartphone chargé.",
    },
]

NEEDS = [
    "Déclaration de revenus",
    "Renouvellement carte d'identité",
    "Prime d'activité",
    "Dossier de retraite",
    "Créer un compte Ameli",
    "Inscription France Travail",
    "Carte grise",
    "Chèque énergie",
    "",
]


@register_demo_step
def seed_bookings(context: dict) -> None:
    rng = context["rng"]
    today = timezone.localdate()
    first_day = today - timedelta(days=35)
    for slug, structure in context["structures"].items():
        if Motif.objects.filter(structure=structure).exists():
            continue
        motifs = [
            Motif.objects.create(
                structure=structure, min_delay_minutes=120, max_delay_days=90, **data
            )
            for data in MOTIFS
        ]
        individual = [m for m in motifs if not m.is_collective]
        workshop = motifs[-1]
        mediator_ids = list(
            Membership.objects.filter(structure=structure, role=Role.MEDIATOR)
            .values_list("user_id", flat=True)
            .order_by("user_id")
        )
        places = context["places"][slug]
        for index, mediator_id in enumerate(mediator_ids):
            place = places[index % len(places)]
            # A mediator shared between town halls works in each on different days.
            shared = Membership.objects.filter(user_id=mediator_id, role=Role.MEDIATOR).count() > 1
            days = (
                ([0] if slug == "mairie-loheac" else [1, 2, 3])
                if shared
                else [[0, 2, 4], [1, 3], [1, 2, 4]][index % 3]
            )
            for start, end in ((time(9), time(12)), (time(13, 30), time(17))):
                hours = OpeningHours.objects.create(
                    place=place,
                    mediator_id=mediator_id,
                    weekdays=days,
                    start_time=start,
                    end_time=end,
                    first_day=first_day,
                    last_day=today + timedelta(days=120),
                )
                hours.motifs.add(*individual)
        if mediator_ids:
            workshop_hours = OpeningHours.objects.create(
                place=places[0],
                mediator_id=mediator_ids[0],
                weekdays=[5],
                start_time=time(9, 30),
                end_time=time(11, 30),
                every_n_weeks=2,
                first_day=first_day,
                last_day=today + timedelta(days=120),
            )
            workshop_hours.motifs.add(workshop)
        _book_around_today(structure, places, individual, workshop, rng)


def _book_around_today(structure, places, individual, workshop, rng) -> None:
    """About 40 % of the slots of the past 4 weeks and the next 4 weeks, with realistic
    outcomes for the past ones. Written directly (the booking service refuses past times)."""
    residents = list(Resident.objects.filter(structure=structure, is_anonymous=False))
    if not residents:
        return
    now = timezone.now()
    start, end = now - timedelta(days=28), now + timedelta(days=28)
    slots, appointments = [], []
    taken: set[tuple[int, datetime]] = set()
    for place in places:
        for motif in [*individual[:3], workshop]:
            offered = free_slots(
                place=place,
                motif=motif,
                start=start,
                end=end,
                now=start,
                respect_booking_window=False,
            )
            for free in offered:
                key = (free.mediator_id, free.starts_at)
                if key in taken or rng.random() > (0.25 if motif is workshop else 0.13):
                    continue
                # A slot blocks its whole duration: skip overlaps with ones already taken.
                if any(
                    (free.mediator_id, free.starts_at + timedelta(minutes=m)) in taken
                    for m in range(-120, motif.duration_minutes, 15)
                ):
                    continue
                taken.add(key)
                seats = min(rng.randint(3, 7) if motif.is_collective else 1, len(residents))
                statuses = [
                    _status(free.starts_at, now, rng, motif.is_collective) for _ in range(seats)
                ]
                active = [s for s in statuses if s not in CANCELLED_STATUSES]
                slot = Slot(
                    place=place,
                    motif=motif,
                    mediator_id=free.mediator_id,
                    starts_at=free.starts_at,
                    ends_at=free.ends_at,
                    capacity=motif.capacity,
                    seats_taken=len(active),
                    is_active=bool(active),
                )
                slots.append(slot)
                people = rng.sample(residents, seats)
                for resident, status in zip(people, statuses, strict=True):
                    appointments.append(
                        (
                            slot,
                            Appointment(
                                place=place,
                                motif=motif,
                                mediator_id=free.mediator_id,
                                resident=resident,
                                starts_at=free.starts_at,
                                ends_at=free.ends_at,
                                status=status,
                                need=rng.choice(NEEDS),
                                booked_online=rng.random() < 0.4,
                            ),
                        )
                    )
    Slot.objects.bulk_create(slots)
    for slot, appointment in appointments:
        appointment.slot = slot
    Appointment.objects.bulk_create([a for _slot, a in appointments])


def _status(starts_at, now, rng, collective: bool) -> str:
    roll = rng.random()
    if collective:  # workshop seats are not released in the demo
        return (
            AppointmentStatus.BOOKED
            if starts_at > now
            else (AppointmentStatus.SEEN if roll < 0.85 else AppointmentStatus.NO_SHOW)
        )
    if starts_at > now:
        return AppointmentStatus.CANCELLED_BY_RESIDENT if roll < 0.05 else AppointmentStatus.BOOKED
    if roll < 0.78:
        return AppointmentStatus.SEEN
    if roll < 0.90:
        return AppointmentStatus.NO_SHOW
    return AppointmentStatus.CANCELLED_BY_RESIDENT
