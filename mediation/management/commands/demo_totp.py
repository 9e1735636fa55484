import time

from django.core.management.base import BaseCommand

from mediation.demo import DEMO_EMAILS, demo_current_code, demo_totp_secret


class Command(BaseCommand):
    help = (
        "Affiche le code de double authentification du moment des comptes de démonstration "
        "(leur clé TOTP est fixe et publique : démonstration seulement)."
    )

    def handle(self, *args, **options):
        from mediation.models import User

        users = User.objects.filter(email__in=DEMO_EMAILS).order_by("email")
        lines = []
        for user in users:
            code = demo_current_code(user)
            if code is not None:
                lines.append(
                    f"  {user.email:<36} {code[:3]} {code[3:]}   clé {demo_totp_secret(user.email)}"
                )
        if not lines:
            self.stdout.write("Aucun compte de démonstration avec double authentification.")
            return
        left = 30 - int(time.time()) % 30
        self.stdout.write(f"Codes de double authentification (valables encore {left} s) :")
        for line in lines:
            self.stdout.write(line)
