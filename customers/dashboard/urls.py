from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("runs/<int:run_id>/", views.run_detail, name="run-detail"),
    path("revenue/", views.revenue, name="revenue"),
]
