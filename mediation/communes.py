"""French communes by name: the official list (INSEE code, name, postcodes, département),
shipped as `mediation/data/communes.csv.gz` and read once per process, lazily. Nothing is
downloaded at run time; `manage.py communes_build` rewrites the file from Etalab's
`@etalab/decoupage-administratif` (see docs/architecture.md, "Communes").

Every floor stores a commune as its INSEE code (`Place.insee_code`, `Resident.commune_insee`,
`HelpSession.other_commune_insee`) and shows it through this module:

- `commune_label("35126")` → "Guichen (35126)"; `commune_name("35126")` → "Guichen";
  an unknown code → "35999 (commune inconnue)", never an exception;
- `commune_exists(code)`: a current commune or a municipal arrondissement (Paris, Lyon,
  Marseille); old codes (merged, delegated communes, Corsica's 20xxx) have a name for display
  (`commune_name`) and `commune_current` gives the commune they belong to now;
- `commune_search(query)`: by name (accents, case, hyphens and "st"/"ste" do not matter; the
  names that start with the words first, then those with a word that does, larger communes
  first) or by postcode or INSEE code (prefix);
- `commune_resolve(text)`: what a person typed in a commune field ("Guichen", "35580",
  "35126", "Guichen (35126)", "Saint-Denis 97400") → the code, or the candidates.
"""

from __future__ import annotations

import bisect
import csv
import functools
import gzip
import io
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

DATA_FILE = Path(__file__).resolve().parent / "data" / "communes.csv.gz"
#: Where the list comes from (said in docs/architecture.md too).
SOURCE = "@etalab/decoupage-administratif 6.0.0 (Etalab, licence MIT)"

CURRENT, ARRONDISSEMENT, OLD = "c", "a", "o"
UNKNOWN_MARK = "commune inconnue"

_CODE = re.compile(r"^(?:\d{5}|2[AB]\d{3})$", re.IGNORECASE)
_CODE_PREFIX = re.compile(r"^(?:\d{1,5}|2[AB]\d{0,3})$", re.IGNORECASE)
#: "Guichen (35126)": the label the picker fills in and the field shows back.
_LABELLED = re.compile(r"^(?P<name>.*?)\s*\((?P<code>\d{5}|2[AB]\d{3})\)\s*$", re.IGNORECASE)
_NON_WORD = re.compile(r"[^a-z0-9]+")
#: Abbreviations people type for the words of names.
#: Above this many matches of a prefix, the largest communes are picked by a scan in order of
#: population rather than by sorting every match.
_MANY = 300
_ABBREVIATIONS = {"st": "saint", "ste": "sainte", "sts": "saints", "stes": "saintes"}


