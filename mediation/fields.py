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


# --- Communes -------------------------------------------------------------------------------


class CommuneInput(forms.TextInput):
    """A text box where a commune is typed by name or postcode. `mediation/static/mediation/
    commune_field.js` turns it into a combobox (suggestions from `commune_suggestions` as one
    types, arrows and Enter to pick); without JavaScript it stays a text box that the field
    reads on its own. A stored code is shown as "Guichen (35126)"."""

    def __init__(self, attrs=None):
        defaults = {"autocomplete": "off", "spellcheck": "false", "data-commune-field": ""}
        super().__init__({**defaults, **(attrs or {})})

    def get_context(self, name, value, attrs):
        from django.urls import reverse

        context = super().get_context(name, value, attrs)
        context["widget"]["attrs"]["data-commune-field"] = reverse("commune_suggestions")
        return context

    def format_value(self, value):
        from mediation.communes import commune_get

        value = super().format_value(value)
        commune = commune_get(value) if value else None
        return commune.label if commune is not None else value


def _choices_text(communes) -> str:
    return " ; ".join(f"{c.label}, {c.detail}" for c in communes)


class CommuneField(forms.CharField):
    """A commune typed by name, postcode or INSEE code (`mediation.communes.commune_resolve`),
    cleaned to its INSEE code: what models store. A text that names no commune, or several,
    is refused at the field in French, with the communes it may mean; the text stays."""

    widget = CommuneInput
    #: Above this many, the candidates are not listed in the error.
    LISTED = 6
    default_error_messages = {
        "incomplete": _(
            "Un code postal ou un code INSEE compte 5 caractères (ex. : 35580 ou 35126) ; "
            "vous pouvez aussi taper le nom de la commune."
        ),
        "too_long": _("Saisissez %(n)s caractères au plus."),
        "unknown": _(
            "Aucune commune ne correspond à « %(value)s ». Tapez son nom ou son code postal, "
            "puis choisissez-la dans la liste."
        ),
        "ambiguous": _(
            "« %(value)s » peut désigner plusieurs communes : %(choices)s. Choisissez-en une "
            "dans la liste, ou ajoutez le code postal au nom (ex. : Saint-Denis 97400)."
        ),
        "too_many": _(
            "« %(value)s » peut désigner de nombreuses communes : tapez le nom complet, ou "
            "ajoutez le code postal."
        ),
        "suggest": _(
            "« %(value)s » n'est pas le nom d'une commune. Vouliez-vous dire : %(choices)s ?"
        ),
    }

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 120)
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        from mediation.communes import commune_resolve, commune_search, normalise

        text = " ".join(super().to_python(value).split())
        if not text:
            return ""
        if len(text) > self.max_length:
            raise ValidationError(
                self.error_messages["too_long"], code="too_long", params={"n": self.max_length}
            )
        compact = text.replace(" ", "").upper()
        if (compact.isdigit() or compact[:2] in ("2A", "2B")) and len(compact) != 5:
            raise ValidationError(self.error_messages["incomplete"], code="incomplete")
        resolution = commune_resolve(text)
        if resolution.commune is not None:
            return resolution.commune.code
        candidates = resolution.candidates
        params = {"value": text}
        if not candidates:
            # A typo near the end ("Guichn"): what its beginning names, as suggestions.
            key = normalise(text)
            shortest = max(4, len(key) - 4)
            while not candidates and len(key) > shortest and not key.isdigit():
                key = key[:-1]
                candidates = commune_search(key, limit=3)
            if not candidates:
                raise ValidationError(self.error_messages["unknown"], code="unknown", params=params)
            params["choices"] = _choices_text(candidates)
            raise ValidationError(self.error_messages["suggest"], code="suggest", params=params)
        exact = [c for c in candidates if normalise(c.name) == normalise(text)]
        if exact or text.replace(" ", "").isdigit():
            if len(candidates) > self.LISTED:
                raise ValidationError(
                    self.error_messages["too_many"], code="too_many", params=params
                )
            params["choices"] = _choices_text(candidates)
            raise ValidationError(self.error_messages["ambiguous"], code="ambiguous", params=params)
        params["choices"] = _choices_text(candidates[:3])
        raise ValidationError(self.error_messages["suggest"], code="suggest", params=params)
