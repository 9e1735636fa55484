from django.urls import path

from bookings.views import open_data as views

# Under /donnees/: open data, without an account.
urlpatterns = [
    path("lieux.<str:fmt>", views.places, name="open_data_places"),
    path("s/<slug:structure>/lieux.<str:fmt>", views.structure_places, name="open_data_structure"),
    path("reseaux/<slug:network>/lieux.<str:fmt>", views.network_places, name="open_data_network"),
]
