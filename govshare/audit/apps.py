from django.apps import AppConfig
from django.core import checks
from django.db.models.signals import post_migrate


class AuditConfig(AppConfig):
    name = "govshare.audit"
    label = "audit"
    verbose_name = "审计"

    def ready(self) -> None:
        from django.core.signals import setting_changed

        from govshare.audit import access, home, jobs, keys
        from govshare.audit.checks import check_audit_keys

        checks.register(check_audit_keys)
        access.register()
        home.register()
        # The audit key ring is remembered between rows: a change of the settings (tests) is seen at once.
        setting_changed.connect(keys.forget_current, dispatch_uid="audit-keys-setting-changed")
        # The every-minute seal-and-anchor schedule, and an anchor of the head, after every migrate (idempotent).
        post_migrate.connect(jobs.after_migrate, sender=self, dispatch_uid="audit-schedule-and-anchor")
