from django.apps import AppConfig


class IdentityConfig(AppConfig):
    name = "govshare.identity"
    label = "identity"
    verbose_name = "统一身份认证"

    def ready(self) -> None:
        from govshare.core.apiauth import register_bearer_authenticator
        from govshare.identity import access, checks, signals  # noqa: F401 (registers the check, connects the receivers)
        from govshare.identity.auth import ACCESS_TOKENS

        access.register()

        # After personal tokens (accounts is installed first): each recognises its own tokens only.
        register_bearer_authenticator(ACCESS_TOKENS)
