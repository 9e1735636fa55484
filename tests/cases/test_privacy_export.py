"""Right of access is complete (#17 fix 9): the resident's export (JSON and PDF) holds every
category kept about them (sessions with their themes, procedures and equipment, appointments,
messages sent, waiting-list entries, cases and their events, access-log entries about them),
with French labels: no value of the JSON is a raw choice code where a label exists."""

import json
import subprocess
import tempfile
from pathlib import Path

import pytest
from django.db import models
from django.urls import reverse

from bookings import choices as bookings_choices
from bookings.models import Appointment, Notification, WaitlistEntry
from cases import choices as cases_choices
from cases.choices import Equipment, ProcedureArea, Theme
from mediation import choices as mediation_choices
from mediation import models as mediation_models
from mediation.audit import AccessAction, access_record
from mediation.privacy import resident_data
from tests.bookings.factories import SlotFactory
from tests.cases.factories import (
    CaseEventFactory,
    CaseFactory,
    HelpSessionFactory,
    WorkshopSessionFactory,
)
from tests.factories import ResidentFactory

pytestmark = pytest.mark.django_db


def _choice_codes() -> set[str]:
    """Every code of every TextChoices of the project whose label differs from the code."""
    codes = set()
    for module in (mediation_choices, bookings_choices, cases_choices, mediation_models):
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, models.TextChoices):
                if value is models.TextChoices:
                    continue
                codes |= {code for code, label in value.choices if str(label) != code}
    return codes


