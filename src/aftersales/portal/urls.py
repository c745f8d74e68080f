from django.urls import path

from . import views

app_name = "portal"

urlpatterns = [
    path("r/<str:token>/", views.csat_page, name="csat"),
]
