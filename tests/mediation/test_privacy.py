"""Personal data: the classification of every field, anonymisation (erasure on request,
objection, retention) including the history rows, the daily retention task, and the
right-of-access export."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.apps import apps
from django.db import models
from django.test.utils import isolate_apps
from django.urls import reverse
from django.utils import timezone
from django_q.models import Schedule

from bookings.models import Appointment, Notification, WaitlistEntry
from cases.models import Case, CaseEvent, HelpSession
from mediation import privacy
from mediation.choices import AgeBand, Role
from mediation.models import AccessAction, AccessLog, Resident
from tests.bookings.factories import SlotFactory
from tests.cases.factories import (
    CaseEventFactory,
    CaseFactory,
    HelpSessionFactory,
    WorkshopSessionFactory,
)
from tests.conftest import member
from tests.factories import ResidentFactory, StructureFactory

NOW = timezone.now()
LONG_AGO = NOW - timedelta(days=800)


# --- Classification -------------------------------------------------------------------------


def test_every_field_of_every_model_is_classified():
    missing, stale = privacy.classification_gaps()
    lines = [
        f"    register_personal_data({apps.get_model(label).__name__}, fields={{"
        + ", ".join(f"{name!r}: N|K|E|R" for name in names)
        + f"}})  # in {label.split('.')[0]}/privacy.py"
        for label, names in missing.items()
    ]
    assert not missing, (
        "Personal data: declare these fields in the model's app (<app>/privacy.py, imported by "
        "its AppConfig.ready()): N not personal, K kept, E erased on anonymisation, R deleted "
        "with the row after retention; a model reaching a resident also gives its `links` (see "
        "register_personal_data in mediation/privacy.py):\n" + "\n".join(lines)
    )
    assert not stale, f"Declared fields that do not exist: {stale}"


def test_the_classification_covers_the_apps_and_skips_history():
    assert privacy.project_apps() == ["mediation", "bookings", "cases", "reports", "api"]
    labels = {model._meta.label_lower for model in privacy.classified_models()}
    assert {"mediation.resident", "bookings.appointment", "cases.helpsession"} <= labels
    assert not any(
        label.startswith(("mediation.historical", "cases.historical")) for label in labels
    )


def test_each_app_declares_its_own_models():
    for entry in privacy.registered():
        module = entry.model.__module__.split(".")[0]
        assert entry.model._meta.app_label == module, entry.label


def test_the_links_and_contacts_are_valid_lookups_of_declared_models():
    for entry in privacy.registered():
        model = entry.model
        for lookup in [*entry.links, *entry.contact]:
            str(model._base_manager.filter(**{f"{lookup}__in": [0]}).query)  # raises if invalid
        for names in entry.contact.values():
            for name in names:
                assert model._meta.get_field(name).get_internal_type() in (
                    "DateField",
                    "DateTimeField",
                ), (entry.label, name)
        if entry.erased_fields() and model is not Resident:
            assert entry.links, f"{entry.label} has erased fields but no links to the resident"
    keys = [entry.export.key for entry in privacy.exported()]
    assert len(keys) == len(set(keys)) and not {"resident", "history"} & set(keys)


def test_an_export_without_links_to_the_resident_is_refused():
    # With no lookup, every row of the model would be "linked" to every resident.
    with pytest.raises(ValueError):
        privacy.register_personal_data(Resident, fields={}, export=privacy.Export("x", "X"))
    assert privacy.declaration(Resident).export is None


def _declared_by(model):
    """The model whose declaration covers `model`: a history model (django-simple-history)
    follows the model it records, an auto-created many-to-many table the model holding the
    field."""
    model = getattr(model, "instance_type", model)
    return model._meta.auto_created or model


def resident_reference_gaps(models=None) -> list[str]:
    """Every model with a field pointing straight at `Resident` (foreign key, one-to-one,
    many-to-many) must be declared, and that field must be one of its `links` (erasure and the
    export find the rows through them). History models are included and covered by the
    declaration of the model they record: the machinery erases and deletes their rows with
    it. So are auto-created many-to-many tables, by the model holding the field."""
    gaps = []
    for model in apps.get_models(include_auto_created=True) if models is None else models:
        fields = [*model._meta.concrete_fields, *model._meta.many_to_many]
        pointing = [f.name for f in fields if f.is_relation and f.related_model is Resident]
        if not pointing or model is Resident:
            continue
        owner = _declared_by(model)
        entry = privacy.declaration(owner)
        if entry is None:
            gaps.append(
                f"{model._meta.label_lower} ({', '.join(pointing)}) points at Resident: declare "
                f"{owner._meta.label} with register_personal_data() in "
                f"{owner._meta.app_label}/privacy.py"
            )
        elif owner is model:
            gaps.extend(
                f"{model._meta.label_lower}.{name} points at Resident but is not in its links"
                for name in pointing
                if name not in entry.links
            )
    return gaps


def test_every_model_pointing_at_a_resident_is_declared_with_that_link():
    assert not resident_reference_gaps(), "\n".join(resident_reference_gaps())


def test_the_check_finds_a_model_left_out(monkeypatch):
    monkeypatch.delitem(privacy._registry, "cases.case")
    gaps = resident_reference_gaps()
    assert any(gap.startswith("cases.case (resident)") for gap in gaps), gaps
    assert any(gap.startswith("cases.historicalcase (resident)") for gap in gaps), gaps


@isolate_apps("cases")
def test_the_check_finds_a_new_field_pointing_at_a_resident(monkeypatch):
    class Companion(models.Model):  # noqa: DJ008
        session = models.ForeignKey(HelpSession, on_delete=models.CASCADE)
        resident = models.ForeignKey(Resident, on_delete=models.CASCADE)

        class Meta:
            app_label = "cases"

    assert resident_reference_gaps([Companion]) == [
        "cases.companion (resident) points at Resident: declare cases.Companion with "
        "register_personal_data() in cases/privacy.py"
    ]
    fields = {"id": privacy.N, "session": privacy.K, "resident": privacy.K}
    monkeypatch.setattr(privacy, "_registry", dict(privacy._registry))
    privacy.register_personal_data(Companion, fields=fields, links=("session__resident",))
    assert resident_reference_gaps([Companion]) == [
        "cases.companion.resident points at Resident but is not in its links"
    ]
    privacy.register_personal_data(Companion, fields=fields, links=("resident",))
    assert resident_reference_gaps([Companion]) == []


# --- Anonymisation --------------------------------------------------------------------------


@pytest.fixture
def followed(structure, place, mediator):
    """A followed resident with a bit of everything: sessions with notes, a workshop, a case
    with events, an appointment with its messages, and an edit in the history."""
    resident = ResidentFactory(
        structure=structure,
        first_name="Zéphyrine",
        last_name="Alphonsine",
        phone="+33612345678",
        email="zephyrine@exemple.fr",
        birth_year=1950,
        commune_insee="35155",
        shared_with_network=True,
    )
    resident._history_user = mediator
    resident.phone = "+33698765432"
    resident.save()
    session = HelpSessionFactory(
        structure=structure,
        mediator=mediator,
        resident=resident,
        place=place,
        notes="Zéphyrine a oublié son mot de passe",
        procedure_detail="Demande de RSA de Zéphyrine",
    )
    session.notes = "Zéphyrine revient lundi"
    session.save()
    workshop = WorkshopSessionFactory(
        structure=structure, mediator=mediator, participants=[resident], notes="Zéphyrine"
    )
    case = CaseFactory(
        structure=structure, resident=resident, mediator=mediator, title="RSA Zéphyrine"
    )
    event = CaseEventFactory(case=case, comment="Appeler Zéphyrine")
    slot = SlotFactory(place=place, mediator=mediator)
    appointment = Appointment.objects.create(
        place=place,
        motif=slot.motif,
        mediator=mediator,
        resident=resident,
        slot=slot,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        need="Zéphyrine veut ses papiers",
    )
    message = Notification.objects.create(
        structure=structure,
        appointment=appointment,
        kind="reminder",
        channel="sms",
        recipient="+33612345678",
    )
    return {
        "resident": resident,
        "session": session,
        "workshop": workshop,
        "case": case,
        "event": event,
        "appointment": appointment,
        "message": message,
    }


def _everything_about(resident_pk) -> str:
    """Every value of every row (and history row) that mentions the resident, as one text."""
    chunks = []
    for model in apps.get_models():
        if model._meta.app_label not in privacy.project_apps():
            continue
        if model is AccessLog:
            continue
        for row in model._base_manager.all().values():
            chunks.append(json.dumps(row, default=str, ensure_ascii=False))
    return "\n".join(chunks)


def test_anonymisation_erases_identity_and_free_text_everywhere_history_included(
    followed, mediator
):
    resident = followed["resident"]
    before = _everything_about(resident.pk)
    assert "Zéphyrine" in before and "+33698765432" in before and "+33612345678" in before

    privacy.resident_anonymise(resident=resident, by=mediator, reason="request")

    after = _everything_about(resident.pk)
    for secret in ["Zéphyrine", "Alphonsine", "zephyrine", "+33698765432", "+33612345678", "RSA"]:
        assert secret not in after, secret
    resident.refresh_from_db()
    assert resident.is_anonymous and resident.anonymised_at is not None
    assert resident.last_name == "Anonyme" and resident.first_name == ""
    assert resident.search_name == "anonyme"
    assert (resident.phone, resident.email, resident.birth_year) == ("", "", None)
    assert resident.shared_with_network is False
    assert str(resident) == f"Usager anonyme n°{resident.pk}"


def test_anonymisation_keeps_statistics_and_turns_the_birth_year_into_an_age_band(
    followed, mediator
):
    resident = followed["resident"]
    privacy.resident_anonymise(resident=resident, by=mediator, reason="retention")
    resident.refresh_from_db()
    assert resident.age_band == AgeBand.OVER_70
    session = HelpSession.objects.get(pk=followed["session"].pk)
    assert (session.resident_id, session.duration_minutes, session.notes) == (resident.pk, 30, "")
    assert list(session.tags.values_list("code", flat=True)) == ["navigation_internet"]
    assert followed["workshop"].participants.get() == resident
    case = Case.objects.get(pk=followed["case"].pk)
    assert (case.status, case.procedure_area, case.title) == ("open", "papiers_citoyennete", "—")
    assert CaseEvent.objects.get(pk=followed["event"].pk).comment == ""
    appointment = Appointment.objects.get(pk=followed["appointment"].pk)
    assert appointment.need == "" and appointment.token != followed["appointment"].token


def test_a_rare_commune_is_dropped_a_common_one_kept(structure, mediator, settings):
    settings.PRIVACY_COMMUNE_MIN_RESIDENTS = 3
    rare = ResidentFactory(structure=structure, commune_insee="35001")
    common = ResidentFactory(structure=structure, commune_insee="35238")
    ResidentFactory.create_batch(2, structure=structure, commune_insee="35238")
    privacy.resident_anonymise(resident=rare, by=mediator, reason="request")
    privacy.resident_anonymise(resident=common, by=mediator, reason="request")
    rare.refresh_from_db()
    common.refresh_from_db()
    assert (rare.commune_insee, common.commune_insee) == ("", "35238")
    assert not Resident.history.filter(id=rare.pk, commune_insee="35001").exists()


def test_the_history_keeps_who_anonymised_and_why_not_the_data(followed, mediator):
    resident = followed["resident"]
    privacy.resident_anonymise(resident=resident, by=mediator, reason="objection")
    last = Resident.history.filter(id=resident.pk).latest("history_date")
    assert last.history_user == mediator
    assert last.history_change_reason == "Anonymisation (objection)"
    assert set(Resident.history.filter(id=resident.pk).values_list("last_name", flat=True)) == {
        "Anonyme"
    }


def test_pending_messages_of_an_anonymised_resident_are_dropped(followed, mediator):
    privacy.resident_anonymise(resident=followed["resident"], by=mediator, reason="request")
    message = Notification.objects.get(pk=followed["message"].pk)
    assert (message.status, message.recipient) == ("dropped", "")


def test_the_history_of_a_duplicate_merged_into_the_resident_is_purged(structure, mediator):
    from cases.services.residents import resident_merge

    keep = ResidentFactory(structure=structure, first_name="Eric", last_name="Le Goff")
    remove = ResidentFactory(
        structure=structure, first_name="Éric", last_name="Legoff", email="legoff@exemple.fr"
    )
    resident_merge(keep=keep, remove=remove, by=mediator)
    privacy.resident_anonymise(resident=keep, by=mediator, reason="request")
    names = set(Resident.history.filter(id=remove.pk).values_list("last_name", "email"))
    assert names == {("Anonyme", "")}


def test_anonymising_twice_changes_nothing_more(followed, mediator):
    resident = followed["resident"]
    privacy.resident_anonymise(resident=resident, by=mediator, reason="request")
    rows = Resident.history.filter(id=resident.pk).count()
    privacy.resident_anonymise(resident=resident, by=mediator, reason="request")
    assert Resident.history.filter(id=resident.pk).count() == rows


# --- Retention ------------------------------------------------------------------------------


def _age(resident, moment):
    Resident.objects.filter(pk=resident.pk).update(created_at=moment, last_contact_at=moment)


def test_residents_without_contact_for_the_retention_period_are_anonymised(structure, mediator):
    old = ResidentFactory(structure=structure, last_name="Ancien")
    recent = ResidentFactory(structure=structure, last_name="Récent")
    _age(old, LONG_AGO)
    result = privacy.retention_run(now=NOW)
    old.refresh_from_db()
    recent.refresh_from_db()
    assert result.residents_anonymised == 1 and result.complete
    assert old.is_anonymous and old.last_name == "Anonyme"
    assert not recent.is_anonymous and recent.last_name == "Récent"
    last = Resident.history.filter(id=old.pk).latest("history_date")
    assert last.history_user is None and last.history_change_reason == "Anonymisation (retention)"


@pytest.mark.parametrize("contact", ["session", "workshop", "future_appointment", "case_event"])
def test_a_recent_contact_of_any_kind_keeps_the_resident(structure, place, mediator, contact):
    resident = ResidentFactory(structure=structure)
    if contact == "session":
        HelpSessionFactory(
            structure=structure, mediator=mediator, resident=resident, date=NOW.date()
        )
    elif contact == "workshop":
        WorkshopSessionFactory(
            structure=structure, mediator=mediator, participants=[resident], date=NOW.date()
        )
    elif contact == "future_appointment":
        slot = SlotFactory(place=place, mediator=mediator, starts_at=NOW + timedelta(days=3))
        Appointment.objects.create(
            place=place,
            motif=slot.motif,
            mediator=mediator,
            resident=resident,
            slot=slot,
            starts_at=slot.starts_at,
            ends_at=slot.ends_at,
        )
        Appointment.objects.filter(resident=resident).update(created_at=LONG_AGO)
    else:
        case = CaseFactory(structure=structure, resident=resident, mediator=mediator)
        Case.objects.filter(pk=case.pk).update(opened_at=LONG_AGO, status_changed_at=LONG_AGO)
        CaseEventFactory(case=case, at=NOW - timedelta(days=10))
    _age(resident, LONG_AGO)
    assert not privacy.residents_due_for_anonymisation(now=NOW).filter(pk=resident.pk).exists()
    # Control: the same resident without that contact would be due.
    assert (
        privacy.residents_due_for_anonymisation(now=NOW + timedelta(days=800))
        .filter(pk=resident.pk)
        .exists()
    )


def test_old_appointments_messages_and_waitlist_entries_are_deleted_with_their_history(
    followed, place, mediator, settings
):
    appointment = followed["appointment"]
    past = datetime(2024, 1, 8, 9, 0, tzinfo=UTC)
    Appointment.objects.filter(pk=appointment.pk).update(starts_at=past, ends_at=past)
    Notification.objects.filter(pk=followed["message"].pk).update(created_at=past)
    entry = WaitlistEntry.objects.create(
        place=place, motif=appointment.motif, first_name="Zoé", phone="+33611111111"
    )
    WaitlistEntry.objects.filter(pk=entry.pk).update(created_at=past)
    HelpSession.objects.filter(pk=followed["session"].pk).update(appointment=appointment)
    now = past + timedelta(days=731)

    result = privacy.retention_run(now=now)

    assert not Appointment.objects.filter(pk=appointment.pk).exists()
    assert not Appointment.history.filter(id=appointment.pk).exists()
    assert not Notification.objects.filter(pk=followed["message"].pk).exists()
    assert not WaitlistEntry.objects.filter(pk=entry.pk).exists()
    assert not WaitlistEntry.history.filter(id=entry.pk).exists()
    assert HelpSession.objects.get(pk=followed["session"].pk).appointment is None
    assert result.rows_deleted["bookings.appointment"] == 1
    # Messages go before their appointment: counted, and their history rows with them.
    assert result.rows_deleted["bookings.notification"] == 1


def test_access_log_entries_older_than_a_year_are_purged(structure, mediator):
    from mediation.audit import access_record

    old = access_record(user=mediator, action=AccessAction.RESIDENT_VIEW, structure=structure)
    AccessLog.objects.filter(pk=old.pk).values("pk")  # (the row exists)
    recent = access_record(user=mediator, action=AccessAction.RESIDENT_VIEW, structure=structure)
    privacy.retention_run(now=NOW + timedelta(days=366))
    assert not AccessLog.objects.filter(pk__in=[old.pk, recent.pk]).exists()
    access_record(user=mediator, action=AccessAction.RESIDENT_VIEW, structure=structure)
    privacy.retention_run(now=NOW + timedelta(days=100))
    assert AccessLog.objects.count() == 1


def test_the_retention_run_is_idempotent_and_works_in_batches(structure, monkeypatch):
    monkeypatch.setattr(privacy, "BATCH_SIZE", 3)
    residents = ResidentFactory.create_batch(7, structure=structure)
    for resident in residents:
        _age(resident, LONG_AGO)
    first = privacy.retention_run(now=NOW)
    second = privacy.retention_run(now=NOW)
    assert (first.residents_anonymised, second.residents_anonymised) == (7, 0)
    assert Resident.objects.filter(is_anonymous=True).count() == 7


def test_a_spent_budget_stops_the_run_and_says_so(structure):
    _age(ResidentFactory(structure=structure), LONG_AGO)
    result = privacy.retention_run(now=NOW, budget_seconds=-1)
    assert not result.complete and result.timed_out and result.residents_anonymised == 0


def test_the_daily_schedule_is_created_once(db):
    privacy.ensure_schedules()
    privacy.ensure_schedules()
    schedules = Schedule.objects.filter(name=privacy.SCHEDULE_NAME)
    assert schedules.count() == 1
    assert schedules.get().func == "mediation.privacy.retention_task"
    assert schedules.get().schedule_type == Schedule.DAILY


def test_migrate_creates_the_daily_schedule(db):
    from django.core.management.sql import emit_post_migrate_signal

    Schedule.objects.filter(name=privacy.SCHEDULE_NAME).delete()
    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")
    assert Schedule.objects.get(name=privacy.SCHEDULE_NAME).schedule_type == Schedule.DAILY


def test_the_task_reports_what_it_did(structure):
    _age(ResidentFactory(structure=structure), LONG_AGO)
    assert "anonymised=1" in privacy.retention_task()


# --- Right of access and erasure at the desk -------------------------------------------------


def test_the_json_export_holds_everything_about_the_resident(client, followed, mediator):
    resident = followed["resident"]
    client.force_login(mediator)
    url = reverse(
        "resident_export_json",
        kwargs={"structure": resident.structure.slug, "resident": resident.pk},
    )
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    data = json.loads(response.content)
    assert data["resident"]["first_name"] == "Zéphyrine"
    assert data["resident"]["phone"] == "+33698765432"
    assert "token" not in data["appointments"][0]
    assert data["appointments"][0]["need"] == "Zéphyrine veut ses papiers"
    assert {row["id"] for row in data["sessions"]} == {
        followed["session"].pk,
        followed["workshop"].pk,
    }
    assert data["cases"][0]["title"] == "RSA Zéphyrine"
    assert data["case_events"][0]["comment"] == "Appeler Zéphyrine"
    assert data["messages"][0]["recipient"] == "+33612345678"
    assert {row["phone"] for row in data["history"]} >= {"+33612345678", "+33698765432"}
    assert AccessLog.objects.filter(
        action=AccessAction.RESIDENT_EXPORT, object_id=resident.pk, user=mediator
    ).exists()


def test_the_pdf_export_is_readable_french(client, followed, mediator):
    from pypdf import PdfReader  # noqa: PLC0415

    resident = followed["resident"]
    client.force_login(mediator)
    url = reverse(
        "resident_export_pdf",
        kwargs={"structure": resident.structure.slug, "resident": resident.pk},
    )
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    import io

    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    for expected in ["Vos données personnelles", "Zéphyrine", "Vos accompagnements", "RSA"]:
        assert expected in text


def test_erasure_needs_a_confirmation_and_a_reason(client, followed, mediator):
    resident = followed["resident"]
    client.force_login(mediator)
    url = reverse(
        "resident_erase", kwargs={"structure": resident.structure.slug, "resident": resident.pk}
    )
    page = client.get(url)
    assert page.status_code == 200 and "définitivement" in page.content.decode()
    refused = client.post(url, {"reason": "request"})
    assert refused.status_code == 200
    resident.refresh_from_db()
    assert not resident.is_anonymous
    done = client.post(url, {"reason": "objection", "confirm": "on"})
    assert done.status_code == 302
    resident.refresh_from_db()
    assert resident.is_anonymous
    last = Resident.history.filter(id=resident.pk).latest("history_date")
    assert (last.history_user, last.history_change_reason) == (
        mediator,
        "Anonymisation (objection)",
    )
    assert AccessLog.objects.filter(action=AccessAction.RESIDENT_ERASE, object_id=resident.pk)


def test_coordinators_and_other_structures_cannot_export_or_erase(client, followed, structure):
    resident = followed["resident"]
    coordinator = member(structure, Role.COORDINATOR)
    other = member(StructureFactory(), Role.STRUCTURE_ADMIN)
    kwargs = {"structure": structure.slug, "resident": resident.pk}
    for user, status in ((coordinator, 403), (other, 404)):
        client.force_login(user)
        for name in ("resident_export_json", "resident_export_pdf", "resident_erase"):
            assert client.get(reverse(name, kwargs=kwargs)).status_code == status, name
        assert client.post(reverse("resident_erase", kwargs=kwargs), {}).status_code == status
    resident.refresh_from_db()
    assert not resident.is_anonymous


def test_the_resident_page_offers_export_and_erasure_to_its_desk(client, followed, mediator):
    resident = followed["resident"]
    client.force_login(mediator)
    body = client.get(
        reverse(
            "resident_detail",
            kwargs={"structure": resident.structure.slug, "resident": resident.pk},
        )
    ).content.decode()
    assert "donnees.pdf" in body and "donnees.json" in body and "effacer/" in body


def test_the_export_leaves_out_the_other_workshop_participants(structure, mediator):
    resident = ResidentFactory(structure=structure, first_name="Zéphyrine")
    other = ResidentFactory(structure=structure, first_name="Bartholomé")
    WorkshopSessionFactory(
        structure=structure,
        mediator=mediator,
        participants=[resident, other],
        notes="Bartholomé a aidé",
    )
    data = privacy.resident_data(resident=resident)
    assert len(data["sessions"]) == 1
    assert "Bartholomé" not in json.dumps(data, ensure_ascii=False)


def test_the_waiting_list_entries_with_the_residents_mobile_go_with_the_erasure(
    followed, place, mediator
):
    motif = followed["appointment"].motif
    theirs = WaitlistEntry.objects.create(
        place=place, motif=motif, first_name="Zéphyrine", phone="+33698765432"
    )
    someone_else = WaitlistEntry.objects.create(
        place=place, motif=motif, first_name="Zoé", phone="+33611111111"
    )
    privacy.resident_anonymise(resident=followed["resident"], by=mediator, reason="request")
    assert not WaitlistEntry.objects.filter(pk=theirs.pk).exists()
    assert not WaitlistEntry.history.filter(id=theirs.pk).exists()
    assert WaitlistEntry.objects.filter(pk=someone_else.pk).exists()
