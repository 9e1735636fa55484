"""The desk's entry points outside a structure's URLs, mounted at /accueil/."""

from django.urls import path

from cases.views import sessions as views

urlpatterns = [
    path("sans-rendez-vous/", views.desk_walk_in, name="desk_walk_in"),
]
