"""Protection of the published counts: cell-key perturbation with a threshold.

The method the Australian Bureau of Statistics uses for TableBuilder and the ONS used for the
2021 Census, in three rules that need no bookkeeping of how tables relate:

1. Every record that a report counts (a resident, a session, an appointment) carries a
   permanent random key (`mediation.report_keys`). The *cell key* of a count is the sum of the
   keys of the records it counts (a workshop's accompaniments: its key times its people),
   modulo KEY_SPACE; `reports.indicators` computes it in the database beside the count.
2. A count of at least `k` is published as its exact value plus a perturbation read from the
   public table `PERTURBATION` at a position given by the cell key and the value
   (`perturbation`); never below `k`. The same records always give the same key, hence the
   same published value: in every report, period, scope, format and version, whatever other
   cells are published beside it. Two reports that differ by a few records differ by
   independent perturbations: their difference gives noise, not people.
3. A count below `k`, zero included, is published as "< k": were zeros shown, a hidden cell
   would be known to be at least 1, and a few hidden cells under a small total could be pinned
   down (ten structures with "< 11" each under a network's "< 11"). So is a count whose
   perturbed value falls below `k`: "< k" then stands for 0 to k − 1 + MAX_PERTURBATION, not
   0 to k − 1. Were it 0 to k − 1, a total of two hidden counts (7 and 10) published at its
   largest perturbation (17 + 10 = 27, hence at least 17) would put both within [7, 10]: the
   tails of the table, which keep published counts from being pinned, would pin the hidden
   ones. Totals are perturbed as
   cells of their own: a total may differ from the sum of its rows by a few units. Minutes of
   help go through the same rule (a session lasts at least a minute: minutes bound sessions).

What it guarantees, against an attacker who holds every report ever published and knows this
method and every identity of the data model, is checked by the attack itself:
`manage.py audit_disclosure` (docs/anonymisation.md). Everything here is a pure function of a
count and its key: protecting a report is linear in its number of cells.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from itertools import accumulate

DEFAULT_K = 11
PRIMARY_MARK = "< {k}"

#: The perturbation table: out of 10 000 positions, how many give each perturbation, for
#: |d| = 0, 1, …, MAX_PERTURBATION (the same for +d and −d). 80 % of published counts are
#: within 1 of the truth, 94 % within 2, and perturbations up to ±10 are rare (0.1 % beyond ±5)
#: but possible: an attacker can never rule them out, which is what keeps a count recomputed
#: from published ones from being pinned down. Mean absolute perturbation: 0.90.
PERTURBATION_WEIGHTS = (4000, 2000, 700, 200, 50, 25, 10, 5, 4, 3, 3)
MAX_PERTURBATION = len(PERTURBATION_WEIGHTS) - 1
POSITIONS = 10_000


def _table() -> tuple[tuple[int, int], ...]:
    """(first position after, perturbation), in the order 0, −1, +1, −2, +2, …"""
    values, weights = [0], [PERTURBATION_WEIGHTS[0]]
    for size, weight in enumerate(PERTURBATION_WEIGHTS[1:], start=1):
        values += [-size, size]
        weights += [weight, weight]
    assert sum(weights) == POSITIONS
    return tuple(zip(accumulate(weights), values, strict=True))


PERTURBATION = _table()


def position(cell_key: int, value: int) -> int:
    """Where a cell reads the perturbation table: a fixed, public mixing of its key and its
    value (the key is what is secret), uniform over the positions."""
    digest = hashlib.blake2b(f"{cell_key}:{value}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % POSITIONS


def perturbation(cell_key: int, value: int) -> int:
    at = position(cell_key, value)
    for end, d in PERTURBATION:
        if at < end:
            return d
    raise AssertionError("position out of the table")  # pragma: no cover


@dataclass(frozen=True)
class Published:
    """A published count: `value` (None when hidden) and how it reads."""

    value: int | None
    display: str
    suppressed: bool = False


def number(value: int | float) -> str:
    """French grouping with a no-break space (in every PDF font, unlike U+202F)."""
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}".replace(",", "\u00a0").replace(".", ",")
    return f"{int(value):,}".replace(",", "\u00a0")


def exact(value: int | float) -> Published:
    return Published(value, number(value))


def hidden(k: int) -> Published:
    return Published(None, PRIMARY_MARK.format(k=k), True)


def protect(value: int, cell_key: int, k: int) -> Published:
    """The published form of a count of persons (or of sessions, appointments, minutes:
    anything that counts records or bounds such a count) of exact `value` and cell key
    `cell_key`: hidden below `k`, and when its perturbed value is below `k`."""
    value = int(value)
    if value < k:
        return hidden(k)
    return perturbed(value, perturbation(cell_key, value), k)


def perturbed(value: int, d: int, k: int) -> Published:
    """The published form of a count `value` that drew the perturbation `d`."""
    if value < k or value + d < k:
        return hidden(k)
    return exact(value + d)


def hidden_values(k: int) -> tuple[int, int]:
    """The exact values a "< k" may stand for: up to k − 1 + MAX_PERTURBATION (a count of
    k or more whose perturbation takes it below k is hidden too)."""
    return 0, k - 1 + MAX_PERTURBATION


def possible_values(published: int, k: int) -> tuple[int, int]:
    """The exact values a published count may stand for (what an attacker knows of it)."""
    return max(k, published - MAX_PERTURBATION), published + MAX_PERTURBATION
