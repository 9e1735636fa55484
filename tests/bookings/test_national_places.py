"""Places in the national schema "lieux de médiation numérique": the open-data files
(/donnees/…), validated against the schema (tests/data/schema-lieux.json, a Table Schema, with
frictionless), their `horaires` (parsed by an OpenStreetMap opening_hours parser and checked
against the booking engine), what is published and what is not."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import opening_hours
import pytest
from django.conf import settings
from django.urls import reverse
from frictionless import Resource, Schema

from bookings import national_places
from bookings.models import DateOverride
from bookings.national_places import FIELDS, TYPOLOGY, Opening, opening_hours_text, place_rows
from bookings.services.admin import recurring_absence_create
from bookings.slots import free_slots
from mediation.choices import (
    PlaceAccess,
    PlaceFee,
    PlaceNationalProgramme,
    PlacePublic,
    PlaceService,
    PlaceSpecificSupport,
    PlaceSupportMode,
    StructureKind,
)
from mediation.models import Place
from tests.bookings.factories import AbsenceFactory, MotifFactory, OpeningHoursFactory
from tests.factories import NetworkFactory, PlaceFactory, StructureFactory, UserFactory

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "data" / "schema-lieux.json"
SCHEMA = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
PARIS = ZoneInfo("Europe/Paris")
#: A Monday; 11 November 2026 (a Wednesday) is a public holiday within the horizon.
NOW = datetime(2026, 11, 2, 7, 0, tzinfo=UTC)
TODAY = date(2026, 11, 2)

#: Each controlled list of the schema and the choices Permanence stores it with.
VOCABULARIES = {
    "services": PlaceService,
    "publics_specifiquement_adresses": PlacePublic,
    "prise_en_charge_specifique": PlaceSpecificSupport,
    "frais_a_charge": PlaceFee,
    "dispositif_programmes_nationaux": PlaceNationalProgramme,
    "modalites_acces": PlaceAccess,
    "modalites_accompagnement": PlaceSupportMode,
}


def schema_field(name: str) -> dict:
    return next(field for field in SCHEMA["fields"] if field["name"] == name)


def validate(rows: list[list]) -> list[str]:
    """The frictionless errors of a table (header first) against the national schema."""
    report = Resource(data=rows, schema=Schema.from_descriptor(SCHEMA)).validate()
    return [
        f"row {row}, {field}: {kind} ({note})"
        for row, field, kind, note in report.flatten(["rowNumber", "fieldName", "type", "note"])
    ]


def validate_csv(content: bytes) -> list[str]:
    rows = list(csv.reader(io.StringIO(content.decode("utf-8"))))
    return validate(rows)


def validate_json(content: bytes) -> list[str]:
    items = json.loads(content)
    unknown = {key for item in items for key in item} - set(FIELDS)
    assert not unknown, f"keys the schema does not have: {unknown}"
    return validate([list(FIELDS)] + [[item.get(name) for name in FIELDS] for item in items])


# --- Data -----------------------------------------------------------------------------------


def full_place(structure, **fields):
    """A place with every field of the schema filled, published."""
    values = {
        "name": "Espace numérique du Grand Clos",
        "address": "12 avenue du Général de Gaulle",
        "address_complement": "Rez-de-chaussée, porte B",
        "postcode": "35580",
        "commune": "Guichen",
        "insee_code": "35126",
        "latitude": Decimal("47.964800"),
        "longitude": Decimal("-1.799200"),
        "phone": "+33299000000",
        "emails": "epn@grandclos.example, accueil@grandclos.example",
        "website": "https://grandclos.example/epn",
        "services": [PlaceService.LOISIRS, PlaceService.DEMARCHES],
        "publics": [PlacePublic.SENIORS],
        "specific_support": [PlaceSpecificSupport.ANGLAIS],
        "fees": [PlaceFee.GRATUIT_SOUS_CONDITION],
        "national_programmes": [PlaceNationalProgramme.PAN_CAF],
        "access_terms": [PlaceAccess.SE_PRESENTER, PlaceAccess.RDV_EN_LIGNE],
        "support_modes": [PlaceSupportMode.DISTANCE],
        "summary": "Aide gratuite au numérique, sur rendez-vous ou sans.",
        "description": "Ordinateurs en libre accès.\nAteliers le samedi | sur inscription.",
        "acceslibre_url": "https://acceslibre.beta.gouv.fr/app/35-guichen/a/epn/erp/epn/",
        "is_roaming": True,
        "is_published": True,
    }
    values.update(fields)
    return PlaceFactory(structure=structure, **values)


@pytest.fixture
def published(db):
    """Two structures of a network and one outside it, each with a published place, and places
    that must not appear."""
    network = NetworkFactory(name="Vallons", slug="vallons")
    mairie = StructureFactory(
        name="Mairie de Guichen",
        slug="mairie-guichen",
        siret="21350126700024",
        kind=StructureKind.MAIRIE,
        networks=[network],
    )
    association = StructureFactory(
        name="Kaz Numérik",
        slug="kaz-numerik",
        rna="W9R4001234",
        kind=StructureKind.ASSOCIATION,
        networks=[network],
    )
    caledonia = StructureFactory(
        name="Case numérique de Nouméa",
        slug="case-noumea",
        ridet="1234567001",
        kind=StructureKind.EPN,
    )
    epn = full_place(mairie)
    mediator = UserFactory()
    motif = MotifFactory(structure=mairie, bookable_online=True)
    OpeningHoursFactory(
        place=epn,
        mediator=mediator,
        motifs=[motif],
        weekdays=[0, 1, 2, 3, 4],
        start_time=time(9),
        end_time=time(12),
        first_day=date(2026, 1, 5),
    )
    kaz = full_place(
        association,
        name="Kaz Numérik — Ravine Blanche",
        postcode="97410",
        commune="Saint-Pierre",
        insee_code="97416",
        time_zone="Indian/Reunion",
        phone="+262262000000",
        latitude=None,
        longitude=None,
        emails="",
        website="",
        acceslibre_url="",
    )
    noumea = full_place(
        caledonia,
        name="Case numérique",
        postcode="98800",
        commune="Nouméa",
        insee_code="98818",
        phone="+687280000",
    )
    hidden = {
        "unpublished": full_place(mairie, name="Annexe pas publiée", is_published=False),
        "inactive": full_place(mairie, name="Annexe fermée", is_active=False),
    }
    return {
        "network": network,
        "mairie": mairie,
        "association": association,
        "caledonia": caledonia,
        "epn": epn,
        "kaz": kaz,
        "noumea": noumea,
        "hidden": hidden,
    }


def url(name, fmt, **kwargs):
    return reverse(name, kwargs={**kwargs, "fmt": fmt})


# --- The schema and the vocabularies --------------------------------------------------------


def _listed(pattern: str) -> set[str]:
    """The values a controlled list's pattern allows: ^(a|b|c)(\\|(a|b|c))*$."""
    first = pattern[len("^(") : pattern.index(")(\\|(")]
    return {re.sub(r"\\(.)", r"\1", value) for value in first.split("|")}


