from django.urls import path

from . import views

urlpatterns = [
    path("", views.playbook_list, name="playbooks"),
    path("new/", views.playbook_edit, name="playbook-new"),
    path("<int:playbook_id>/", views.playbook_detail, name="playbook"),
    path("<int:playbook_id>/edit/", views.playbook_edit, name="playbook-edit"),
    path("<int:playbook_id>/switch/", views.playbook_switch, name="playbook-switch"),
]
