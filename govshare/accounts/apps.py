from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "govshare.accounts"
    label = "accounts"
    verbose_name = "组织与用户"

    def ready(self) -> None:
        from govshare.accounts import signals  # noqa: F401  (connects the audit receivers)
        from govshare.accounts.auth import PERSONAL_TOKENS
        from govshare.core.apiauth import register_bearer_authenticator

        register_bearer_authenticator(PERSONAL_TOKENS)
