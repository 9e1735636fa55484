"""Mounted at /s/<structure>/messages/."""

from django.urls import path

from bookings.views import outbox as views_outbox

urlpatterns = [
    path("", views_outbox.outbox, name="outbox"),
]
