"""Display helpers of the desk's resident pages."""

from __future__ import annotations

from django import template

from mediation.phones import phone_display

register = template.Library()

#: "06 12 34 56 78" for a French number, "+44 7911 123456" for a foreign one.
register.filter("phone_display", phone_display)