@pytest.mark.parametrize("field", VOCABULARIES)
def test_each_controlled_list_is_stored_value_for_value(field):
    pattern = schema_field(field)["constraints"]["pattern"]
    assert _listed(pattern) == set(VOCABULARIES[field].values)
    assert re.match(pattern, "|".join(VOCABULARIES[field].values))


def test_the_files_have_the_schemas_columns_in_its_order():
    assert list(FIELDS) == [field["name"] for field in SCHEMA["fields"]]


def test_every_kind_of_structure_has_its_typology_or_none_on_purpose():
    assert set(TYPOLOGY) == set(StructureKind.values)
    pattern = schema_field("typologie")["constraints"]["pattern"]
    assert all(re.match(pattern, code) for code in TYPOLOGY.values() if code)


# --- The files ------------------------------------------------------------------------------


def test_the_instance_csv_validates_against_the_national_schema(client, published):
    response = client.get(url("open_data_places", "csv"))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert validate_csv(response.content) == []
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert {row["nom"] for row in rows} == {
        "Espace numérique du Grand Clos",
        "Kaz Numérik — Ravine Blanche",
        "Case numérique",
    }


def test_the_instance_json_validates_against_the_national_schema(client, published):
    response = client.get(url("open_data_places", "json"))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert validate_json(response.content) == []
    items = json.loads(response.content)
    epn = next(item for item in items if item["nom"] == "Espace numérique du Grand Clos")
    assert epn["latitude"] == 47.9648 and isinstance(epn["longitude"], float)
    assert epn["services"] == "Aide aux démarches administratives|Loisirs et créations numériques"


