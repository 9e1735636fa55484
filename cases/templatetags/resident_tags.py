"""Display helpers of the desk's resident pages."""

from __future__ import annotations

import phonenumbers
from django import template

register = template.Library()

#: Regions of the French numbering plan: their numbers are dialled the national way ("0692…")
#: from any French desk.
FRENCH_PLAN_REGIONS = {"FR", "GP", "MQ", "GF", "RE", "YT", "PM", "BL", "MF"}


@register.filter
def phone_display(phone) -> str:
    """A resident's number as the desk dials it: "06 12 34 56 78" for a French number, with its
    country code for a foreign one ("+44 7911 123456"), never a foreign national form."""
    if not phone:
        return ""
    if not hasattr(phone, "as_national"):
        return str(phone)
    if phonenumbers.region_code_for_number(phone) in FRENCH_PLAN_REGIONS:
        return phone.as_national
    return phone.as_international
