from django.urls import path

from reports import views

# Under /s/<structure>/bilans/
urlpatterns = [
    path("", views.structure_dashboard, name="report_dashboard"),
    path("telecharger/<str:fmt>/", views.structure_export, name="report_export"),
    path("archives/", views.structure_archives, name="report_archives"),
    path(
        "archives/<int:archive>/",
        views.structure_archive_download,
        name="report_archive_download",
    ),
    path(
        "archives/<int:archive>/excel/",
        views.structure_archive_download,
        {"excel": True},
        name="report_archive_download_excel",
    ),
]
