from django.apps import AppConfig


class SharingConfig(AppConfig):
    name = "govshare.sharing"
    label = "sharing"
    verbose_name = "数据共享"

    def ready(self) -> None:
        from govshare.datasets.scopes import register_scope_provider
        from govshare.sharing import access, audit_grants, grants, panels_grants

        access.register()
        audit_grants.register()
        panels_grants.register()
        # Every preview, download and export of another department's data asks this (datasets.scopes).
        register_scope_provider("sharing.grant", grants.scope_provider)
