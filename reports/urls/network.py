from django.urls import path

from reports import views

# Under /reseaux/<network>/bilans/
urlpatterns = [
    path("", views.network_dashboard, name="network_report_dashboard"),
    path("telecharger/<str:fmt>/", views.network_export, name="network_report_export"),
    path("archives/", views.network_archives, name="network_report_archives"),
    path(
        "archives/<int:archive>/",
        views.network_archive_download,
        name="network_report_archive_download",
    ),
    path(
        "archives/<int:archive>/excel/",
        views.network_archive_download,
        {"excel": True},
        name="network_report_archive_download_excel",
    ),
]
