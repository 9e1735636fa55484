"""python manage.py audit_disclosure --scope <network-or-structure-slug> --year 2026
[--csv-dir DIR] [--seed-csv-dir DIR] [--verbose]: the disclosure attack (reports.audit) on every
published CSV of a network and its structures (or of a lone structure) for the closed periods
of a year. Exit 0: nothing small recovered; 1: a count of 1 to 10 recovered within ±2, or a
closed period republished differently; 2: bad input (nothing written)."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from reports import audit
from reports.periods import MAX_YEAR, MIN_YEAR

FAMILY_LABELS = {
    audit.WITHIN_REPORT: "dans un même bilan",
    audit.PERIODS: "entre périodes",
    audit.SCOPES: "entre périmètres",
    audit.COMBINED: "combinée",
}
SHOWN = 30


def _bad(message: str) -> CommandError:
    return CommandError(message, returncode=2)


class Command(BaseCommand):
    help = (
        "Audit de divulgation : tente de retrouver les petits effectifs masqués des bilans "
        "anonymisés publiés (CSV) d'un réseau et de ses structures, ou d'une structure, pour "
        "les périodes closes d'une année. Code de sortie 1 si un effectif de 1 à 10 est "
        "retrouvé à ±2 près ou si une période close a été republiée différemment, 2 si "
        "l'entrée est invalide."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--scope", required=True, help="Identifiant (slug) d'un réseau ou d'une structure."
        )
        parser.add_argument("--year", required=True, type=int, help="Année auditée (ex. 2026).")
        parser.add_argument(
            "--csv-dir",
            help="Lire les bilans dans ce dossier (bilan-<slug>-<période>.csv, et "
            "structures.csv : network,structure) au lieu de la base.",
        )
        parser.add_argument(
            "--seed-csv-dir",
            help="Écrire aussi les bilans lus en base dans ce dossier, relisible par --csv-dir.",
        )
        parser.add_argument(
            "--verbose", action="store_true", help="Détail par composante et par case."
        )

    def handle(self, *, scope, year, csv_dir=None, seed_csv_dir=None, verbose=False, **options):
        if not MIN_YEAR <= year <= MAX_YEAR:
            raise _bad(f"Année {year} invalide : attendu entre {MIN_YEAR} et {MAX_YEAR}.")
        today = timezone.localdate()
        truth = None
        if csv_dir:
            family, publications = self._from_directory(csv_dir, scope, year)
        else:
            family, publications, truth = self._from_database(scope, year, today)
            if seed_csv_dir:
                audit.write_directory(seed_csv_dir, publications, family)
                self.stdout.write(f"Bilans écrits dans {seed_csv_dir}.")
        progress = self.stdout.write if verbose else None
        result = audit.run(publications, family, truth=truth, progress=progress)
        self._report(result, family, year, verbose, known=truth is not None)
        if result.failed:
            raise CommandError(
                f"Audit échoué : {len(result.small)} petit(s) effectif(s) retrouvé(s) à ±2 "
                f"près, {len(result.versions)} différence(s) entre versions, "
                f"{result.inconsistent} case(s) non vérifiée(s) (équations contredites).",
                returncode=1,
            )

    # --- Input
    def _from_database(self, slug: str, year: int, today):
        from cases.models import HelpSession
        from mediation.models import Network, Structure

        obj = Network.objects.filter(slug=slug).first() or (
            Structure.objects.filter(slug=slug).first()
        )
        if obj is None:
            raise _bad(f"Aucun réseau ni aucune structure n'a l'identifiant « {slug} ».")
        if year > today.year:
            raise _bad(f"L'année {year} n'a pas commencé : aucun bilan n'est encore publié.")
        periods = audit.closed_periods(year, today)
        if not periods:
            raise _bad(f"Aucune période de {year} n'est encore close : rien n'est publié.")
        family, scopes = audit.scopes_of(obj)
        structures = [o for kind, o in scopes if kind == audit.STRUCTURE]
        if not HelpSession.objects.filter(structure__in=structures, date__year=year).exists():
            raise _bad(f"Aucune séance en {year} pour « {obj.name} » : rien à auditer.")
        publications = audit.collect_database(scopes, periods)
        truth = audit.truth_of(scopes, periods)
        return family, publications, truth

    def _from_directory(self, directory: str, slug: str, year: int):
        if not Path(directory).is_dir():
            raise _bad(f"Le dossier {directory} n'existe pas.")
        networks = audit.read_manifest(directory)
        if slug in networks:
            family = audit.Family(slug, tuple(networks[slug]))
        else:
            family = audit.Family(None, (slug,))
        publications = audit.collect_directory(directory, family, year)
        if not any(p.scope == slug for p in publications):
            raise _bad(f"Aucun bilan de « {slug} » pour {year} dans {directory}.")
        return family, publications

    # --- Output
    def _report(self, result: audit.Audit, family, year, verbose: bool, known: bool) -> None:
        write = self.stdout.write
        who = f"réseau « {family.network} »" if family.network else f"« {family.structures[0]} »"
        write(
            f"Audit de divulgation — {who}, {year} : {result.publications} bilans CSV lus "
            f"({len(family.structures)} structure(s))."
        )
        write(
            f"Lignes publiées : {result.rows} ; comptes distincts : {result.cells} ; "
            f"lignes masquées : {result.hidden_rows} ; comptes de personnes attaqués : "
            f"{result.attacked}."
        )
        write(
            f"Retrouvés exactement : {len(result.exact)} ; à ±2 près : "
            f"{len(result.recoveries)}, dont {len(result.small)} "
            f"{'vrais effectifs' if known else 'effectifs possibles'} de 1 à 10."
        )
        families = result.by_family()
        write(
            "Par famille d'attaque : "
            + ", ".join(f"{FAMILY_LABELS[name]} {families[name]}" for name in audit.FAMILIES)
            + f" ; versions différentes : {len(result.versions)}."
        )
        if result.conservative:
            write("« < k » lus comme 0 à k−1 (la lecture stricte contredisait les chiffres).")
        if result.contradicted:
            write(
                f"Attention : {len(result.contradicted)} case(s) retrouvée(s) hors de leur vraie "
                f"valeur : une hypothèse de l'audit est fausse."
            )
        if result.inconsistent:
            write(f"Attention : {result.inconsistent} case(s) dans des composantes incohérentes.")
        shown = result.recoveries if verbose else result.recoveries[:SHOWN]
        for recovery in shown:
            report, row = recovery.where[0]
            low, high = recovery.range.integer
            true = "" if recovery.true is None else f", vraie valeur {recovery.true:g}"
            write(
                f"  {report[1]} {report[2]} {row.indicator} {row.dimension or '(chiffre)'} "
                f"« {row.mark} » → [{low}, {high}] ({FAMILY_LABELS[recovery.family]}{true})"
            )
        if len(shown) < len(result.recoveries):
            write(f"  … et {len(result.recoveries) - len(shown)} autres (--verbose).")
        for finding in result.versions[: None if verbose else SHOWN]:
            write(
                f"  version : {finding.report[1]} {finding.report[2]} {finding.indicator} "
                f"{finding.dimension or '(chiffre)'} : {finding.first} puis {finding.second} "
                f"({finding.sources[0]} / {finding.sources[1]})"
            )
        write(result.summary())
