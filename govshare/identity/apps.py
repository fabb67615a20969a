from django.apps import AppConfig


class IdentityConfig(AppConfig):
    name = "govshare.identity"
    label = "identity"
    verbose_name = "统一身份认证"

    def ready(self) -> None:
        from govshare.identity import checks, signals  # noqa: F401 (registers the check, connects the receivers)
