from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BookingsConfig(AppConfig):
    name = "bookings"
    verbose_name = _("Rendez-vous")

    def ready(self):
        from django.db.models.signals import post_migrate

        from bookings import privacy  # noqa: F401  (declares the personal data of bookings)
        from bookings.views import day
        from mediation.day import register_day_panel

        post_migrate.connect(_ensure_schedules, sender=self)
        # "Ma journée" on the home page: today's appointments and workshops, refreshed live.
        register_day_panel(
            key="bookings.appointments",
            order=20,
            template="bookings/day/_appointments.html",
            context=day.appointments_panel,
            refresh_seconds=day.REFRESH_SECONDS,
        )


def _ensure_schedules(sender, **kwargs):
    # The every-minute sender of due messages (reminders, retries) exists after `migrate`.
    from bookings.tasks import ensure_schedules

    ensure_schedules()
