from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _ensure_search_index(sender: AppConfig, using: str = "default", **kwargs: Any) -> None:
    from django.db import connections

    from govshare.catalog.search import ensure_search_index

    ensure_search_index(connections[using])


class CatalogConfig(AppConfig):
    name = "govshare.catalog"
    label = "catalog"
    verbose_name = "政务信息资源目录"

    def ready(self) -> None:
        from govshare.catalog import access, home, panels

        access.register()
        panels.register()
        home.register()
        # A later migration that rebuilds catalog_resource on SQLite drops the full-text triggers: restore them.
        post_migrate.connect(_ensure_search_index, sender=self, dispatch_uid="catalog_ensure_search_index")
