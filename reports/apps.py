from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = _("Bilans d'activité")

    def ready(self):
        from reports import (
            demo,  # noqa: F401  (registers the demo step)
            privacy,  # noqa: F401  (declares the personal data of reports)
        )

        post_migrate.connect(_ensure_schedules, sender=self)


def _ensure_schedules(sender, **kwargs):
    from reports.services import ensure_schedules

    ensure_schedules()
