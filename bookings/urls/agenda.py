"""The desk agenda, mounted at /s/<structure>/agenda/."""

from django.urls import path

from bookings.views import agenda as views
from bookings.views import feed as views_feed
from bookings.views import reassign, waitlist

urlpatterns = [
    path("", views.agenda, name="agenda"),
    path("semaine/", views.agenda, {"week": True}, name="agenda_week"),
    path("abonnement/", views_feed.feed_settings, name="agenda_feed"),
    path(
        "rdv/<int:appointment>/statut/",
        views.appointment_status,
        name="agenda_appointment_status",
    ),
    path(
        "rdv/<int:appointment>/annuler/",
        views.appointment_cancel,
        name="agenda_appointment_cancel",
    ),
    path("prendre-rdv/", views.book_resident, name="agenda_book"),
    path("prendre-rdv/<int:resident>/", views.book_slot, name="agenda_book_slot"),
    path(
        "prendre-rdv/<int:resident>/confirmer/",
        views.book_confirm,
        name="agenda_book_confirm",
    ),
    path("liste-attente/", waitlist.waitlist_list, name="agenda_waitlist"),
    path("a-reaffecter/", reassign.reassign_list, name="agenda_reassign_list"),
    path("a-reaffecter/<int:appointment>/", reassign.reassign, name="agenda_reassign"),
]
