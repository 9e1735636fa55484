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
        from cases.views import day as views_day
        from cases.views import sessions as views_sessions
        from mediation.day import register_day_panel
        from mediation.navigation import register_nav_count

        # Bookings never imports cases: the agenda offers what cases registers here.
        register_appointment_action(
            _("Terminer et saisir"),
            "session_from_appointment",
            views_sessions.offers_session_logging,
            key="cases.session_log",
            prepare=views_sessions.mark_logged_appointments,
            style="btn-primary",
            day_label=_("Honoré → saisir l'accompagnement"),
        )
        register_appointment_action(
            _("Saisir l'atelier"),
            "workshop_from_appointment",
            views_sessions.offers_workshop_logging,
            key="cases.workshop_log",
            prepare=views_sessions.mark_logged_workshops,
            style="btn-primary",
        )
        register_appointment_action(
            _("Voir la saisie"),
            views_sessions.logged_session_url,
            views_sessions.has_logged_session,
            key="cases.session_view",
        )
        # "Ma journée" on the home page: the walk-in button first, the follow-ups due last.
        register_day_panel(
            key="cases.walk_in",
            order=10,
            template="cases/day/_walk_in.html",
            context=views_day.walk_in_panel,
        )
        register_day_panel(
            key="cases.followups",
            order=40,
            template="cases/day/_followups.html",
            context=views_day.followups_panel,
        )
        # The number beside "Suivis" in the menu: counted by the navigation's own query.
        register_nav_count("followups", followups_count)
