from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "govshare.accounts"
    label = "accounts"
    verbose_name = "组织与用户"

    def ready(self) -> None:
        from govshare.accounts import calendar_home, signals  # noqa: F401  (signals connects the audit receivers)
        from govshare.accounts.auth import PERSONAL_TOKENS
        from govshare.core.apiauth import register_bearer_authenticator

        register_bearer_authenticator(PERSONAL_TOKENS)
        calendar_home.register()
