from django.urls import path

from .views import webhook

app_name = "hooks"

urlpatterns = [
    path("<slug:platform>/<str:token>", webhook, name="webhook"),
]
