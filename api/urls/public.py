from django.urls import path

from api import views
from api.v1 import api

# Under /api/: the read API (bearer tokens, no session) and its documentation page.
urlpatterns = [
    path("v1/documentation/", views.documentation, name="api_documentation"),
    path("v1/", api.urls),
]