def test_a_row_says_what_the_place_publishes(published):
    row = next(
        row
        for row in place_rows(national_places.published_places(), now=NOW)
        if row["nom"] == "Espace numérique du Grand Clos"
    )

    # One identifier per place for every national exchange: the read API's place UUID.
    place = Place.objects.get(name="Espace numérique du Grand Clos")
    assert row["id"] == str(place.uuid)
    assert row["pivot"] == "21350126700024"
    assert row["typologie"] == "MUNI"
    assert row["telephone"] == "+33299000000"
    assert row["courriels"] == "epn@grandclos.example|accueil@grandclos.example"
    assert row["itinerance"] == "Itinérant"
    assert row["structure_parente"] == "Mairie de Guichen"
    assert row["horaires"] == "Mo-Fr 09:00-12:00; PH off"
    assert row["modalites_acces"] == "Se présenter|Prendre un RDV en ligne"
    # Changed (created) after NOW: the file does not date data from its future.
    assert row["date_maj"] == TODAY.isoformat()


def test_the_pivot_is_the_siret_else_the_rna_else_the_ridet(published):
    rows = {row["nom"]: row for row in place_rows(national_places.published_places(), now=NOW)}

    assert rows["Espace numérique du Grand Clos"]["pivot"] == "21350126700024"
    assert rows["Kaz Numérik — Ravine Blanche"]["pivot"] == "W9R4001234"
    assert rows["Case numérique"]["pivot"] == "1234567001"


def test_multi_valued_fields_keep_the_national_order(published):
    place = published["epn"]
    place.services = [PlaceService.LOISIRS, PlaceService.DEMARCHES, PlaceService.LOISIRS]
    place.save()
    place.refresh_from_db()
    assert place.services == [PlaceService.DEMARCHES, PlaceService.LOISIRS]


def test_only_published_active_places_with_a_pivot_appear(client, published):
    orphan = StructureFactory(name="Sans SIRET", slug="sans-siret")
    full_place(orphan, name="Lieu d'une structure sans identifiant")

    body = client.get(url("open_data_places", "csv")).content.decode()

    assert "Annexe pas publiée" not in body and "Annexe fermée" not in body
    assert "Lieu d'une structure sans identifiant" not in body


def test_a_structures_file_has_its_places_only(client, published):
    response = client.get(url("open_data_structure", "csv", structure="mairie-guichen"))

    assert validate_csv(response.content) == []
    names = [row["nom"] for row in csv.DictReader(io.StringIO(response.content.decode()))]
    assert names == ["Espace numérique du Grand Clos"]


def test_a_networks_file_has_the_places_of_its_structures(client, published):
    response = client.get(url("open_data_network", "json", network="vallons"))

    assert validate_json(response.content) == []
    names = {item["nom"] for item in json.loads(response.content)}
    assert names == {"Espace numérique du Grand Clos", "Kaz Numérik — Ravine Blanche"}


def test_a_scope_with_nothing_published_is_an_empty_valid_file(client, db):
    StructureFactory(slug="rien")
    csv_body = client.get(url("open_data_structure", "csv", structure="rien")).content
    json_body = client.get(url("open_data_structure", "json", structure="rien")).content

    assert csv_body.decode().strip() == ",".join(FIELDS)
    assert json.loads(json_body) == []


def test_unknown_scopes_and_formats_are_404(client, db):
    assert client.get(url("open_data_structure", "csv", structure="inconnue")).status_code == 404
    assert client.get(url("open_data_network", "csv", network="inconnu")).status_code == 404
    assert client.get(url("open_data_places", "xml")).status_code == 404


