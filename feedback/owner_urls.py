from django.urls import path

from . import owner_views

urlpatterns = [
    path("<int:survey_id>/results.json", owner_views.results_data, name="survey-results-data"),
    path("<int:survey_id>/export.csv", owner_views.export_responses, name="survey-export"),
]
