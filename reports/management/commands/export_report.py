"""python manage.py export_report --period 2026-Q3 --scope <structure-or-network-slug>
--format pdf|csv|csv-excel|xlsx --output FILE: the anonymised report, as the dashboard downloads it.

Bad input (a period that cannot be read, is not whole or not closed yet, an unknown scope, a
scope with no session nor appointment in the period, a folder that does not exist) is said in
French on stderr with exit code 2, and nothing is written: the file is written whole, through
a temporary file renamed into place, or not at all."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from mediation.models import Network, Structure
from reports import services
from reports.exports import FORMATS
from reports.indicators import has_activity
from reports.periods import PeriodError, parse_period, require_closed

BAD_INPUT = 2


def bad_input(message: str) -> CommandError:
    return CommandError(message, returncode=BAD_INPUT)


class Command(BaseCommand):
    help = (
        "Écrit le bilan d'activité anonymisé d'une structure ou d'un réseau pour un mois, "
        "un trimestre ou une année entiers et clos."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--period", required=True, help="2026-Q3 (trimestre), 2026-07 (mois) ou 2026 (année)."
        )
        parser.add_argument(
            "--scope", required=True, help="Identifiant (slug) d'une structure ou d'un réseau."
        )
        parser.add_argument("--format", required=True, choices=sorted(FORMATS))
        parser.add_argument(
            "--output", required=True, help="Fichier à écrire (- : sortie standard)."
        )

    def handle(self, *, period, scope, output, **options):
        fmt = options["format"]
        try:
            period = require_closed(parse_period(period))
        except PeriodError as error:
            raise bad_input(str(error)) from None
        target = Structure.objects.filter(slug=scope).first()
        if target is None:
            target = Network.objects.filter(slug=scope).first()
        if target is None:
            raise bad_input(f"Aucune structure ni aucun réseau n'a l'identifiant « {scope} ».")
        kind = "la structure" if isinstance(target, Structure) else "le réseau"
        if not has_activity(target, period):
            raise bad_input(
                f"Aucune séance ni aucun rendez-vous pour {kind} « {target.name} » "
                f"({period.label}) : pas de bilan à écrire."
            )
        path = None if output == "-" else Path(output)
        if path is not None and not path.parent.is_dir():
            raise bad_input(f"Le dossier {path.parent} n'existe pas.")
        try:
            content, _filename = services.report_export(scope=target, period=period, fmt=fmt)
        except PeriodError as error:
            raise bad_input(str(error)) from None
        if path is None:
            sys.stdout.buffer.write(content)
            return
        _write_whole(path, content)
        self.stdout.write(
            f"Bilan {period.label} de {kind} « {target.name} » ({fmt}, "
            f"{len(content) // 1024 + 1} ko) écrit dans {path}."
        )


def _write_whole(path: Path, content: bytes) -> None:
    """Write `content` to `path` all at once: a reader (or a crash) never sees half a file."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(content)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # as an ordinary write would (mkstemp: 0600)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
