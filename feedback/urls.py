from django.urls import path

from . import views

urlpatterns = [
    path("email/<str:token>/unsubscribe/", views.stop_emails, name="email-unsubscribe"),
    path("<str:token>/", views.survey_page, name="survey"),
    path("<str:token>/unsubscribe/", views.unsubscribe_page, name="survey-unsubscribe"),
    path("<str:token>/opened/", views.mark_opened, name="survey-opened"),
]
