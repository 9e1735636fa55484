"""Factories of the cases models (sessions, workshops, cases, case events), on top of
tests/factories.py.

Tags are passed as lists of codes: ``HelpSessionFactory(themes=["email"],
procedures=["retraite"], equipment=["phone"])`` creates the SessionTag rows; a workshop takes
``counts={"age_band": {"60_74": 3}}`` for its ParticipantCount rows and ``participants=[...]``
for its named residents. Like every factory these skip the services: use
``cases.services.sessions`` to test the rules themselves."""

from datetime import date

import factory
from factory.django import DjangoModelFactory

from cases.choices import CaseStatus, ProcedureArea, SessionKind, TagDimension, Theme
from cases.models import Case, CaseEvent, HelpSession, ParticipantCount, SessionTag
from tests.factories import ResidentFactory, StructureFactory, UserFactory


def _add_tags(session, dimension, codes):
    SessionTag.objects.bulk_create(
        SessionTag(session=session, dimension=dimension, code=code) for code in codes
    )


class HelpSessionFactory(DjangoModelFactory):
    """An individual session of a named resident of the same structure, with one theme
    ("navigation_internet") unless ``themes`` says otherwise."""

    class Meta:
        model = HelpSession
        skip_postgeneration_save = True

    structure = factory.SubFactory(StructureFactory)
    mediator = factory.SubFactory(UserFactory)
    created_by = factory.SelfAttribute("mediator")
    kind = SessionKind.INDIVIDUAL
    date = date(2026, 1, 12)
    report_date = factory.SelfAttribute("date")  # an on-time entry
    duration_minutes = 30
    resident = factory.SubFactory(ResidentFactory, structure=factory.SelfAttribute("..structure"))
    people_count = 1

    @factory.post_generation
    def themes(obj, create, extracted, **kwargs):
        if create:
            codes = [Theme.NAVIGATION_INTERNET] if extracted is None else extracted
            _add_tags(obj, TagDimension.THEME, codes)

    @factory.post_generation
    def procedures(obj, create, extracted, **kwargs):
        if create and extracted:
            _add_tags(obj, TagDimension.PROCEDURE, extracted)

    @factory.post_generation
    def equipment(obj, create, extracted, **kwargs):
        if create and extracted:
            _add_tags(obj, TagDimension.EQUIPMENT, extracted)


class WorkshopSessionFactory(HelpSessionFactory):
    """A collective workshop: no resident; ``participants`` (named residents) and ``counts``
    ({dimension: {code: count}}) optional. people_count is left as given (default 0 + what
    is passed): pass it explicitly when a test depends on it."""

    kind = SessionKind.COLLECTIVE
    resident = None
    title = factory.Sequence(lambda n: f"Atelier smartphone {n}")
    level = "beginner"
    duration_minutes = 90
    people_count = 0

    @factory.post_generation
    def participants(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.participants.add(*extracted)

    @factory.post_generation
    def counts(obj, create, extracted, **kwargs):
        if create and extracted:
            ParticipantCount.objects.bulk_create(
                ParticipantCount(session=obj, dimension=dimension, code=code, count=count)
                for dimension, by_code in extracted.items()
                for code, count in by_code.items()
            )


class CaseFactory(DjangoModelFactory):
    class Meta:
        model = Case

    structure = factory.SubFactory(StructureFactory)
    resident = factory.SubFactory(ResidentFactory, structure=factory.SelfAttribute("..structure"))
    procedure_area = ProcedureArea.PAPIERS_CITOYENNETE
    title = factory.Sequence(lambda n: f"Renouvellement carte d'identité {n}")
    status = CaseStatus.OPEN
    mediator = factory.SubFactory(UserFactory)


class CaseEventFactory(DjangoModelFactory):
    class Meta:
        model = CaseEvent

    case = factory.SubFactory(CaseFactory)
    by = factory.SelfAttribute("case.mediator")
    from_status = CaseStatus.OPEN
    to_status = CaseStatus.IN_PROGRESS
    comment = "Pièces demandées à l'usager."
