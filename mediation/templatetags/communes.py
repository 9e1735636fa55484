"""`{% load communes %}`: an INSEE code shown by name. `{{ code|commune }}` gives
"Guichen (35126)", `{{ code|commune_name }}` gives "Guichen"."""

from django import template

from mediation.communes import commune_label, commune_name

register = template.Library()


@register.filter(name="commune")
def commune(code) -> str:
    return commune_label(code)


@register.filter(name="commune_name")
def commune_name_filter(code) -> str:
    return commune_name(code)
