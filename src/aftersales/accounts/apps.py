from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "aftersales.accounts"
    label = "accounts"
    verbose_name = "Accounts and permissions"
