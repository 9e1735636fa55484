from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = _("Accompagnements et dossiers")

    def ready(self):
        from bookings.actions import register_appointment_action
        from cases import (
            demo,  # noqa: F401  (registers the demo step: residents, bookings, sessions)
            privacy,  # noqa: F401  (declares the personal data of cases)
        )
        from cases.selectors.cases import followups_count
        from cases.views import sessions as views_sessions
        from mediation.navigation import register_nav_count

        # Bookings never imports cases: the agenda offers what cases registers here.
        register_appointment_action(
            _("Terminer et saisir"),
            "session_from_appointment",
            views_sessions.offers_session_logging,
            key="cases.session_log",
            prepare=views_sessions.mark_logged_appointments,
            style="btn-primary",
        )
        register_appointment_action(
            _("Voir la saisie"),
            views_sessions.logged_session_url,
            views_sessions.has_logged_session,
            key="cases.session_view",
        )
        # The number beside "Suivis" in the menu: counted by the navigation's own query.
        register_nav_count("followups", followups_count)