def test_the_files_are_open_to_any_site_without_an_account(client, published):
    response = client.get(url("open_data_places", "json"))

    assert response["Access-Control-Allow-Origin"] == "*"
    assert "public" in response["Cache-Control"]
    assert client.post(url("open_data_places", "json")).status_code == 405


def test_the_file_costs_the_same_queries_for_one_place_or_twenty(
    client, published, django_assert_max_num_queries
):
    with django_assert_max_num_queries(9):
        client.get(url("open_data_places", "csv"))
    structure = published["mairie"]
    for index in range(20):
        place = full_place(structure, name=f"Lieu {index}")
        OpeningHoursFactory(place=place, mediator=UserFactory(), weekdays=[index % 7])
        AbsenceFactory(structure=structure, mediator=UserFactory())
    with django_assert_max_num_queries(9):
        client.get(url("open_data_places", "csv"))


def test_prise_rdv_is_the_places_booking_page_when_it_takes_bookings_online(client, published):
    rows = {row["nom"]: row for row in place_rows(national_places.published_places(), now=NOW)}

    link = rows["Espace numérique du Grand Clos"]["prise_rdv"]
    assert link.startswith(settings.SITE_URL + "/rdv/mairie-guichen/")
    assert rows["Kaz Numérik — Ravine Blanche"]["prise_rdv"] == ""  # nothing bookable online
    parts = urlsplit(link)
    page = client.get(f"{parts.path}?{parts.query}")
    assert page.status_code == 200
    assert f'value="{published["epn"].pk}" checked' in page.content.decode()


def test_a_draft_structure_publishes_no_booking_link(published):
    from mediation.models import Structure

    Structure.objects.filter(pk=published["mairie"].pk).update(booking_published=False)
    rows = {row["nom"]: row for row in place_rows(national_places.published_places(), now=NOW)}
    assert rows["Espace numérique du Grand Clos"]["prise_rdv"] == ""


def test_date_maj_follows_the_latest_change_of_the_place_or_its_hours(published):
    place = published["epn"]
    place.history.update(history_date=datetime(2026, 3, 1, 10, tzinfo=UTC))
    place.structure.history.update(history_date=datetime(2026, 2, 1, 10, tzinfo=UTC))
    place.opening_hours.first().history.update(history_date=datetime(2026, 4, 9, 10, tzinfo=UTC))
    row = next(r for r in place_rows([place], now=NOW))

    assert row["date_maj"] == "2026-04-09"


# --- horaires -------------------------------------------------------------------------------


def opening(weekdays, start, end, *, mediator=1, every=1, first=date(2026, 1, 5), last=None):
    return Opening(mediator, frozenset(weekdays), start * 60, end * 60, every, first, last)


def hours(openings, absences=None, holidays=(), horizon_days=28):
    return opening_hours_text(
        openings,
        absences or {},
        holidays=set(holidays),
        today=TODAY,
        tz=PARIS,
        horizon_days=horizon_days,
    )


