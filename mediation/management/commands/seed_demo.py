from django.core.management.base import BaseCommand

from mediation.demo import (
    DEMO_ACCOUNTS,
    DEMO_PASSWORD,
    OPERATOR_EMAIL,
    demo_totp_device,
    demo_totp_secret,
    demo_totp_uri,
    give_demo_accounts_their_second_factor,
    seed_demo,
)


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
            # A base filled before two-factor authentication: its demo accounts get their
            # fixed app, so that the logins printed below work.
            give_demo_accounts_their_second_factor()
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
        accounts = [(a.email, a.label) for a in DEMO_ACCOUNTS]
        accounts.append((OPERATOR_EMAIL, "opérateur de la plateforme (/operateurs/)"))
        users = {u.email: u for u in User.objects.filter(email__in=[e for e, _ in accounts])}
        with_code = False
        for email, label in accounts:
            user = users.get(email)
            if user is None:  # a base filled by an older demo (`--if-empty`): not there
                continue
            self.stdout.write(f"  {email:<42} {label}")
            if demo_totp_device(user) is not None:
                with_code = True
                self.stdout.write(
                    f"  {'':<42} double authentification, clé TOTP : {demo_totp_secret(email)}"
                )
                self.stdout.write(f"  {'':<42} {demo_totp_uri(user)}")
        if with_code:
            self.stdout.write(
                "Code à 6 chiffres : affiché sur la page du code en démonstration, ou "
                "`.venv/bin/python manage.py demo_totp` (ou la clé dans une application "
                "d'authentification)."
            )
