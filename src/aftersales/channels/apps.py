from django.apps import AppConfig


class ChannelsConfig(AppConfig):
    name = "aftersales.channels"
    label = "channels"
