"""Back office of sources, read-only (they change through the services, so every change is validated and audited).
Credentials are never shown."""

from __future__ import annotations

import json

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from govshare.accounts.admin import ReadOnlyModelAdmin
from govshare.sources.credentials import censored_config
from govshare.sources.models import Source


@admin.register(Source)
class SourceAdmin(ReadOnlyModelAdmin):
    list_display = ("name", "resource", "kind", "load_mode", "schedule_enabled", "is_active", "updated_at", "page")
    list_filter = ("kind", "load_mode", "schedule_enabled", "is_active")
    search_fields = ("name", "resource__code", "resource__name")
    list_select_related = ("resource",)
    exclude = ("secret", "config")
    readonly_fields = ("connection",)

    @admin.display(description="数据页")
    def page(self, obj: Source) -> str:
        return format_html('<a href="{}">查看</a>', reverse("datasets:resource_data", args=[obj.resource_id]))

    @admin.display(description="连接配置")
    def connection(self, obj: Source) -> str:
        """The settings without a password written into a connection URL."""
        return json.dumps(censored_config(obj.config), ensure_ascii=False, indent=2)
