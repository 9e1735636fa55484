from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from mediation.backup import restore


class Command(BaseCommand):
    help = "Remplace le contenu de la base de données par une sauvegarde."

    def add_arguments(self, parser):
        parser.add_argument("file", help="Fichier écrit par `manage.py backup`.")
        parser.add_argument("--yes", action="store_true", help="Ne pas demander de confirmation.")

    def handle(self, *args, file, yes=False, **options):
        source = Path(file)
        if not source.exists():
            raise CommandError(f"Fichier introuvable : {source}")
        if not yes:
            answer = input("Toutes les données actuelles seront remplacées. Continuer ? [oui/non] ")
            if answer.strip().lower() not in {"oui", "o", "yes", "y"}:
                raise CommandError("Restauration annulée.")
        restore(source)
        self.stdout.write(self.style.SUCCESS(f"Base restaurée depuis {source}"))
