from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, reverse_lazy

from mediation import health
from mediation.views import audit as views_audit
from mediation.views import communes as views_communes
from mediation.views import favicon as views_favicon
from mediation.views import staff as views
from mediation.views import two_factor as two_factor_views

handler400 = "mediation.views.staff.error_400"
handler403 = "mediation.views.staff.error_403"
handler404 = "mediation.views.staff.error_404"
handler500 = "mediation.views.staff.error_500"

# The operators' admin signs in through the staff login and its second factor.
admin.site.login = two_factor_views.operators_login

account_patterns = [
    path("", two_factor_views.account, name="account"),
    path("connexion/", views.LoginView.as_view(), name="login"),
    path("connexion/code/", two_factor_views.login_code, name="login_code"),
    path(
        "double-authentification/activer/",
        two_factor_views.two_factor_setup,
        name="two_factor_setup",
    ),
    path(
        "double-authentification/codes-de-secours/",
        two_factor_views.two_factor_codes,
        name="two_factor_codes",
    ),
    path(
        "double-authentification/codes-de-secours/nouveaux/",
        two_factor_views.two_factor_regenerate,
        name="two_factor_regenerate",
    ),
    path(
        "double-authentification/desactiver/",
        two_factor_views.two_factor_disable,
        name="two_factor_disable",
    ),
    path("deconnexion/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "mot-de-passe/",
        auth_views.PasswordChangeView.as_view(success_url=reverse_lazy("password_change_done")),
        name="password_change",
    ),
    path(
        "mot-de-passe/modifie/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path(
        "mot-de-passe-oublie/",
        views.PasswordResetView.as_view(),
        name="password_reset",
    ),
    path(
        "mot-de-passe-oublie/envoye/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "mot-de-passe-oublie/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "mot-de-passe-oublie/termine/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path(
        "bienvenue/<uidb64>/<token>/",
        views.InvitationAcceptView.as_view(),
        name="invitation_accept",
    ),
]

structure_patterns = [
    path("", views.structure_home, name="structure_home"),
    path("informations/", views.structure_edit, name="structure_edit"),
    path("lieux/", views.place_list, name="place_list"),
    path("lieux/nouveau/", views.place_edit, name="place_create"),
    path("lieux/<int:place>/", views.place_edit, name="place_edit"),
    path("equipe/", views.team, name="team"),
    path("equipe/inviter/", views.team_invite, name="team_invite"),
    path("equipe/<int:membership>/", views.membership_edit, name="membership_edit"),
    path("equipe/<int:membership>/retirer/", views.membership_remove, name="membership_remove"),
    path(
        "equipe/<int:membership>/double-authentification/",
        two_factor_views.membership_two_factor_reset,
        name="membership_two_factor_reset",
    ),
    # Bookings (structure side): settings of the booking service, the desk agenda, messages.
    path("rdv/", include("bookings.urls.admin")),
    path("agenda/", include("bookings.urls.agenda")),
    path("messages/", include("bookings.urls.outbox")),
    # Activity log, residents and their cases.
    path("accompagnements/", include("cases.urls.sessions")),
    path("usagers/", include("cases.urls.residents")),
    path("dossiers/", include("cases.urls.cases")),
    # Access log (coordinators and structure admins).
    path("journal/", views_audit.access_journal, name="access_journal"),
    # Activity reports for funders.
    path("bilans/", include("reports.urls.structure")),
    # The read API's clients (structure admins).
    path("api/", include("api.urls.structure")),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("ma-journee/", views.day_panel, name="day_panel"),
    path("healthz", health.healthz, name="healthz"),
    path("favicon.ico", views_favicon.favicon, name="favicon"),
    path("compte/", include(account_patterns)),
    # The commune pickers' suggestions (reference data, any signed-in staff member).
    path("communes/", views_communes.commune_suggestions, name="commune_suggestions"),
    path("s/<slug:structure>/", include(structure_patterns)),
    # "Accueillir quelqu'un sans rendez-vous": to the session form of the user's structure.
    path("accueil/", include("cases.urls.desk")),
    path("reseaux/<slug:network>/bilans/", include("reports.urls.network")),
    path("reseaux/<slug:network>/api/", include("api.urls.network")),
    # The read API for the national tools (bearer tokens) and its documentation.
    path("api/", include("api.urls.public")),
    # Residents' public booking pages (no account).
    path("rdv/", include("bookings.urls.public")),
    # Mediators' subscribed agendas (webcal://, no session: the token is the key).
    path("agenda/", include("bookings.urls.feed")),
    # Open data: the places structures publish, in the national schema (no account).
    path("donnees/", include("bookings.urls.open_data")),
    # The SMS provider's delivery receipts and STOP answers (no session: a secret in the URL).
    path("webhooks/", include("bookings.urls.webhooks")),
    path("operateurs/", admin.site.urls),
]