@dataclass(frozen=True, slots=True)
class Commune:
    code: str
    name: str
    postcodes: tuple[str, ...]
    departement: str
    population: int
    kind: str  # CURRENT, ARRONDISSEMENT or OLD
    parent: str  # the city of an arrondissement, the current commune of an old code

    @property
    def label(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def detail(self) -> str:
        """What tells two communes of one name apart: postcodes and département."""
        postcodes = ", ".join(self.postcodes[:3]) + (" …" if len(self.postcodes) > 3 else "")
        return " · ".join(part for part in (postcodes, f"dép. {self.departement}") if part)


def normalise(text: str) -> str:
    """Lower case, no accents, words separated by one space, abbreviations spelt out:
    "St-Ouen-l'Aumône" → "saint ouen l aumone"."""
    text = (text or "").lower().replace("œ", "oe").replace("æ", "ae")
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    words = _NON_WORD.sub(" ", plain).split()
    if any(word in _ABBREVIATIONS for word in words):
        words = [_ABBREVIATIONS.get(word, word) for word in words]
    return " ".join(words)


def _normalise_all(names: list[str]) -> list[str]:
    """`normalise` of many names at once (one pass over the joined text: the list loads in a
    fraction of the time)."""
    joined = "\n".join(names).lower().replace("œ", "oe").replace("æ", "ae")
    plain = unicodedata.normalize("NFKD", joined).encode("ascii", "ignore").decode("ascii")
    lines = re.sub(r"[^a-z0-9\n]+", " ", plain).split("\n")
    keys = [" ".join(line.split()) for line in lines]
    return [
        normalise(key) if any(w in _ABBREVIATIONS for w in key.split()) else key for key in keys
    ]


class _Index:
    def __init__(self, communes: list[Commune]):
        self.by_code = _by_code()
        selectable = [c for c in communes if c.kind != OLD]
        # (key, code): the whole name, then each later word to the end ("denis" finds
        # Saint-Denis), sorted for prefix searches by bisection.
        names, words = [], []
        self.exact: dict[str, list[Commune]] = {}
        keys = dict(
            zip(
                (c.code for c in selectable),
                _normalise_all([c.name for c in selectable]),
                strict=True,
            )
        )
        for commune in selectable:
            key = keys[commune.code]
            names.append((key, commune.code))
            self.exact.setdefault(key, []).append(commune)
            parts = key.split(" ")
            for start in range(1, len(parts)):
                words.append((" ".join(parts[start:]), commune.code))
        self.names = sorted(names)
        self.words = sorted(words)
        self.postcodes = sorted(
            {(postcode, c.code) for c in selectable for postcode in c.postcodes}
        )
        self.codes = sorted(c.code for c in selectable)
        # The largest first, with their keys: a short prefix ("s", "3") matches thousands of
        # names, of which only the first few largest are wanted.
        self.by_population = [
            (keys[c.code], c)
            for c in sorted(selectable, key=lambda c: (-c.population, c.name, c.code))
        ]
        # Likewise the communes of each postcode's first one or two digits, largest first.
        self.by_postcode_start: dict[str, list[Commune]] = {}
        for _key, commune in self.by_population:
            for start in {p[:n] for p in commune.postcodes for n in (1, 2)}:
                self.by_postcode_start.setdefault(start, []).append(commune)

    @staticmethod
    def _prefixed(entries: list[tuple[str, str]], prefix: str) -> list[tuple[str, str]]:
        start = bisect.bisect_left(entries, (prefix, ""))
        end = bisect.bisect_left(entries, (prefix + "\uffff", ""))
        return entries[start:end]


@functools.cache
def _by_code() -> dict[str, Commune]:
    """Every code of the file: what labels need (pages and reports pay for no search index)."""
    with gzip.open(DATA_FILE, "rt", encoding="utf-8", newline="") as source:
        rows = csv.reader(io.StringIO(source.read()))
        next(rows)  # the header
        return {
            code: Commune(code, name, tuple(postcodes.split()), dep, int(pop or 0), kind, parent)
            for code, name, postcodes, dep, pop, kind, parent in rows
        }


@functools.cache
def _index() -> _Index:
    """The search indexes, built on the first search."""
    return _Index(list(_by_code().values()))


def _clean_code(code) -> str:
    return str(code or "").strip().upper()


def commune_get(code) -> Commune | None:
    """The commune (or arrondissement, or old code) of an INSEE code, None if unknown."""
    return _by_code().get(_clean_code(code))


def commune_exists(code) -> bool:
    """A current commune or a municipal arrondissement: what a field accepts."""
    commune = commune_get(code)
    return commune is not None and commune.kind != OLD


def commune_current(code) -> Commune | None:
    """The commune to record for `code`: itself, or for an old code the commune it belongs to
    now. None when unknown."""
    commune = commune_get(code)
    if commune is None or commune.kind != OLD:
        return commune
    return commune_get(commune.parent) if commune.parent else None


def commune_name(code) -> str:
    """The name of the commune of `code`; "" for no code; the code itself when unknown."""
    code = _clean_code(code)
    if not code:
        return ""
    commune = commune_get(code)
    return commune.name if commune is not None else code


def commune_label(code) -> str:
    """The label of `code`: "Guichen (35126)"; "" for no code; "35999 (commune inconnue)"."""
    code = _clean_code(code)
    if not code:
        return ""
    commune = commune_get(code)
    if commune is None:
        return f"{code} ({UNKNOWN_MARK})"
    return commune.label


def commune_search(query: str, limit: int = 10) -> list[Commune]:
    """Current communes and arrondissements matching `query`, best first, at most `limit`.

    Digits (or 2A/2B…): an INSEE code or a postcode, whole or its beginning. Words: the names
    that are the words (exact), start with them, then the names with a later word that starts
    with them; within each, the larger commune first."""
    index = _index()
    text = (query or "").strip()
    if not text or limit <= 0:
        return []
    by_code = index.by_code
    ranked: dict[str, tuple] = {}

    def add(code: str, tier: int) -> None:
        commune = by_code[code]
        rank = (tier, -commune.population, commune.name, code)
        if code not in ranked or rank < ranked[code]:
            ranked[code] = rank

    compact = text.replace(" ", "")
    if _CODE_PREFIX.match(compact):
        code = compact.upper()
        if code in by_code and by_code[code].kind != OLD:
            add(code, 0)
        matches = index._prefixed(index.postcodes, code)
        if len(matches) > _MANY and len(code) <= 2:
            for commune in index.by_postcode_start.get(code, ())[:limit]:
                add(commune.code, 2)
        else:
            for postcode, found in matches:
                add(found, 1 if postcode == code else 2)
        if len(ranked) < limit:
            for found in index.codes[
                bisect.bisect_left(index.codes, code) : bisect.bisect_left(
                    index.codes, code + "\uffff"
                )
            ][:limit]:
                add(found, 3)
    else:
        digits = " ".join(re.findall(r"\d{5}", text))
        key = normalise(re.sub(r"\d{5}", " ", text))
        if not key:
            return []
        for commune in index.exact.get(key, ()):
            add(commune.code, 0)
        matches = index._prefixed(index.names, key)
        if len(matches) > _MANY and not digits:
            for name_key, commune in index.by_population:
                if len(ranked) >= limit:
                    break
                if name_key.startswith(key):
                    add(commune.code, 1)
        else:
            for name_key, code in matches:
                add(code, 0 if name_key == key else 1)
        if len(ranked) < limit:
            for _word_key, code in index._prefixed(index.words, key):
                add(code, 2)
        if digits:
            wanted = set(digits.split())
            ranked = {
                code: rank
                for code, rank in ranked.items()
                if wanted & set(by_code[code].postcodes) or code in wanted
            }
    best = sorted(ranked.values())[:limit]
    return [by_code[rank[3]] for rank in best]


@dataclass(frozen=True)
class Resolution:
    """What a typed text names: `commune` when exactly one, else the `candidates` (best
    first, at most 10, maybe none)."""

    commune: Commune | None
    candidates: list[Commune]


def commune_resolve(text: str) -> Resolution:
    """The commune a person meant by `text`, if it names exactly one.

    "Guichen (35126)" (the label) → its code; "35126" → the commune of that INSEE code, unless
    it is also the postcode of other communes (then they are all candidates); "35580" → the
    commune of that postcode when it has only one; "Guichen" → the one commune of that exact
    name (accents, case and hyphens aside); "Saint-Denis 97400" → the one of that name with that
    postcode. An old code resolves to the commune it belongs to now."""
    text = " ".join((text or "").split())
    if not text:
        return Resolution(None, [])
    labelled = _LABELLED.match(text)
    if labelled:
        commune = commune_current(labelled.group("code"))
        if commune is not None:
            return Resolution(commune, [commune])
        text = labelled.group("name") or labelled.group("code")
    compact = text.replace(" ", "")
    if _CODE.match(compact):
        code = compact.upper()
        commune = commune_current(code)
        by_postcode = [
            _index().by_code[found]
            for _p, found in _index()._prefixed(_index().postcodes, code)
            if _p == code
        ]
        candidates = list(dict.fromkeys(([commune] if commune else []) + by_postcode))
        candidates.sort(key=lambda c: (c is not commune, -c.population, c.name))
        if len(candidates) == 1:
            return Resolution(candidates[0], candidates)
        return Resolution(None, candidates[:10])
    candidates = commune_search(text, limit=10)
    key = normalise(re.sub(r"\d{5}", " ", text))
    exact = [c for c in candidates if normalise(c.name) == key]
    if len(exact) == 1:
        return Resolution(exact[0], candidates)
    if len(candidates) == 1 and re.search(r"\d{5}", text):
        # A name and a postcode that single out one commune.
        return Resolution(candidates[0], candidates)
    return Resolution(None, exact or candidates)
