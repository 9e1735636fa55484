from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MediationConfig(AppConfig):
    name = "mediation"
    verbose_name = _("Structures, lieux et équipes")

    def ready(self):
        from django.contrib.auth.signals import user_logged_in, user_login_failed
        from django.db.models.signals import post_migrate

        from mediation import (
            checks,  # noqa: F401 - registers the system checks
            choice_labels,
            lookups,  # noqa: F401 - registers the lookups
            privacy,  # noqa: F401 - the personal-data registry, with the core's own models
        )
        from mediation.logs import install_redaction
        from mediation.middleware import mark_login
        from mediation.ratelimit import login_failure_count

        install_redaction()
        choice_labels.install()
        user_logged_in.connect(mark_login, dispatch_uid="permanence-mark-login")
        user_login_failed.connect(login_failure_count, dispatch_uid="permanence-login-address")
        post_migrate.connect(_ensure_schedules, sender=self)


def _ensure_schedules(sender, **kwargs):
    # The daily privacy task (retention, access-log purge) and the cluster's heartbeat exist
    # after `migrate`.
    from mediation import health
    from mediation.privacy import ensure_schedules

    ensure_schedules()
    health.ensure_schedules()
