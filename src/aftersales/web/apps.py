from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "aftersales.web"
    label = "web"
