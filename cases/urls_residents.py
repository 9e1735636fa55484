"""Residents at the desk, under /s/<structure>/usagers/."""

from django.urls import path

from cases import views_residents as views

urlpatterns = [
    path("", views.resident_search, name="resident_search"),
    path("nouveau/", views.resident_create, name="resident_create"),
    path("<int:resident>/", views.resident_detail, name="resident_detail"),
    path("<int:resident>/modifier/", views.resident_edit, name="resident_edit"),
    path("<int:resident>/partage/", views.resident_sharing, name="resident_sharing"),
    path("<int:resident>/fusionner/", views.resident_merge, name="resident_merge"),
]
