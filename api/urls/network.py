from django.urls import path

from api import views

# Under /reseaux/<network>/api/
urlpatterns = [
    path("", views.network_clients, name="network_api_clients"),
    path(
        "<int:client>/revoquer/",
        views.network_client_revoke,
        name="network_api_client_revoke",
    ),
]
