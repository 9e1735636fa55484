"""Communes by name: the shipped list (mediation/data/communes.csv.gz, from Etalab's
decoupage-administratif), its search, the form field, the pickers' endpoint, and the pages and
reports that show "Guichen (35126)" rather than a bare code."""

from __future__ import annotations

import csv
import io
import subprocess
import time
from datetime import date

import pytest
from django import forms
from django.urls import reverse
from openpyxl import load_workbook

from cases import synthetic
from mediation import communes
from mediation.communes import (
    commune_current,
    commune_exists,
    commune_label,
    commune_name,
    commune_resolve,
    commune_search,
)
from mediation.fields import CommuneField
from mediation.models import Place
from reports import exports, frozen, publish
from reports.models import PublishedReport
from reports.periods import Period
from tests.cases.factories import HelpSessionFactory
from tests.factories import PlaceFactory, ResidentFactory, StructureFactory

# --- The list -------------------------------------------------------------------------------


def test_the_list_names_communes_of_metropole_corsica_and_overseas():
    assert commune_name("35126") == "Guichen"
    assert commune_name("2A004") == "Ajaccio"
    assert commune_name("2B033") == "Bastia"
    assert commune_name("97411") == "Saint-Denis"
    assert commune_name("97701") == "Saint-Barthélemy"
    assert commune_name("97801") == "Saint-Martin"
    assert commune_name("98735") == "Papeete"
    assert commune_name("98818") == "Nouméa"
    assert commune_get_dep("98611") == "986"  # Wallis-et-Futuna (Alo)


def commune_get_dep(code):
    return communes.commune_get(code).departement


def test_every_departement_and_overseas_collectivity_has_its_communes():
    departements = {c.departement for c in communes._index().by_code.values() if c.kind == "c"}
    metropole = {f"{n:02d}" for n in range(1, 96) if n != 20} | {"2A", "2B"}
    overseas = {"971", "972", "973", "974", "975", "976", "977", "978", "986", "987", "988"}
    assert metropole | overseas <= departements
    counts = {
        dep: sum(1 for c in communes._index().by_code.values() if c.departement == dep)
        for dep in ("975", "986", "987", "988")
    }
    # Saint-Pierre-et-Miquelon 2, Wallis-et-Futuna 3 circonscriptions, Polynesia 48, New
    # Caledonia 33 communes.
    assert counts == {"975": 2, "986": 3, "987": 48, "988": 33}


def test_paris_lyon_and_marseille_have_their_arrondissements():
    assert commune_exists("75056") and commune_exists("75115")
    assert commune_name("69381") == "Lyon 1er Arrondissement"
    assert commune_exists("13201")


def test_an_old_code_still_has_a_name_and_leads_to_the_commune_of_today():
    # Corsica was 20 before 1976; Guipry (35128) merged into Guipry-Messac (35176) in 2017.
    assert not commune_exists("20004")
    assert commune_name("20004") == "Ajaccio"
    assert commune_current("20004").code == "2A004"
    assert commune_current("35129").code == "35176"


def test_an_unknown_code_is_marked_never_raised():
    assert commune_label("35999") == "35999 (commune inconnue)"
    assert commune_name("35999") == "35999"
    assert commune_label("") == "" and commune_label(None) == ""
    assert commune_label("35126") == "Guichen (35126)"


def test_the_demo_and_the_bench_use_communes_that_exist_with_their_names():
    from mediation.demo import STRUCTURES

    for name, code, postcode in synthetic.COMMUNES:
        commune = communes.commune_get(code)
        assert commune is not None and commune_exists(code), (name, code)
        assert commune.name == name and postcode in commune.postcodes, (name, code, commune)
    for structure in STRUCTURES:
        for place in structure["places"]:
            commune = communes.commune_get(place["insee_code"])
            assert commune is not None and commune.name == place["commune"], place
            assert place["postcode"] in commune.postcodes, place


# --- Search ---------------------------------------------------------------------------------


def labels(query, limit=5):
    return [c.label for c in commune_search(query, limit=limit)]


def test_search_by_name_ignores_accents_case_hyphens_and_abbreviations():
    assert labels("guichen")[0] == "Guichen (35126)"
    assert labels("CHATEAUGIRON")[0] == "Châteaugiron (35069)"
    assert labels("st malo")[0] == "Saint-Malo (35288)"
    assert labels("saint-malo")[0] == "Saint-Malo (35288)"
    assert labels("noumea")[0] == "Nouméa (98818)"
    assert labels("l'ile rousse")[0] == "L'Île-Rousse (2B134)"


def test_search_puts_exact_names_first_then_prefixes_then_inner_words():
    found = labels("rennes")
    assert found[0] == "Rennes (35238)" and all("Rennes" in label for label in found)
    # "denis" starts no name but a word of Saint-Denis: the larger ones first.
    assert labels("denis", 2) == ["Saint-Denis (97411)", "Saint-Denis (93066)"]


