"""Dates written in French words, for texts that must not depend on the active language (SMS,
e-mails, report titles, PDFs): the month names are written here once."""

from __future__ import annotations

from datetime import date

MONTH_NAMES = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)


def day_label(day: date) -> str:
    """ "1er janvier 2027", "6 janvier 2027"."""
    number = "1er" if day.day == 1 else str(day.day)
    return f"{number} {MONTH_NAMES[day.month - 1]} {day.year}"
