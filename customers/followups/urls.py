from django.urls import path

from . import views

urlpatterns = [
    path("", views.queue, name="followups"),
    path("add/", views.add, name="followup-add"),
    path("<int:item_id>/done/", views.done, name="followup-done"),
    path("<int:item_id>/snooze/", views.snooze, name="followup-snooze"),
    path("<int:item_id>/reopen/", views.reopen, name="followup-reopen"),
]
