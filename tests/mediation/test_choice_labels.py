"""`get_<field>_display()` read from a dictionary (mediation/choice_labels.py) says what
Django's own says, for every field with choices of every model, in French and in English."""

from __future__ import annotations

from functools import partialmethod

import pytest
from django.apps import apps
from django.db import models
from django.utils import translation

from mediation.choice_labels import install


def _fields_with_choices():
    for model in apps.get_models(include_auto_created=True):
        for field in model._meta.local_fields:
            if field.choices and isinstance(field.choices, list | tuple):
                yield model, field


def test_every_field_with_choices_gets_the_fast_label():
    fields = list(_fields_with_choices())
    assert len(fields) > 20
    for model, field in fields:
        method = model.__dict__.get(f"get_{field.name}_display")
        assert method is not None and not isinstance(method, partialmethod), (model, field)


@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_label_is_djangos_for_every_value_and_the_value_when_unknown(language):
    with translation.override(language):
        for model, field in _fields_with_choices():
            instance = model()
            for value in [value for value, _label in field.flatchoices] + ["pas-un-choix"]:
                setattr(instance, field.attname, value)
                fast = getattr(instance, f"get_{field.name}_display")()
                assert fast == models.Model._get_FIELD_display(instance, field), (field, value)


def test_installing_twice_changes_nothing():
    from cases.models import Case

    before = Case.get_status_display
    install()
    assert Case.get_status_display is before
