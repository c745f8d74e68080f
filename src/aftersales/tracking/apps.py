from django.apps import AppConfig


class TrackingConfig(AppConfig):
    name = "aftersales.tracking"
    label = "tracking"
    verbose_name = "Parcel tracking"
