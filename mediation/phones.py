"""Phone numbers, in one place: residents' numbers are stored in E.164 and shown in national
format. Every form, search and page that reads or shows a number goes through this module.

A number typed without its country code is read in the region of the desk first: "0692 12 34 56"
is a Réunion mobile at a Réunion desk, and metropolitan numbers are accepted everywhere."""

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from mediation.territories import METROPOLE, TERRITORIES
from mediation.territories import PHONE_REGION_OF_TIME_ZONE as REGION_OF_TIME_ZONE

MOBILE_TYPES = {
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
}

#: Regions of the French numbering plan: their numbers are dialled the national way ("0692…")
#: from any French desk.
FRENCH_PLAN_REGIONS = {"FR", "GP", "MQ", "GF", "RE", "YT", "PM", "BL", "MF"}


#: Country calling codes of the French territories (mediation/territories.py), the numbers
#: residents may give online by default (`Structure.online_phone_codes`): +33, +262 (Réunion and
#: Mayotte: Mayotte's numbers are +262 269… and +262 639…), +590 (Guadeloupe, Saint-Barthélemy,
#: Saint-Martin), +594, +596, +508, +681, +687, +689. Not +269, the Comoros (Mayotte's code
#: before 2007). Anything else was the door of SMS pumping (issue 17: Russian and Cuban mobiles
#: booked online, each texted at the structure's cost).
FRENCH_CALLING_CODES = tuple(
    sorted(
        {phonenumbers.country_code_for_region(t.phone_region) for t in (METROPOLE, *TERRITORIES)},
        key=lambda code: (code != 33, code),
    )
)


def french_calling_codes() -> list[int]:
    """The default of `Structure.online_phone_codes` (a fresh list: a model default)."""
    return list(FRENCH_CALLING_CODES)


# --- Reading ---------------------------------------------------------------------------------


def is_mobile(phone) -> bool:
    """True for a valid mobile number (metropolitan 06/07, overseas 0690/0692/0694/0696…)."""
    number = getattr(phone, "_phonenumber", None) or phone
    if isinstance(number, str):
        try:
            number = phonenumbers.parse(number, "FR")
        except phonenumbers.NumberParseException:
            return False
    return phonenumbers.is_valid_number(number) and phonenumbers.number_type(number) in MOBILE_TYPES


def phone_regions(places) -> list[str]:
    """Regions to read national numbers with: the places' own first, then metropolitan."""
    regions = [REGION_OF_TIME_ZONE.get(place.time_zone, "FR") for place in places]
    return list(dict.fromkeys([*regions, "FR"]))


def phone_candidates(text: str, regions: list[str]) -> list[str]:
    """E.164 forms `text` may stand for ("06 12 34 56 78", "+33612345678"…), or []."""
    found = []
    for region in regions:
        try:
            number = phonenumbers.parse(text, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            found.append(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
    return list(dict.fromkeys(found))


def phone_read(text: str, regions: list[str], *, invalid) -> list[str]:
    """What a form's phone field was given: the E.164 numbers it may stand for, the one to store
    first ([] when nothing was typed). A number no region reads is a ValidationError (code
    "invalid") with `invalid`, the form's own French message (each says what its readers may
    type: overseas numbers, foreign ones)."""
    text = (text or "").strip()
    if not text:
        return []
    numbers = phone_candidates(text, regions)
    if not numbers:
        raise ValidationError(invalid, code="invalid")
    return numbers


def calling_code(phone) -> int | None:
    """The country calling code of a number (a PhoneNumber, or E.164 text), or None."""
    number = getattr(phone, "_phonenumber", None) or phone
    if isinstance(number, str):
        try:
            number = phonenumbers.parse(number, "FR")
        except phonenumbers.NumberParseException:
            return None
    return getattr(number, "country_code", None)


def phone_accepted_online(phone, codes) -> bool:
    """Whether a resident may give this number on the public pages (booking, waiting list) of
    a structure accepting `codes` (`Structure.online_phone_codes`). The desk takes any number."""
    return calling_code(phone) in set(codes or FRENCH_CALLING_CODES)


def online_phone_refusal(codes):
    """The French message at the phone field of a public form, for a number outside `codes`."""
    codes = list(codes or FRENCH_CALLING_CODES)
    if sorted(codes) == sorted(FRENCH_CALLING_CODES):
        return _(
            "Seuls les numéros de France (métropole et outre-mer) sont acceptés en ligne. "
            "Pour un autre numéro, appelez la structure."
        )
    return _(
        "Seuls les numéros commençant par %(codes)s sont acceptés en ligne. "
        "Pour un autre numéro, appelez la structure."
    ) % {"codes": calling_codes_display(codes)}


def calling_codes_display(codes) -> str:
    """[33, 262] → "+33 +262", as the structure's form shows and reads them."""
    return " ".join(f"+{code}" for code in codes)


def calling_codes_read(text: str) -> list[int]:
    """ "+33 +262, 590" → [33, 262, 590]: the codes a structure accepts online. An unknown
    code, or none, is a ValidationError in French."""
    parts = (text or "").replace(",", " ").replace(";", " ").split()
    if not parts:
        raise ValidationError(
            _("Indiquez au moins un indicatif, par exemple +33."), code="required"
        )
    codes = []
    for part in parts:
        digits = part.lstrip("+")
        if not digits.isdigit() or int(digits) not in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            raise ValidationError(
                _("« %(code)s » n'est pas un indicatif de pays (ex. : +33, +262, +590)."),
                code="invalid",
                params={"code": part},
            )
        codes.append(int(digits))
    return list(dict.fromkeys(codes))


def looks_like_phone(text: str) -> bool:
    """A search term made of digits and the usual separators (at least 4 digits)."""
    digits = sum(c.isdigit() for c in text)
    return digits >= 4 and all(c.isdigit() or c in "+ .-()/" for c in text.strip())


# --- Showing ---------------------------------------------------------------------------------


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


def phone_as_typed(phone, regions: list[str]) -> str:
    """The number as the desk would type it: national format when it reads back as the same
    number at this desk, else international ("+262 692…" at a metropolitan desk)."""
    if not phone:
        return ""
    national = phone.as_national
    if phone_candidates(national, regions)[:1] == [phone.as_e164]:
        return national
    return phone.as_international


def phone_national(phone) -> str:
    """A stored number (or its text, read as metropolitan) in national format, for print; a
    text that is no number at all is returned as it is."""
    if not phone:
        return ""
    try:
        number = (
            phone
            if isinstance(phone, phonenumbers.PhoneNumber)
            else phonenumbers.parse(str(phone), "FR")
        )
    except phonenumbers.NumberParseException:
        return str(phone)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
