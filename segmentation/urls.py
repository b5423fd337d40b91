from django.urls import path

from . import views

urlpatterns = [
    path("", views.segments, name="segments"),
    path("new/", views.create_segment, name="segment-create"),
    path("<int:segment_id>/delete/", views.delete_segment, name="segment-delete"),
]
