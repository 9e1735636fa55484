"""Phone numbers: residents' numbers are stored in E.164 and shown in national format.

A number typed without its country code is read in the region of the desk first: "0692 12 34 56"
is a Réunion mobile at a Réunion desk, and metropolitan numbers are accepted everywhere."""

import phonenumbers

from mediation.choices import PlaceTimeZone

REGION_OF_TIME_ZONE = {
    PlaceTimeZone.PARIS: "FR",
    PlaceTimeZone.GUADELOUPE: "GP",
    PlaceTimeZone.MARTINIQUE: "MQ",
    PlaceTimeZone.CAYENNE: "GF",
    PlaceTimeZone.REUNION: "RE",
    PlaceTimeZone.MAYOTTE: "YT",
}

MOBILE_TYPES = {
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
}


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
