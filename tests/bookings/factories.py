"""Factories of the bookings models, on top of tests/factories.py."""

from datetime import UTC, date, datetime, time, timedelta

import factory
from factory.django import DjangoModelFactory

from bookings.models import Absence, Motif, OpeningHours, Slot
from mediation.choices import Role
from mediation.models import Membership
from mediation.permissions import roles_for
from tests.factories import PlaceFactory, StructureFactory, UserFactory


class MotifFactory(DjangoModelFactory):
    class Meta:
        model = Motif

    structure = factory.SubFactory(StructureFactory)
    name = factory.Sequence(lambda n: f"Aide aux démarches {n}")
    duration_minutes = 30
    min_delay_minutes = 0
    max_delay_days = 365


class WorkshopFactory(MotifFactory):
    name = factory.Sequence(lambda n: f"Atelier smartphone {n}")
    duration_minutes = 90
    is_collective = True
    capacity = 3


class OpeningHoursFactory(DjangoModelFactory):
    """Mondays 09:00–12:00 from 4 January 2027 (a Monday), for the given motifs."""

    class Meta:
        model = OpeningHours
        skip_postgeneration_save = True

    place = factory.SubFactory(PlaceFactory)
    mediator = factory.SubFactory(UserFactory)
    weekdays = factory.LazyFunction(lambda: [0])
    start_time = time(9, 0)
    end_time = time(12, 0)
    every_n_weeks = 1
    first_day = date(2027, 1, 4)
    last_day = None

    @factory.post_generation
    def motifs(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.motifs.add(*extracted)

    @factory.post_generation
    def member(obj, create, extracted, **kwargs):
        """Opening hours are given to someone who takes appointments in the structure (the
        admin pages allow no one else): the mediator is made one unless they already are, or
        `member=False`."""
        if not create or extracted is False:
            return
        roles = roles_for("take_appointments")
        structure_id = obj.place.structure_id
        if not Membership.objects.filter(
            user_id=obj.mediator_id, structure_id=structure_id, role__in=roles
        ).exists():
            Membership.objects.create(
                user_id=obj.mediator_id, structure_id=structure_id, role=Role.MEDIATOR
            )


class AbsenceFactory(DjangoModelFactory):
    class Meta:
        model = Absence

    structure = factory.SubFactory(StructureFactory)
    mediator = factory.SubFactory(UserFactory)
    starts_at = datetime(2027, 1, 4, 8, 0, tzinfo=UTC)
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + timedelta(hours=1))
    reason = "Formation"


class SlotFactory(DjangoModelFactory):
    class Meta:
        model = Slot

    place = factory.SubFactory(PlaceFactory)
    motif = factory.SubFactory(MotifFactory, structure=factory.SelfAttribute("..place.structure"))
    mediator = factory.SubFactory(UserFactory)
    starts_at = datetime(2027, 1, 4, 8, 0, tzinfo=UTC)
    ends_at = factory.LazyAttribute(
        lambda o: o.starts_at + timedelta(minutes=o.motif.duration_minutes)
    )
    capacity = factory.LazyAttribute(lambda o: o.motif.capacity)
    seats_taken = 1
    is_active = True
