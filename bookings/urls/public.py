from django.urls import path

from bookings.views import public as views_public

urlpatterns = [
    path("confidentialite/", views_public.privacy, name="public_privacy"),
    path("a/<str:token>/", views_public.appointment, name="public_appointment"),
    path("a/<str:token>/annuler/", views_public.cancel, name="public_cancel"),
    path("a/<str:token>/deplacer/", views_public.move, name="public_move"),
    path("a/<str:token>/rendez-vous.ics", views_public.calendar_file, name="public_ics"),
    path("attente/<str:token>/", views_public.waitlist_entry, name="public_waitlist_entry"),
    path("<slug:structure>/", views_public.start, name="public_start"),
    path("<slug:structure>/creneaux/", views_public.slots, name="public_slots"),
    path("<slug:structure>/coordonnees/", views_public.details, name="public_details"),
    path("<slug:structure>/liste-attente/", views_public.waitlist, name="public_waitlist"),
    path("<slug:structure>/integration/", views_public.embed, name="public_embed"),
]
