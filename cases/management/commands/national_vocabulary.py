"""python manage.py national_vocabulary [--check]: write `docs/vocabulaire-national.md`, the
table of our codes → the national values, from `cases/national.py`. With `--check`, write
nothing and exit 1 when the committed file differs from what the code generates."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from cases.national import DOC_PATH, vocabulary_markdown


class Command(BaseCommand):
    help = (
        "Écrit docs/vocabulaire-national.md (correspondance des codes de Permanence avec les "
        "valeurs de La Coop de la médiation numérique) depuis cases/national.py."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--check",
            action="store_true",
            help="N'écrit rien ; échoue si le fichier n'est pas à jour.",
        )

    def handle(self, *args, check=False, **options):
        path = Path(settings.BASE_DIR) / DOC_PATH
        text = vocabulary_markdown()
        if check:
            current = path.read_text(encoding="utf-8") if path.exists() else ""
            if current != text:
                raise CommandError(
                    f"{DOC_PATH} n'est pas à jour : lancez manage.py national_vocabulary."
                )
            self.stdout.write(f"{DOC_PATH} est à jour.")
            return
        path.write_text(text, encoding="utf-8")
        self.stdout.write(f"{DOC_PATH} écrit.")