def _walk(value, path=""):
    """(path, value) of every leaf of the JSON, skipping the "code" of a {code, label} pair."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "code" and "label" in value:
                continue
            yield from _walk(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, f"{path}[{index}]")
    else:
        yield path, value


@pytest.fixture
def everything(structure, place, mediator):
    resident = ResidentFactory(
        structure=structure,
        first_name="Zéphyrine",
        last_name="Alphonsine",
        phone="+33612345678",
        gender="female",
        status="retired",
        birth_year=1950,
        commune_insee="35155",
    )
    session = HelpSessionFactory(
        structure=structure,
        mediator=mediator,
        resident=resident,
        place=place,
        themes=[Theme.EMAIL, Theme.SANTE],
        procedures=[ProcedureArea.RETRAITE],
        equipment=[Equipment.PHONE],
        place_type="home",
        autonomy="partly_autonomous",
        outcome="redirected",
        redirected_to="france_services",
    )
    workshop = WorkshopSessionFactory(
        structure=structure,
        mediator=mediator,
        participants=[resident],
        themes=[Theme.SECURITE_NUMERIQUE],
        level="beginner",
    )
    case = CaseFactory(structure=structure, resident=resident, mediator=mediator, title="Retraite")
    CaseEventFactory(case=case, from_status="open", to_status="waiting_resident", comment="Pièces")
    slot = SlotFactory(place=place, mediator=mediator)
    appointment = Appointment.objects.create(
        place=place,
        motif=slot.motif,
        mediator=mediator,
        resident=resident,
        slot=slot,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        need="Retraite",
    )
    Notification.objects.create(
        structure=structure,
        appointment=appointment,
        kind="reminder",
        channel="sms",
        recipient="+33612345678",
        status="sent",
        encoding="gsm7",
    )
    entry = WaitlistEntry.objects.create(
        place=place, motif=slot.motif, first_name="Zéphyrine", phone="+33612345678"
    )
    Notification.objects.create(
        structure=structure,
        waitlist_entry=entry,
        kind="waitlist_offer",
        channel="sms",
        recipient="+33612345678",
    )
    access_record(
        user=mediator,
        action=AccessAction.RESIDENT_VIEW,
        structure=structure,
        object_type="resident",
        object_id=resident.pk,
    )
    access_record(
        user=mediator,
        action=AccessAction.CASE_VIEW,
        structure=structure,
        object_type="case",
        object_id=case.pk,
    )
    # Someone else's: not in the export.
    other = ResidentFactory(structure=structure)
    access_record(
        user=mediator,
        action=AccessAction.RESIDENT_VIEW,
        structure=structure,
        object_type="resident",
        object_id=other.pk,
    )
    return {"resident": resident, "session": session, "workshop": workshop, "case": case}


def _export(client, mediator, resident, kind):
    client.force_login(mediator)
    url = reverse(
        f"resident_export_{kind}",
        kwargs={"structure": resident.structure.slug, "resident": resident.pk},
    )
    response = client.get(url)
    assert response.status_code == 200
    return response.content


def test_the_json_export_holds_every_category(client, everything, mediator):
    data = json.loads(_export(client, mediator, everything["resident"], "json"))
    session = next(row for row in data["sessions"] if row["id"] == everything["session"].pk)
    assert [t["label"] for t in session["themes"]] == ["Messagerie (e-mail)", "Santé en ligne"]
    assert [t["label"] for t in session["procedures"]] == [ProcedureArea.RETRAITE.label]
    assert [t["label"] for t in session["equipment"]] == ["Smartphone"]
    workshop = next(row for row in data["sessions"] if row["id"] == everything["workshop"].pk)
    assert [t["label"] for t in workshop["themes"]] == ["Sécurité numérique"]
    assert len(data["appointments"]) == 1
    assert {m["kind"]["code"] for m in data["messages"]} == {"reminder", "waitlist_offer"}
    assert len(data["waitlist_entries"]) == 1
    assert len(data["cases"]) == 1 and len(data["case_events"]) == 1
    # The export's own entry is written first: it is in the export too.
    actions = sorted(row["action"]["code"] for row in data["access_log"])
    assert actions == ["case_view", "resident_export", "resident_view"]
    for key in ["sessions", "appointments", "messages", "waitlist_entries", "access_log"]:
        assert data["labels"][key]
    assert data["field_labels"]["sessions"]["themes"] == "thèmes"
    assert data["field_labels"]["cases"]["title"] != data["field_labels"]["sessions"]["title"]


#: Field names that are French words already (their default label is right).
FRENCH_NAMES = {"date", "notes", "motif", "segments", "structure", "type", "action"}


def test_every_field_of_the_export_has_a_french_label(client, everything, mediator):
    """Django's default label is the field's name in English ("cancelled at", "from status"):
    every field shown has a French one."""
    data = json.loads(_export(client, mediator, everything["resident"], "json"))
    sections = data["field_labels"]
    if not all(isinstance(labels, dict) for labels in sections.values()):
        sections = {"all": sections}  # a single table for every section
    english = sorted(
        f"{key}.{name}"
        for key, labels in sections.items()
        for name, label in labels.items()
        if label == name.replace("_", " ") and label not in FRENCH_NAMES
    )
    assert english == []


def test_no_value_of_the_json_is_a_raw_choice_code(client, everything, mediator):
    data = json.loads(_export(client, mediator, everything["resident"], "json"))
    codes = _choice_codes()
    raw = [
        f"{path}={value!r}"
        for path, value in _walk(data)
        if isinstance(value, str) and value in codes and not path.startswith(".field_labels")
    ]
    assert raw == []


def test_the_pdf_export_holds_every_category_in_french(client, everything, mediator):
    pdf = _export(client, mediator, everything["resident"], "pdf")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "export.pdf"
        path.write_bytes(pdf)
        text = subprocess.run(
            ["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True
        ).stdout
    text = " ".join(text.split())
    for expected in [
        "Vos accompagnements",
        "Messagerie (e-mail)",
        "Santé en ligne",
        "Retraite (info-retraite",
        "Smartphone",
        "Sécurité numérique",
        "Vos rendez-vous",
        "Messages qui vous ont été envoyés",
        "Vos inscriptions sur liste d'attente",
        "Vos dossiers",
        "Consultations de vos données",
        "Fiche usager consultée",
        "Dossier consulté",
        "En attente de l'usager",
        "INSEE)",  # not "insee": the label keeps its capitals
    ]:
        assert expected in text, expected
    for code in ["waiting_resident", "resident_view", "reminder", "navigation_internet"]:
        assert code not in text


def test_the_export_is_bounded_in_queries(
    everything, structure, place, mediator, django_assert_max_num_queries
):
    resident = everything["resident"]
    for _ in range(5):
        HelpSessionFactory(
            structure=structure,
            mediator=mediator,
            resident=resident,
            place=place,
            themes=[Theme.EMAIL],
            procedures=[ProcedureArea.LOGEMENT],
        )
        case = CaseFactory(structure=structure, resident=resident, mediator=mediator)
        CaseEventFactory(case=case)
    with django_assert_max_num_queries(20):
        data = resident_data(resident=resident)
    assert len(data["sessions"]) == 7
