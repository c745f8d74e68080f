"""URLs of the tracking app (namespace "tracking"), included at /hooks/tracking/ by aftersales/urls.py."""

from django.urls import path

from . import views

app_name = "tracking"
urlpatterns = [
    path("<str:provider>/<str:token>", views.tracking_push, name="push"),
]
