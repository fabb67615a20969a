from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "govshare.accounts"
    label = "accounts"
    verbose_name = "组织与用户"
