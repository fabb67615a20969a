from django.apps import AppConfig
from django.db.models.signals import post_migrate


class IdentityConfig(AppConfig):
    name = "govshare.identity"
    label = "identity"
    verbose_name = "统一身份认证"

    def ready(self) -> None:
        from govshare.core.apiauth import register_bearer_authenticator
        from govshare.identity import access, checks, signals  # noqa: F401 (registers the check, connects the receivers)
        from govshare.identity.auth import ACCESS_TOKENS

        access.register()

        from govshare.identity import jobs
        from govshare.jobs.registry import register_task

        register_task(jobs.END_EXPIRED_CREDENTIALS, jobs.end_expired_credentials)
        post_migrate.connect(jobs.ensure_schedule_after_migrate, sender=self, dispatch_uid="identity-credential-expiry")

        # After personal tokens (accounts is installed first): each recognises its own tokens only.
        register_bearer_authenticator(ACCESS_TOKENS)
