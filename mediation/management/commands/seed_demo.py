from django.core.management.base import BaseCommand

from mediation.demo import DEMO_ACCOUNTS, DEMO_PASSWORD, OPERATOR_EMAIL, seed_demo


class Command(BaseCommand):
    help = "Charge les données de démonstration (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Ne rien faire si la base contient déjà des structures.",
        )

    def handle(self, *args, if_empty=False, **options):
        from mediation.models import Structure

        if if_empty and Structure.objects.exists():
            self.stdout.write("Base déjà remplie : données de démonstration non rechargées.")
        else:
            context = seed_demo()
            self.stdout.write(
                self.style.SUCCESS(
                    f"Données de démonstration prêtes : {len(context['structures'])} structures, "
                    f"{len(context['users'])} comptes."
                )
            )
        from mediation.models import User

        if not User.objects.filter(email=DEMO_ACCOUNTS[0].email).exists():
            return
        self.stdout.write(f"Comptes de démonstration (mot de passe : {DEMO_PASSWORD}) :")
        for account in DEMO_ACCOUNTS:
            self.stdout.write(f"  {account.email:<36} {account.label}")
        self.stdout.write(f"  {OPERATOR_EMAIL:<36} opérateur de la plateforme (/operateurs/)")