def test_search_by_postcode_or_code():
    assert "Guichen (35126)" in labels("35580", 10)
    assert labels("35126") == ["Guichen (35126)"]
    assert labels("97400") == ["Saint-Denis (97411)"]
    assert labels("2A004") == ["Ajaccio (2A004)"]
    assert labels("355")  # a postcode's beginning


def test_search_is_bounded_and_fast():
    communes._index()  # loaded once per process
    queries = ["s", "sa", "saint", "3", "35", "355", "la", "le", "gui", "st malo", "97"]
    # CPU time: the wall clock of a machine shared with other test runs says little.
    start = time.process_time()
    for _ in range(10):
        for query in queries:
            assert len(commune_search(query, limit=10)) <= 10
    per_query_ms = (time.process_time() - start) * 1000 / (10 * len(queries))
    # About 0.07 ms a query on the development machine.
    assert per_query_ms < 5
    assert commune_search("", limit=10) == [] and commune_search("x" * 500) == []


# --- Reading what was typed -----------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "Guichen",
        "guichen",
        "GUICHEN ",
        "35126",
        "Guichen (35126)",
        "35580 Guichen",
        "Guichen 35580",
    ],
)
def test_what_names_one_commune_resolves_to_its_code(typed):
    assert commune_resolve(typed).commune.code == "35126"


def test_a_name_that_several_communes_share_needs_a_postcode():
    resolution = commune_resolve("Saint-Denis")
    assert resolution.commune is None
    assert {"93066", "97411"} <= {c.code for c in resolution.candidates}
    assert commune_resolve("Saint-Denis 97400").commune.code == "97411"


class AForm(forms.Form):
    commune = CommuneField(label="Commune", required=False)


def form_error(typed) -> str:
    form = AForm({"commune": typed})
    assert not form.is_valid()
    return " ".join(form.errors["commune"])


def test_the_field_cleans_to_the_insee_code():
    for typed, code in [
        ("Guichen", "35126"),
        ("2a004", "2A004"),
        ("Nouméa (98818)", "98818"),
        ("20004", "2A004"),
        ("", ""),
    ]:
        form = AForm({"commune": typed})
        assert form.is_valid(), form.errors
        assert form.cleaned_data["commune"] == code


def test_the_field_says_in_french_what_is_wrong_and_lists_the_choices():
    assert "Aucune commune ne correspond à « Zzyzx »" in form_error("Zzyzx")
    assert "compte 5 caractères" in form_error("3558")
    ambiguous = form_error("Saint-Denis")
    assert "plusieurs communes" in ambiguous
    assert "Saint-Denis (97411)" in ambiguous and "Saint-Denis (93066)" in ambiguous
    postcode = form_error("35580")  # Guichen, Goven, Guignen… share it
    assert "Guichen (35126)" in postcode and "Goven (35123)" in postcode
    assert "Vouliez-vous dire : Guichen (35126)" in form_error("Guichn")
    assert "120 caractères au plus" in form_error("Guichen " * 2000)


def test_the_field_shows_a_stored_code_by_name_and_keeps_what_was_typed():
    assert 'value="Guichen (35126)"' in str(AForm(initial={"commune": "35126"})["commune"])
    bound = AForm({"commune": "Guichn"})
    bound.is_valid()
    assert 'value="Guichn"' in str(bound["commune"])


# --- The pickers' endpoint ------------------------------------------------------------------


def test_the_suggestions_need_a_signed_in_user(client, db):
    response = client.get(reverse("commune_suggestions"), {"commune": "guichen"})
    assert response.status_code == 302 and "/connexion/" in response["Location"]


def test_the_suggestions_are_few_and_labelled(mediator_client, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):  # the session and the user, never the list
        response = mediator_client.get(reverse("commune_suggestions"), {"commune": "saint"})
    results = response.json()["results"]
    assert response.status_code == 200 and len(results) == 10
    guichen = mediator_client.get(reverse("commune_suggestions"), {"commune": "35580"}).json()
    first = guichen["results"][0]
    assert first == {
        "code": "35126",
        "label": "Guichen (35126)",
        "name": "Guichen",
        "detail": "35580 · dép. 35",
    }
    long = mediator_client.get(reverse("commune_suggestions"), {"commune": "a" * 5000})
    assert long.status_code == 200 and long.json() == {"results": []}


# --- Pages ----------------------------------------------------------------------------------


def test_the_resident_page_shows_the_commune_by_name(mediator_client, structure):
    resident = ResidentFactory(structure=structure, commune_insee="35126")
    url = reverse("resident_detail", kwargs={"structure": structure.slug, "resident": resident.pk})
    page = mediator_client.get(url).content.decode()
    assert "Guichen (35126)" in page
    assert ">35126<" not in page


