from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = _("API de lecture (outils nationaux)")

    def ready(self):
        from api import privacy  # noqa: F401  (declares the API clients: no resident data)
