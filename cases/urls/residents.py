"""Residents at the desk, under /s/<structure>/usagers/."""

from django.urls import path

from cases.views import privacy as views_privacy
from cases.views import residents as views

urlpatterns = [
    path("", views.resident_search, name="resident_search"),
    path("nouveau/", views.resident_create, name="resident_create"),
    path("<int:resident>/", views.resident_detail, name="resident_detail"),
    path("<int:resident>/modifier/", views.resident_edit, name="resident_edit"),
    path("<int:resident>/partage/", views.resident_sharing, name="resident_sharing"),
    path("<int:resident>/sms/reprendre/", views.resident_sms_resume, name="resident_sms_resume"),
    path("<int:resident>/fusionner/", views.resident_merge, name="resident_merge"),
    # Residents' rights: access (export) and erasure / objection.
    path(
        "<int:resident>/donnees.json",
        views_privacy.resident_export_json,
        name="resident_export_json",
    ),
    path(
        "<int:resident>/donnees.pdf", views_privacy.resident_export_pdf, name="resident_export_pdf"
    ),
    path("<int:resident>/effacer/", views_privacy.resident_erase, name="resident_erase"),
]
