from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from mediation.backup import backup


class Command(BaseCommand):
    help = "Sauvegarde la base de données dans un fichier (var/backups/ par défaut)."

    def add_arguments(self, parser):
        parser.add_argument("--output", help="Fichier de sauvegarde à écrire.")

    def handle(self, *args, output=None, **options):
        if output:
            target = Path(output)
        else:
            stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
            target = Path(settings.VAR_DIR) / "backups" / f"permanence-{stamp}.backup"
        backup(target)
        self.stdout.write(self.style.SUCCESS(f"Sauvegarde écrite : {target}"))
