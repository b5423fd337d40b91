from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("import/", views.import_upload, name="import"),
    path("import/<int:job_id>/", views.import_status, name="import-status"),
    path("customers/export.csv", views.export_customers, name="customers-export"),
]
