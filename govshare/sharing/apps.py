from django.apps import AppConfig


class SharingConfig(AppConfig):
    name = "govshare.sharing"
    label = "sharing"
    verbose_name = "数据共享"

    def ready(self) -> None:
        from govshare.datasets.scopes import register_scope_provider
        from govshare.sharing import (
            access,
            access_lists,
            access_scenarios,
            actions_scenarios,
            audit_grants,
            grants,
            panels_grants,
            panels_scenarios,
        )

        access.register()
        access_lists.register()
        access_scenarios.register()
        actions_scenarios.register()
        audit_grants.register()
        panels_grants.register()
        panels_scenarios.register()
        # Every preview, download and export of another department's data asks this (datasets.scopes).
        register_scope_provider("sharing.grant", grants.scope_provider)