def away(start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """An absence between two local times (naive: Paris)."""
    return [(start.replace(tzinfo=PARIS), end.replace(tzinfo=PARIS))]


def is_open(text: str, at: datetime) -> bool:
    return opening_hours.OpeningHours(text, country="FR").is_open(at)


def test_the_weekly_hours_of_every_mediator_make_one_pattern():
    text = hours(
        [
            opening([0, 1, 2, 3, 4], 9, 12, mediator=1),
            opening([0, 1, 2, 3, 4], 12, 13, mediator=2),  # touches: one range
            opening([0, 1, 3], 14, 17, mediator=2),
            opening([5], 9, 12, mediator=3),
        ]
    )

    assert text == "Mo,Tu,Th 09:00-13:00,14:00-17:00; We,Fr 09:00-13:00; Sa 09:00-12:00; PH off"
    assert opening_hours.validate(text)


def test_no_opening_hours_no_horaires():
    assert hours([]) == ""


def test_an_opening_every_second_week_is_given_day_by_day():
    text = hours([opening([0], 9, 12), opening([2], 14, 17, every=2, first=date(2026, 11, 4))])

    assert text.startswith("Mo 09:00-12:00; ")
    assert "2026 Nov 04 14:00-17:00" in text and "2026 Nov 18 14:00-17:00" in text
    assert "2026 Nov 11" not in text  # a week off (and a holiday)
    assert is_open(text, datetime(2026, 11, 18, 15)) and not is_open(
        text, datetime(2026, 11, 25, 15)
    )


def test_an_absence_that_leaves_nobody_closes_the_place():
    absences = {
        1: [(datetime(2026, 11, 9, 0, tzinfo=PARIS), datetime(2026, 11, 14, 0, tzinfo=PARIS))]
    }
    text = hours([opening([0, 1, 2, 3, 4], 9, 12)], absences)

    assert "2026 Nov 09-13 off" in text
    assert not is_open(text, datetime(2026, 11, 10, 10)) and is_open(
        text, datetime(2026, 11, 16, 10)
    )


def test_an_absence_of_one_of_two_mediators_leaves_the_place_open():
    absences = {
        1: [(datetime(2026, 11, 9, 0, tzinfo=PARIS), datetime(2026, 11, 10, 0, tzinfo=PARIS))]
    }
    text = hours([opening([0], 9, 12, mediator=1), opening([0], 9, 12, mediator=2)], absences)

    assert text == "Mo 09:00-12:00; PH off"


def test_an_absence_of_part_of_a_day_leaves_the_rest():
    absences = {
        1: [
            (
                datetime(2026, 11, 9, 10, 15, 30, tzinfo=PARIS),
                datetime(2026, 11, 9, 11, tzinfo=PARIS),
            )
        ]
    }
    text = hours([opening([0], 9, 12)], absences)

    assert "2026 Nov 09 09:00-10:15,11:00-12:00" in text


def test_hours_that_end_within_the_horizon_are_given_day_by_day():
    text = hours(
        [
            opening([0], 9, 12, last=date(2026, 11, 16)),
            opening([0], 14, 17, first=date(2026, 11, 17)),
        ]
    )

    assert text.startswith("Mo 14:00-17:00; ")
    assert "2026 Nov 02 09:00-12:00" in text and "2026 Nov 16 09:00-12:00" in text


def test_public_holidays_are_closed_last():
    text = hours([opening([2], 9, 12)], holidays=[date(2026, 11, 11)])

    assert text == "We 09:00-12:00; PH off"
    assert not is_open(text, datetime(2026, 11, 11, 10))


def test_horaires_says_what_the_booking_engine_offers(published):
    """Every free slot of the next weeks starts when `horaires` says the place is open, and
    every half hour it says is open has its free slot: the engine's own rules (openings every
    second week, absences, public holidays) read the same in both."""
    place, mairie = published["epn"], published["mairie"]
    motif = MotifFactory(structure=mairie, duration_minutes=30)
    first, second = UserFactory(), UserFactory()
    place.opening_hours.all().delete()
    OpeningHoursFactory(
        place=place,
        mediator=first,
        motifs=[motif],
        weekdays=[0, 1, 3],
        start_time=time(9),
        end_time=time(12),
        first_day=date(2026, 1, 5),
    )
    OpeningHoursFactory(
        place=place,
        mediator=second,
        motifs=[motif],
        weekdays=[2],
        start_time=time(14),
        end_time=time(17, 30),
        every_n_weeks=2,
        first_day=date(2026, 10, 28),
    )
    AbsenceFactory(
        structure=mairie,
        mediator=first,
        starts_at=datetime(2026, 11, 16, 0, tzinfo=PARIS),
        ends_at=datetime(2026, 11, 19, 10, 30, tzinfo=PARIS),
    )
    text = place_rows([place], now=NOW)[0]["horaires"]
    parsed = opening_hours.OpeningHours(text, country="FR")
    end = NOW + timedelta(days=28)

    offered = {
        slot.starts_at.astimezone(PARIS).replace(tzinfo=None)
        for slot in free_slots(
            place=place, motif=motif, start=NOW, end=end, now=NOW, respect_booking_window=False
        )
    }
    said = set()
    moment = datetime(2026, 11, 2, 0, 0)
    while moment < end.astimezone(PARIS).replace(tzinfo=None):
        if parsed.is_open(moment) and parsed.is_open(moment + timedelta(minutes=29)):
            said.add(moment)
        moment += timedelta(minutes=30)
    assert offered and offered == said, text


def test_horaires_follows_exceptional_days_and_recurring_absences_as_the_engine_does(published):
    """The same comparison with an exceptional Saturday, other hours on a Monday, a whole-place
    closure, a mediator's closure, an opening on a public holiday (11 November) and a
    recurring absence (issue #14)."""
    place, mairie = published["epn"], published["mairie"]
    motif = MotifFactory(structure=mairie, duration_minutes=30)
    first, second = UserFactory(), UserFactory()
    place.opening_hours.all().delete()
    for person in (first, second):
        OpeningHoursFactory(
            place=place,
            mediator=person,
            motifs=[motif],
            weekdays=[0, 1, 2, 3, 4],
            start_time=time(9) if person == first else time(14),
            end_time=time(12) if person == first else time(17),
            first_day=date(2026, 1, 5),
        )
    exceptional = [
        # An exceptional Saturday, other hours on a Monday, an opening on 11 November.
        DateOverride(
            place=place,
            mediator=first,
            day=date(2026, 11, 7),
            start_time=time(9),
            end_time=time(11),
        ),
        DateOverride(
            place=place,
            mediator=second,
            day=date(2026, 11, 9),
            start_time=time(10),
            end_time=time(12, 30),
        ),
        DateOverride(
            place=place,
            mediator=first,
            day=date(2026, 11, 11),
            start_time=time(9),
            end_time=time(10),
        ),
        # The whole place closed one Thursday, the first mediator one Friday.
        DateOverride(place=place, day=date(2026, 11, 12), is_closed=True),
        DateOverride(place=place, mediator=first, day=date(2026, 11, 20), is_closed=True),
    ]
    for override in exceptional:
        override.save()
        if not override.is_closed:
            override.motifs.add(motif)
    recurring_absence_create(
        structure=mairie,
        mediator=second,
        weekday=2,
        start_time=time(15),
        end_time=time(17),
        first_day=date(2026, 11, 2),
        last_day=date(2026, 11, 30),
        every_n_weeks=2,
        tz=PARIS,
        by=second,
    )
    text = place_rows([place], now=NOW)[0]["horaires"]
    parsed = opening_hours.OpeningHours(text, country="FR")
    end = NOW + timedelta(days=28)

    offered = {
        slot.starts_at.astimezone(PARIS).replace(tzinfo=None)
        for slot in free_slots(
            place=place, motif=motif, start=NOW, end=end, now=NOW, respect_booking_window=False
        )
    }
    said = set()
    moment = datetime(2026, 11, 2, 0, 0)
    while moment < end.astimezone(PARIS).replace(tzinfo=None):
        if parsed.is_open(moment) and parsed.is_open(moment + timedelta(minutes=29)):
            said.add(moment)
        moment += timedelta(minutes=30)
    assert offered and offered == said, text
    assert datetime(2026, 11, 7, 9, 0) in said and datetime(2026, 11, 11, 9, 0) in said
    assert not any(moment.date() == date(2026, 11, 12) for moment in said)


# --- The forms ------------------------------------------------------------------------------


def test_publishing_needs_a_pivot_and_a_service_said_at_the_field(
    admin_client_structure, structure
):
    response = admin_client_structure.post(
        reverse("place_create", kwargs={"structure": structure.slug}),
        {
            "name": "Annexe",
            "address": "3 rue des Landes",
            "postcode": "35550",
            "commune": "Lohéac",
            "insee_code": "35155",
            "time_zone": "Europe/Paris",
            "is_published": "on",
        },
    )
    body = response.content.decode()

    assert response.status_code == 200
    assert "renseignez d&#x27;abord le SIRET de la structure" in body
    assert "Choisissez au moins un service pour publier le lieu." in body


def test_the_place_form_checks_coordinates_e_mails_and_takes_a_decimal_comma(
    admin_client_structure, structure
):
    structure.siret = "21350155000015"
    structure.save()
    data = {
        "name": "Annexe",
        "address": "3 rue des Landes",
        "postcode": "35550",
        "commune": "Lohéac",
        "insee_code": "35155",
        "time_zone": "Europe/Paris",
        "latitude": "147,5",
        "longitude": "",
        "emails": "accueil@mairie.example, pas-une-adresse",
        "services": [PlaceService.DEMARCHES],
        "is_published": "on",
        "is_active": "on",
    }
    create = reverse("place_create", kwargs={"structure": structure.slug})
    body = admin_client_structure.post(create, data).content.decode()

    assert "La latitude est comprise entre -90 et 90." in body
    assert "« pas-une-adresse » n&#x27;est pas une adresse e-mail valide." in body

    data.update(latitude="47,87012345", longitude="-1.8858", emails="accueil@mairie.example")
    response = admin_client_structure.post(create, data)
    assert response.status_code == 302
    place = structure.places.get(name="Annexe")
    assert place.latitude == Decimal("47.870123") and place.is_published
    assert place.services == [PlaceService.DEMARCHES]


def test_a_latitude_without_longitude_is_refused_at_the_field(structure):
    from django.core.exceptions import ValidationError

    place = PlaceFactory.build(structure=structure, latitude=Decimal("47.9"))
    with pytest.raises(ValidationError) as error:
        place.full_clean()
    assert "longitude" in error.value.message_dict


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("siret", "21350126700011", "clé de contrôle"),
        ("rna", "12345", "Le numéro RNA commence par W"),
        ("ridet", "12-34", "Le RIDET compte 9 à 14 chiffres ou lettres"),
    ],
)
def test_the_structure_form_checks_its_registration_numbers(
    admin_client_structure, structure, field, value, message
):
    data = {"name": structure.name, "kind": structure.kind, field: value}
    response = admin_client_structure.post(
        reverse("structure_edit", kwargs={"structure": structure.slug}), data
    )

    assert response.status_code == 200
    assert message in response.content.decode()


