from django.urls import path

from . import views

urlpatterns = [
    path("", views.queue, name="followups"),
    path("add/", views.add, name="followup-add"),
    path("templates/", views.templates, name="followup-templates"),
    path("templates/preview/", views.template_preview, name="followup-template-preview"),
    path("<int:item_id>/email/", views.email, name="followup-email"),
    path("<int:item_id>/done/", views.done, name="followup-done"),
    path("<int:item_id>/snooze/", views.snooze, name="followup-snooze"),
    path("<int:item_id>/reopen/", views.reopen, name="followup-reopen"),
]
