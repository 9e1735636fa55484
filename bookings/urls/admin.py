"""The structure's booking settings, mounted at /s/<structure>/rdv/."""

from django.urls import path

from bookings.views import admin as views

urlpatterns = [
    path("", views.booking_settings, name="booking_settings"),
    path("motifs/", views.motif_list, name="motif_list"),
    path("motifs/nouveau/", views.motif_edit, name="motif_create"),
    path("motifs/<int:motif>/", views.motif_edit, name="motif_edit"),
    path(
        "motifs/<int:motif>/desactiver/",
        views.motif_set_active,
        {"active": False},
        name="motif_deactivate",
    ),
    path(
        "motifs/<int:motif>/reactiver/",
        views.motif_set_active,
        {"active": True},
        name="motif_reactivate",
    ),
    path("motifs/<int:motif>/supprimer/", views.motif_delete, name="motif_delete"),
    path("plages/", views.opening_hours_list, name="opening_hours_list"),
    path("plages/nouvelle/", views.opening_hours_edit, name="opening_hours_create"),
    path("plages/<int:opening_hours>/", views.opening_hours_edit, name="opening_hours_edit"),
    path(
        "plages/<int:opening_hours>/supprimer/",
        views.opening_hours_delete,
        name="opening_hours_delete",
    ),
    path("plages/exceptions/", views.date_override_list, name="date_override_list"),
    path("plages/exceptions/nouvelle/", views.date_override_edit, name="date_override_create"),
    path(
        "plages/exceptions/<int:date_override>/",
        views.date_override_edit,
        name="date_override_edit",
    ),
    path(
        "plages/exceptions/<int:date_override>/supprimer/",
        views.date_override_delete,
        name="date_override_delete",
    ),
    path("absences/", views.absence_list, name="absence_list"),
    path(
        "absences/recurrentes/nouvelle/",
        views.recurring_absence_create,
        name="recurring_absence_create",
    ),
    path(
        "absences/recurrentes/<int:recurring_absence>/supprimer/",
        views.recurring_absence_delete,
        name="recurring_absence_delete",
    ),
    path("absences/nouvelle/", views.absence_create, name="absence_create"),
    path("absences/<int:absence>/supprimer/", views.absence_delete, name="absence_delete"),
    path("regles/", views.booking_rules, name="booking_rules"),
    path("affiche/", views.booking_poster, name="booking_poster"),
    path("integration/", views.booking_embed, name="booking_embed"),
]
