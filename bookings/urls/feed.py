"""A mediator's subscribed agenda, mounted at /agenda/ (no session: the token is the key)."""

from django.urls import path

from bookings.views import feed as views

urlpatterns = [
    path("<str:token>.ics", views.calendar_feed, name="calendar_feed"),
]
