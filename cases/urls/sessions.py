"""The activity log, mounted at /s/<structure>/accompagnements/."""

from django.urls import path

from cases.views import sessions as views

urlpatterns = [
    path("", views.session_list, name="session_list"),
    path("nouveau/", views.session_create, name="session_create"),
    path("rdv/<int:appointment>/", views.session_from_appointment, name="session_from_appointment"),
    path("atelier/nouveau/", views.workshop_create, name="workshop_create"),
    path(
        "atelier/rdv/<int:appointment>/",
        views.workshop_from_appointment,
        name="workshop_from_appointment",
    ),
    path("<int:session>/modifier/", views.session_edit, name="session_edit"),
    path("<int:session>/supprimer/", views.session_delete, name="session_delete"),
]
