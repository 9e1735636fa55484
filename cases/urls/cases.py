"""Cases (dossiers), mounted at /s/<structure>/dossiers/."""

from django.urls import path

from cases.views import cases as views

urlpatterns = [
    path("nouveau/", views.case_create, name="case_create"),
    path("suivis/", views.followups, name="followups"),
    path("<int:case>/", views.case_detail, name="case_detail"),
    path("<int:case>/statut/", views.case_transition, name="case_transition"),
    path("<int:case>/note/", views.case_note, name="case_note"),
    path("<int:case>/rattacher/", views.case_attach, name="case_attach"),
    path("<int:case>/modifier/", views.case_edit, name="case_edit"),
]
