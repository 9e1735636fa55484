"""Write the project's list of French communes (`mediation/data/communes.csv.gz`) from the
`communes.json` of Etalab's `@etalab/decoupage-administratif` package (MIT licence).

    cd /tmp/etalab && npm pack @etalab/decoupage-administratif@6.0.0 && tar xzf *.tgz
    manage.py communes_build /tmp/etalab/package/data/communes.json

The written file is committed: nothing is downloaded at run time (`mediation/communes.py`
reads it). Rows, sorted by code (one a line, the same input gives the same bytes):

    code, name, postcodes (space-separated), département, population, kind, parent

kind "c": a current commune; "a": a municipal arrondissement of Paris, Lyon or Marseille
(parent: the city); "o": an old code (a merged commune, a delegated or associated one, or a
code changed: Corsica's 20xxx) kept so that records typed before the change still show a name
(parent: the current commune it belongs to)."""

from __future__ import annotations

import csv
import gzip
import io
import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from mediation.communes import DATA_FILE

KINDS = {"commune-actuelle": "c", "arrondissement-municipal": "a"}
OLD_KINDS = ("commune-deleguee", "commune-associee")


def build_rows(records: list[dict]) -> list[list[str]]:
    rows: dict[str, list[str]] = {}
    for record in records:
        kind = KINDS.get(record["type"])
        if kind is None:
            continue
        rows[record["code"]] = [
            record["code"],
            record["nom"],
            " ".join(record.get("codesPostaux") or []),
            record.get("departement", ""),
            str(record.get("population") or ""),
            kind,
            record.get("commune", "") if kind == "a" else "",
        ]
    # A delegated or associated commune keeps its own name under its old code.
    for record in records:
        if record["type"] in OLD_KINDS and record["code"] not in rows:
            parent = record.get("chefLieu", "")
            rows[record["code"]] = [
                record["code"],
                record["nom"],
                "",
                record.get("departement", ""),
                "",
                "o",
                parent if parent in rows else "",
            ]
    # Other old codes (merged communes without a delegated one, Corsica before 1976): the name
    # of the commune they became.
    for record in records:
        if record["type"] != "commune-actuelle":
            continue
        for old in record.get("anciensCodes") or []:
            if old not in rows:
                rows[old] = [
                    old,
                    record["nom"],
                    "",
                    record.get("departement", ""),
                    "",
                    "o",
                    record["code"],
                ]
    return [rows[code] for code in sorted(rows)]


def write(rows: list[list[str]], path: Path) -> None:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["code", "name", "postcodes", "departement", "population", "kind", "parent"])
    writer.writerows(rows)
    # mtime=0: the same rows give the same bytes (a rebuild shows no diff).
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as gz:
        gz.write(out.getvalue().encode("utf-8"))


class Command(BaseCommand):
    help = "Écrit la liste des communes (mediation/data/communes.csv.gz) depuis communes.json."

    def add_arguments(self, parser):
        parser.add_argument("source", help="communes.json de @etalab/decoupage-administratif")
        parser.add_argument("--output", default=str(DATA_FILE))

    def handle(self, *args, source, output, **options):
        try:
            records = json.loads(Path(source).read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise CommandError(f"Lecture impossible de {source} : {error}") from error
        rows = build_rows(records)
        write(rows, Path(output))
        counts = {kind: sum(1 for row in rows if row[5] == kind) for kind in "cao"}
        self.stdout.write(
            f"{len(rows)} codes écrits dans {output} : {counts['c']} communes, "
            f"{counts['a']} arrondissements municipaux, {counts['o']} anciens codes."
        )
