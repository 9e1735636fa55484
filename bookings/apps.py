from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BookingsConfig(AppConfig):
    name = "bookings"
    verbose_name = _("Rendez-vous")

    def ready(self):
        from bookings import demo  # noqa: F401  (registers the demo step)