def test_the_structure_form_writes_a_ridet_as_the_register_does(admin_client_structure, structure):
    data = {"name": structure.name, "kind": structure.kind, "ridet": "1 234 567.001"}
    response = admin_client_structure.post(
        reverse("structure_edit", kwargs={"structure": structure.slug}), data
    )

    assert response.status_code == 302
    structure.refresh_from_db()
    assert structure.ridet == "1234567001" and structure.pivot == "1234567001"


def test_a_structure_keeps_its_pivot_while_a_place_is_published(admin_client_structure, structure):
    structure.siret = "21350155000015"
    structure.save()
    full_place(structure)
    response = admin_client_structure.post(
        reverse("structure_edit", kwargs={"structure": structure.slug}),
        {"name": structure.name, "kind": structure.kind, "siret": ""},
    )

    assert response.status_code == 200
    assert "Des lieux de la structure sont publiés en données ouvertes" in response.content.decode()


def test_the_demo_places_validate_against_the_national_schema(client, db):
    from tests.seeded import seeded_demo

    seeded_demo()  # the demo as seed_demo leaves it (tests/seeded.py)
    response = client.get(url("open_data_places", "csv"))

    assert validate_csv(response.content) == []
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert len(rows) >= 5
    assert all(row["horaires"] for row in rows), [r["nom"] for r in rows if not r["horaires"]]


def test_a_mediator_removed_from_the_structure_leaves_horaires(published):
    """As the booking engine: someone who no longer takes appointments in the structure (an
    active account, but no membership there any more) opens nothing."""
    from mediation.models import Membership

    place = published["epn"]
    assert place_rows([place], now=NOW)[0]["horaires"]

    Membership.objects.filter(structure=published["mairie"]).delete()

    assert place_rows([place], now=NOW)[0]["horaires"] == ""
