from django.urls import path

from . import owner_views

urlpatterns = [
    path("", owner_views.survey_list, name="surveys"),
    path("new/", owner_views.survey_form, name="survey-create"),
    path("send-to-picked/", owner_views.send_picked, name="survey-send-picked"),
    path("send-to-segment/<int:segment_id>/", owner_views.send_segment, name="survey-send-segment"),
    path(
        "send-to-customer/<int:customer_id>/",
        owner_views.send_customer,
        name="survey-send-customer",
    ),
    path("<int:survey_id>/", owner_views.survey_detail, name="survey-detail"),
    path("<int:survey_id>/edit/", owner_views.survey_form, name="survey-edit"),
    path("<int:survey_id>/send/", owner_views.survey_send, name="survey-send"),
    path("<int:survey_id>/results.json", owner_views.results_data, name="survey-results-data"),
    path("<int:survey_id>/export.csv", owner_views.export_responses, name="survey-export"),
]
