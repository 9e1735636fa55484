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
        _register_structure_links()


def _register_structure_links():
    from mediation.structure_links import register_structure_link

    def to_reassign(user, structure):
        from bookings.selectors import appointments_to_reassign

        return appointments_to_reassign(user, structure).count()

    register_structure_link(
        key="bookings.reassign",
        label=_("Rendez-vous à réaffecter"),
        url_name="agenda_reassign_list",
        action="book_at_desk",
        count=to_reassign,
    )


def _ensure_schedules(sender, **kwargs):
    # The every-minute sender of due messages (reminders, retries) exists after `migrate`.
    from bookings.tasks import ensure_schedules

    ensure_schedules()
