"""A territory (a time zone a place may be in) is read by three tables: the place's time zone
(`mediation.choices.PlaceTimeZone`), the region phone numbers are read in
(`mediation.phones.REGION_OF_TIME_ZONE`) and the public holidays by INSEE code
(`bookings.holidays`). Adding a time zone without the other two would silently read its
phone numbers as metropolitan ones and open on its public holidays: this fails instead."""

import phonenumbers

from bookings import holidays
from mediation.choices import PlaceTimeZone
from mediation.phones import REGION_OF_TIME_ZONE

# This test's expectation: the INSEE department code of each overseas phone region.
DEPARTMENT_OF_REGION = {"GP": "971", "MQ": "972", "GF": "973", "RE": "974", "YT": "976"}


def test_every_time_zone_has_its_phone_region():
    assert set(REGION_OF_TIME_ZONE) == set(PlaceTimeZone.values)
    for region in REGION_OF_TIME_ZONE.values():
        assert region in phonenumbers.SUPPORTED_REGIONS


def test_every_overseas_time_zone_has_its_public_holidays():
    for time_zone, region in REGION_OF_TIME_ZONE.items():
        if time_zone == PlaceTimeZone.PARIS:
            continue
        department = DEPARTMENT_OF_REGION.get(region)
        assert department, f"{time_zone}: which INSEE department is {region}? (and holidays)"
        assert holidays.subdivision(f"{department}11") is not None, time_zone
