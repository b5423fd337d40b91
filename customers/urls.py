from django.urls import include, path

from .playbooks.views import exit_question
from .views import customers, inbox, settings

urlpatterns = [
    path("", include("customers.dashboard.urls")),
    path("followups/", include("customers.followups.urls")),
    path("customers/", customers.customer_list, name="customers"),
    path("customers/bulk/", customers.bulk_action, name="customers-bulk"),
    path("customers/export.csv", customers.export_customers, name="customers-export"),
    path("customers/<int:customer_id>/", customers.customer_detail, name="customer"),
    path(
        "customers/<int:customer_id>/timeline/",
        customers.customer_timeline,
        name="customer-timeline",
    ),
    path("customers/<int:customer_id>/note/", customers.add_note, name="customer-note"),
    path("customers/<int:customer_id>/edit/", customers.edit_customer, name="customer-edit"),
    path(
        "customers/<int:customer_id>/export.json",
        customers.export_personal_data,
        name="customer-export",
    ),
    path("customers/<int:customer_id>/delete/", customers.delete_customer, name="customer-delete"),
    path("import/", include("customers.imports.urls")),
    path("inbound/email/", inbox.receive, name="inbound-email"),
    path("inbound/email/<str:secret>/", inbox.receive, name="inbound-email-secret"),
    path("inbox/", inbox.inbox, name="inbox"),
    path("inbox/<int:message_id>/assign/", inbox.assign, name="inbox-assign"),
    path("inbox/<int:message_id>/dismiss/", inbox.dismiss, name="inbox-dismiss"),
    path("playbooks/", include("customers.playbooks.urls")),
    path("why/<str:token>/", exit_question, name="exit-question"),
    path("settings/", settings.settings_page, name="settings"),
    path("settings/run/", settings.run_now, name="settings-run"),
    path("settings/run/status/", settings.run_status, name="settings-run-status"),
]
