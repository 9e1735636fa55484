from django.urls import path

from api import views

# Under /s/<structure>/api/
urlpatterns = [
    path("", views.structure_clients, name="api_clients"),
    path("<int:client>/revoquer/", views.structure_client_revoke, name="api_client_revoke"),
]
