from django.urls import path

from . import views

urlpatterns = [
    path("", views.import_upload, name="import"),
    path("<int:job_id>/", views.import_status, name="import-status"),
]
