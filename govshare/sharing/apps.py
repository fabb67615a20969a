from django.apps import AppConfig
from django.db.models.signals import post_migrate


class SharingConfig(AppConfig):
    name = "govshare.sharing"
    label = "sharing"
    verbose_name = "数据共享"

    def ready(self) -> None:
        from govshare.datasets.scopes import register_scope_provider
        from govshare.sharing import (
            access,
            access_lists,
            access_requests,
            access_scenarios,
            actions_scenarios,
            audit_grants,
            grants,
            panels_grants,
            panels_requests,
            panels_scenarios,
        )

        access.register()
        access_lists.register()
        access_requests.register()
        access_scenarios.register()
        actions_scenarios.register()
        audit_grants.register()
        panels_grants.register()
        panels_requests.register()
        panels_scenarios.register()
        # Every preview, download and export of another department's data asks this (datasets.scopes).
        register_scope_provider("sharing.grant", grants.scope_provider)

        from govshare.jobs.registry import register_task
        from govshare.sharing import jobs

        register_task(jobs.REMIND_LAPSING_GRANTS, jobs.remind_lapsing_grants)
        register_task(jobs.FOLLOW_REQUEST_DEADLINES, jobs.follow_request_deadlines)
        post_migrate.connect(jobs.ensure_schedule_after_migrate, sender=self, dispatch_uid="sharing-grant-reminders")
