from typing import Any

from django.apps import AppConfig
from django.core import checks
from django.core.management import call_command
from django.db.models.signals import post_migrate


def _create_cache_table(sender: AppConfig, using: str = "default", **kwargs: Any) -> None:
    """`migrate` also creates the shared cache's table (GOVSHARE_CACHE_URL db://); a no-op when it exists."""
    call_command("createcachetable", database=using, verbosity=0)


def _load_shipped_calendar(sender: AppConfig, using: str = "default", **kwargs: Any) -> None:
    """`migrate` (and a test database's flush) also loads the working-day calendar's shipped years (idempotent)."""
    from govshare.core.workdays import load_shipped_years

    load_shipped_years(using)


class CoreConfig(AppConfig):
    name = "govshare.core"
    label = "core"
    verbose_name = "平台"

    def ready(self) -> None:
        from govshare.core.checks import check_encryption_keys
        from govshare.core.security import install_log_record_redaction

        checks.register(check_encryption_keys)
        install_log_record_redaction()
        post_migrate.connect(_create_cache_table, sender=self, dispatch_uid="govshare.core.create_cache_table")
        post_migrate.connect(_load_shipped_calendar, sender=self, dispatch_uid="govshare.core.load_shipped_calendar")
