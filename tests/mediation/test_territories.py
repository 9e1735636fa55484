"""The French territories (mediation/territories.py): one table gives, for each, its communes,
its time zones, its phone region and its public holidays. Every time zone a place may choose
belongs to one territory; a place's time zone must be one of its commune's territory."""

from datetime import UTC, date, datetime

import holidays as holidays_package
import phonenumbers
import pytest
from django.core.exceptions import ValidationError
from phonenumber_field.phonenumber import PhoneNumber

from bookings import holidays
from mediation.choices import PlaceTimeZone
from mediation.phones import REGION_OF_TIME_ZONE, phone_display, phone_read
from mediation.territories import METROPOLE, TERRITORIES, territory_of
from tests.factories import PlaceFactory

# The list: every French time zone where people live.
EVERY_FRENCH_TIME_ZONE = {
    "Europe/Paris",
    "America/Guadeloupe",
    "America/Martinique",
    "America/Cayenne",
    "Indian/Reunion",
    "Indian/Mayotte",
    "America/Miquelon",
    "America/St_Barthelemy",
    "America/Marigot",
    "Pacific/Wallis",
    "Pacific/Tahiti",
    "Pacific/Marquesas",
    "Pacific/Gambier",
    "Pacific/Noumea",
}


def test_every_time_zone_is_offered_and_belongs_to_one_territory():
    assert set(PlaceTimeZone.values) == EVERY_FRENCH_TIME_ZONE
    owners = [t for t in (METROPOLE, *TERRITORIES) for _zone in t.time_zones]
    zones = [zone for t in (METROPOLE, *TERRITORIES) for zone in t.time_zones]
    assert set(zones) == EVERY_FRENCH_TIME_ZONE
    assert len({(z, o.phone_region) for z, o in zip(zones, owners, strict=True)}) == len(set(zones))
    assert set(REGION_OF_TIME_ZONE) == EVERY_FRENCH_TIME_ZONE


def test_every_territory_has_a_phone_region_and_a_holiday_calendar():
    for territory in (METROPOLE, *TERRITORIES):
        assert territory.phone_region in phonenumbers.SUPPORTED_REGIONS, territory.name
        if territory.holidays is not None:
            assert territory.holidays in holidays_package.France.subdivisions, territory.name
        for prefix in territory.insee_prefixes:
            assert territory_of(prefix + "01") == territory


@pytest.mark.parametrize(
    ("insee_code", "abolition"),
    [
        ("97101", date(2026, 5, 27)),  # Guadeloupe
        ("97209", date(2026, 5, 22)),  # Martinique
        ("97411", date(2026, 12, 20)),  # La Réunion
        ("97611", date(2026, 4, 27)),  # Mayotte
    ],
)
def test_overseas_departments_close_on_their_own_abolition_day(insee_code, abolition):
    assert abolition in holidays.closed_days(
        PlaceFactory.build(insee_code=insee_code), date(2026, 1, 1), date(2026, 12, 31)
    )


def test_new_caledonia_closes_on_24_september_and_polynesia_on_5_march():
    noumea = PlaceFactory.build(insee_code="98818", time_zone="Pacific/Noumea")
    papeete = PlaceFactory.build(insee_code="98735", time_zone="Pacific/Tahiti")
    assert date(2026, 9, 24) in holidays.closed_days(noumea, date(2026, 9, 1), date(2026, 9, 30))
    assert date(2026, 3, 5) in holidays.closed_days(papeete, date(2026, 3, 1), date(2026, 3, 31))
    metropole = PlaceFactory.build(insee_code="35238")
    assert not holidays.closed_days(metropole, date(2026, 9, 24), date(2026, 9, 24))


@pytest.mark.django_db
def test_a_place_whose_time_zone_is_not_its_communes_is_refused_at_the_field():
    place = PlaceFactory(insee_code="98818", time_zone="Europe/Paris")  # Nouméa
    with pytest.raises(ValidationError) as error:
        place.full_clean()
    assert "time_zone" in error.value.message_dict
    assert "Nouvelle-Calédonie" in error.value.message_dict["time_zone"][0]

    place.time_zone = "Pacific/Noumea"
    place.full_clean()
    # Polynesia has three time zones; each is right for a Polynesian commune.
    for zone in ("Pacific/Tahiti", "Pacific/Marquesas", "Pacific/Gambier"):
        PlaceFactory.build(
            structure=place.structure, insee_code="98735", time_zone=zone
        ).clean_fields()
        PlaceFactory.build(structure=place.structure, insee_code="98735", time_zone=zone).clean()


@pytest.mark.parametrize(
    ("time_zone", "typed", "e164", "shown"),
    [
        ("Pacific/Tahiti", "87 12 34 56", "+68987123456", "87 12 34 56"),
        ("Pacific/Noumea", "75 12 34", "+687751234", "75.12.34"),
        ("Pacific/Wallis", "82 12 34", "+681821234", "82 12 34"),
        ("America/Miquelon", "055 12 34", "+508551234", "055 12 34"),
    ],
)
def test_numbers_of_each_territory_are_read_the_local_way_at_its_desks(
    time_zone, typed, e164, shown
):
    region = REGION_OF_TIME_ZONE[time_zone]
    assert phone_read(typed, [region, "FR"], invalid="invalide")[0] == e164
    # And a metropolitan desk reads them with their country code.
    assert phone_read(e164, ["FR"], invalid="invalide")[0] == e164
    assert phone_display(PhoneNumber.from_string(e164)) in (
        shown,
        phonenumbers.format_number(
            phonenumbers.parse(e164), phonenumbers.PhoneNumberFormat.INTERNATIONAL
        ),
    )


def test_miquelon_changes_time_on_the_american_dates():
    # Saint-Pierre-et-Miquelon follows North America's DST (second Sunday of March), three
    # weeks before Paris: 09:00 there is 12:00 UTC on 7 March and 11:00 UTC on 9 March.
    from zoneinfo import ZoneInfo

    zone = ZoneInfo("America/Miquelon")
    before = datetime(2026, 3, 7, 9, tzinfo=zone).astimezone(UTC)
    after = datetime(2026, 3, 9, 9, tzinfo=zone).astimezone(UTC)
    assert (before.hour, after.hour) == (12, 11)
