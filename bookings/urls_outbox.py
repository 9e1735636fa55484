"""Mounted at /s/<structure>/messages/."""

from django.urls import path

from bookings import views_outbox

urlpatterns = [
    path("", views_outbox.outbox, name="outbox"),
]
