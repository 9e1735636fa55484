"""The one vocabulary with the national tools (cases/national.py): every choice of every field
the Coop records has a national value the Coop accepts, every reference list is either mapped
or said not to leave, and the generated table in docs/ is the committed one."""

import dataclasses
import inspect
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import models

from cases import choices as cases_choices
from cases import national
from cases.choices import Equipment, ProcedureArea, RedirectedTo, Theme
from mediation import choices as mediation_choices

ROOT = Path(__file__).resolve().parents[2]


def _reference_lists():
    for module in (cases_choices, mediation_choices):
        for name, obj in vars(module).items():
            if (
                inspect.isclass(obj)
                and issubclass(obj, models.TextChoices)
                and obj.__module__ == module.__name__
            ):
                yield f"{module.__name__}.{name}", obj


@pytest.mark.parametrize("coop_field", national.COOP_FIELDS, ids=lambda f: f.source)
def test_every_choice_of_a_mapped_field_has_a_value_the_coop_accepts(coop_field):
    codes = coop_field.choices.values if coop_field.choices else list(coop_field.values)
    for code in codes:
        value = national.coop_value(coop_field, code)
        assert value in coop_field.national, f"{coop_field.source}: {code!r} → {value!r}"


def test_the_mapping_has_no_gap():
    assert national.mapping_gaps() == []


def _replace(monkeypatch, coop_field, **changes):
    changed = dataclasses.replace(coop_field, **changes)
    fields = tuple(changed if f is coop_field else f for f in national.COOP_FIELDS)
    monkeypatch.setattr(national, "COOP_FIELDS", fields)
    return changed


def test_a_choice_without_a_national_value_is_found(monkeypatch):
    values = dict(national.EQUIPMENT.values)
    del values[Equipment.TABLET]
    equipment = _replace(monkeypatch, national.EQUIPMENT, values=values)
    assert national.mapping_gaps() == [
        "cases.choices.Equipment → materiel: 'tablet' has no national value"
    ]
    with pytest.raises(national.NotMapped):
        national.coop_value(equipment, Equipment.TABLET)


def test_a_value_the_coop_does_not_accept_is_found(monkeypatch):
    values = {**national.THEMES.values, Theme.SCOLARITE: "scolarite"}
    _replace(monkeypatch, national.THEMES, values=values)
    assert national.mapping_gaps() == [
        "cases.choices.Theme → thematiques: 'scolarite' → 'scolarite', which the Coop does "
        "not accept"
    ]


def test_every_reference_list_is_mapped_or_said_not_to_leave():
    mapped = {coop_field.source for coop_field in national.COOP_FIELDS}
    for source, _choices in _reference_lists():
        assert (source in mapped) != (source in national.NOT_EXCHANGED), (
            f"{source}: map it to the Coop's values in cases/national.py (COOP_FIELDS), or say "
            "why it never leaves in NOT_EXCHANGED"
        )
    assert set(national.NOT_EXCHANGED) <= {source for source, _c in _reference_lists()}


def test_the_mapped_sources_are_the_choices_they_name():
    lists = dict(_reference_lists())
    for coop_field in national.COOP_FIELDS:
        if coop_field.choices is not None:
            assert lists[coop_field.source] is coop_field.choices


def test_values_without_a_national_equivalent_say_why():
    assert national.coop_value(national.PROCEDURES, ProcedureArea.RETRAITE) == "travail_formation"
    assert ProcedureArea.RETRAITE in national.PROCEDURES.why
    assert national.coop_value(national.REDIRECTED_TO, RedirectedTo.FRANCE_SERVICES) == (
        "aide_aux_demarches_administratives"
    )
    assert RedirectedTo.FRANCE_SERVICES in national.REDIRECTED_TO.why


def test_several_codes_sharing_a_value_are_sent_once_in_the_coop_order():
    codes = [ProcedureArea.RETRAITE, ProcedureArea.LOGEMENT, ProcedureArea.TRAVAIL_FORMATION]
    assert national.coop_values(national.PROCEDURES, codes) == ["travail_formation", "logement"]
    assert national.coop_value(national.AUTONOMY, "") is None


def test_the_committed_table_is_the_one_the_code_generates():
    committed = (ROOT / national.DOC_PATH).read_text(encoding="utf-8")
    assert committed == national.vocabulary_markdown(), (
        f"{national.DOC_PATH} is out of date: run `manage.py national_vocabulary`"
    )


def test_the_check_command_fails_on_a_stale_table(monkeypatch):
    call_command("national_vocabulary", "--check")
    monkeypatch.setattr(national, "vocabulary_markdown", lambda: "autre chose\n")
    from cases.management.commands import national_vocabulary

    monkeypatch.setattr(national_vocabulary, "vocabulary_markdown", lambda: "autre chose\n")
    with pytest.raises(CommandError):
        call_command("national_vocabulary", "--check")


def test_the_table_shows_french_labels_beside_the_codes():
    text = national.vocabulary_markdown()
    assert "| Accompagner un professionnel | `accompagner_professionnel` | `entrepreneuriat` |" in (
        text
    )
