"""Phone numbers: residents' numbers are stored in E.164 and shown in national format."""

import phonenumbers

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
