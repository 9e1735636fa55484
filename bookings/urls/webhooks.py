"""Providers' webhooks, mounted at /webhooks/ (no session, no CSRF: the secret in the URL is the
key)."""

from django.urls import path

from bookings.views import webhooks as views

urlpatterns = [
    path("brevo/sms/<str:token>/", views.brevo_sms_webhook, name="brevo_sms_webhook"),
]
