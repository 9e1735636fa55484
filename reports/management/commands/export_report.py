"""python manage.py export_report --period 2026-Q3 --scope <structure-or-network-slug>
--format pdf|csv|xlsx --output FILE: the anonymised report, as the dashboard downloads it."""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from mediation.models import Network, Structure
from reports import services
from reports.exports import FORMATS
from reports.periods import PeriodError, parse_period


class Command(BaseCommand):
    help = (
        "Écrit le bilan d'activité anonymisé d'une structure ou d'un réseau pour un mois, "
        "un trimestre ou une année entiers."
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
            period = parse_period(period)
        except PeriodError as error:
            raise CommandError(str(error)) from None
        target = Structure.objects.filter(slug=scope).first()
        if target is None:
            target = Network.objects.filter(slug=scope).first()
        if target is None:
            raise CommandError(f"Aucune structure ni aucun réseau n'a l'identifiant « {scope} ».")
        content, _filename = services.report_export(scope=target, period=period, fmt=fmt)
        if output == "-":
            sys.stdout.buffer.write(content)
            return
        path = Path(output)
        if not path.parent.exists():
            raise CommandError(f"Le dossier {path.parent} n'existe pas.")
        path.write_bytes(content)
        kind = "structure" if isinstance(target, Structure) else "réseau"
        self.stdout.write(
            f"Bilan {period.label} du {kind} « {target.name} » ({fmt}, "
            f"{len(content) // 1024 + 1} ko) écrit dans {path}."
        )