def test_the_resident_is_created_with_a_commune_typed_by_name(mediator_client, structure):
    from mediation.models import Resident

    url = reverse("resident_create", kwargs={"structure": structure.slug})
    response = mediator_client.post(
        url, {"first_name": "Zoé", "last_name": "Martin", "commune_insee": "chateaugiron"}
    )
    assert response.status_code == 302
    resident = Resident.objects.get(first_name="Zoé")
    assert resident.commune_insee == "35069"
    edit = reverse("resident_edit", kwargs={"structure": structure.slug, "resident": resident.pk})
    assert 'value="Châteaugiron (35069)"' in mediator_client.get(edit).content.decode()


def test_a_place_takes_its_commune_by_name_and_its_single_postcode(
    admin_client_structure, structure
):
    url = reverse("place_create", kwargs={"structure": structure.slug})
    response = admin_client_structure.post(
        url,
        {
            "name": "Annexe",
            "address": "1 rue de la Mairie",
            "insee_code": "Guichen",
            "postcode": "",
            "time_zone": "Europe/Paris",
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    place = Place.objects.get(name="Annexe")
    assert (place.insee_code, place.commune, place.postcode) == ("35126", "Guichen", "35580")
    listing = admin_client_structure.get(
        reverse("place_list", kwargs={"structure": structure.slug})
    )
    assert "35580 Guichen (35126)" in listing.content.decode()


def test_a_place_in_a_commune_of_several_postcodes_needs_one(admin_client_structure, structure):
    url = reverse("place_create", kwargs={"structure": structure.slug})
    data = {"name": "Annexe", "address": "1 rue", "insee_code": "Rennes (35238)"}
    response = admin_client_structure.post(url, {**data, "time_zone": "Europe/Paris"})
    assert response.status_code == 200
    assert "Rennes en a plusieurs (35000, 35200, 35700)" in response.content.decode()
    assert not Place.objects.filter(name="Annexe").exists()


def test_the_right_of_access_names_the_commune(structure):
    from mediation.privacy import resident_data

    resident = ResidentFactory(structure=structure, commune_insee="35126")
    data = resident_data(resident=resident)
    assert data["resident"]["commune_insee"] == {"code": "35126", "label": "Guichen (35126)"}


# --- Reports --------------------------------------------------------------------------------


@pytest.fixture
def report_data(db):
    structure = StructureFactory(name="Mairie de Guichen")
    place = PlaceFactory(structure=structure, commune="Guichen", insee_code="35126")
    for code in ("35126", "35238", "97411"):
        HelpSessionFactory(
            structure=structure,
            place=place,
            date=date(2026, 1, 12),
            resident=ResidentFactory(structure=structure, commune_insee=code),
        )
    return structure


def commune_rows(report):
    table = next(t for t in report["tables"] if t["key"] == "residents_by_commune")
    return {row["code"]: row["label"] for row in table["rows"]}


def test_the_report_names_every_commune_of_residence(report_data):
    report = publish.build(report_data, Period.of_month(2026, 1), anonymised=False)
    rows = commune_rows(report)
    assert rows["35126"] == "Guichen (35126)"
    assert rows["35238"] == "Rennes (35238)"
    assert rows["97411"] == "Saint-Denis (97411)"


def test_the_csv_keeps_the_code_beside_the_label(report_data):
    report = publish.build(report_data, Period.of_month(2026, 1), anonymised=False)
    rows = list(csv.DictReader(io.StringIO(exports.render_csv(report).decode("utf-8"))))
    rennes = next(
        r for r in rows if r["indicator"] == "residents_by_commune" and "35238" in r["dimension"]
    )
    assert (rennes["dimension"], rennes["label"]) == ("35238", "Rennes (35238)")


def test_the_xlsx_and_the_pdf_name_the_communes(report_data, tmp_path):
    report = publish.build(report_data, Period.of_month(2026, 1), anonymised=False)
    book = load_workbook(io.BytesIO(exports.render_xlsx(report)))
    texts = {
        str(cell.value) for sheet in book.worksheets for row in sheet.iter_rows() for cell in row
    }
    assert "Rennes (35238)" in texts and "35238" not in texts
    pdf = tmp_path / "bilan.pdf"
    pdf.write_bytes(exports.render(report, "pdf"))
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, check=True, text=True
    ).stdout
    assert "Rennes (35238)" in text and "Saint-Denis (97411)" in text


def test_a_report_stored_with_bare_codes_is_served_with_names(report_data):
    period = Period.of_month(2026, 1)
    report = publish.compute_published(report_data, period)
    table = next(t for t in report["tables"] if t["key"] == "residents_by_commune")
    figures = [(row["code"], row["value"], row["display"]) for row in table["rows"]]
    for row in table["rows"]:  # as reports were stored before communes had names
        row["label"] = row["code"]
    PublishedReport.objects.create(structure=report_data, period=period.code, report=report)

    served = frozen.stored(report_data, period)
    table = next(t for t in served["tables"] if t["key"] == "residents_by_commune")
    assert [(row["code"], row["value"], row["display"]) for row in table["rows"]] == figures
    assert commune_rows(served)["35238"] == "Rennes (35238)"
