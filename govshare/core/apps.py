from django.apps import AppConfig
from django.core import checks


class CoreConfig(AppConfig):
    name = "govshare.core"
    label = "core"
    verbose_name = "平台"

    def ready(self) -> None:
        from govshare.core.checks import check_encryption_keys

        checks.register(check_encryption_keys)
