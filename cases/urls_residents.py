"""URLs: filled by the module's views."""

urlpatterns: list = []
