"""Model fields of the core."""

from __future__ import annotations

import re

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _


class ChoiceListField(models.JSONField):
    """Several values of one reference list (`choice_list`, a TextChoices), stored as a JSON
    list in the list's order: ticked boxes in forms, each value checked against the list.

    The list is not part of the migration state: adding a value to it changes no column."""

    def __init__(self, *args, choice_list=None, **kwargs):
        self.choice_list = choice_list
        kwargs.setdefault("default", list)
        kwargs.setdefault("blank", True)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if kwargs.get("default") is list:
            del kwargs["default"]
        if kwargs.get("blank") is True:
            del kwargs["blank"]
        return name, path, args, kwargs

    def validate(self, value, model_instance):
        super().validate(value, model_instance)
        if value in self.empty_values:
            return
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise ValidationError(_("Choisissez dans la liste."), code="invalid_list")
        allowed = set(self.choice_list.values) if self.choice_list is not None else None
        for item in value:
            if allowed is not None and item not in allowed:
                raise ValidationError(
                    _("« %(value)s » n'est pas une valeur de la liste."),
                    code="invalid_choice",
                    params={"value": item},
                )

    def pre_save(self, model_instance, add):
        value = getattr(model_instance, self.attname)
        if isinstance(value, list) and self.choice_list is not None:
            order = {code: index for index, code in enumerate(self.choice_list.values)}
            value = sorted(dict.fromkeys(value), key=lambda item: order.get(item, len(order)))
            setattr(model_instance, self.attname, value)
        return super().pre_save(model_instance, add)

    def formfield(self, **kwargs):
        return forms.MultipleChoiceField(
            choices=self.choice_list.choices if self.choice_list is not None else [],
            required=not self.blank,
            widget=forms.CheckboxSelectMultiple,
            label=capfirst(self.verbose_name),
            help_text=self.help_text,
        )


_EMAIL_SEPARATORS = re.compile(r"[\s,;|]+")


def split_emails(value: str) -> list[str]:
    """The addresses of a list typed with commas, semicolons, spaces or new lines."""
    return [item for item in _EMAIL_SEPARATORS.split(value or "") if item]


def validate_email_list(value: str) -> None:
    for item in split_emails(value):
        try:
            validate_email(item)
        except ValidationError:
            raise ValidationError(
                _("« %(value)s » n'est pas une adresse e-mail valide."),
                code="invalid_email",
                params={"value": item},
            ) from None
