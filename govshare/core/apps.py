from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "govshare.core"
    label = "core"
    verbose_name = "平台"
