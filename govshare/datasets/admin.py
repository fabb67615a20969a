"""Back office of datasets and loads, read-only (they change through the services, so
every change is validated and audited). Credentials are never shown."""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from govshare.accounts.admin import ReadOnlyModelAdmin
from govshare.datasets.models import Dataset, Load


def data_page(resource_id: int) -> str:
    return format_html('<a href="{}">查看</a>', reverse("datasets:resource_data", args=[resource_id]))


@admin.register(Dataset)
class DatasetAdmin(ReadOnlyModelAdmin):
    list_display = ("resource", "current_version", "row_count", "last_success_at", "keep_versions", "page")
    search_fields = ("resource__code", "resource__name")
    list_select_related = ("resource",)

    @admin.display(description="数据页")
    def page(self, obj: Dataset) -> str:
        return data_page(obj.resource_id)


@admin.register(Load)
class LoadAdmin(ReadOnlyModelAdmin):
    list_display = (
        "id",
        "dataset",
        "source",
        "mode",
        "status",
        "rows_read",
        "rows_loaded",
        "rows_rejected",
        "version",
        "created_at",
        "duration_ms",
    )
    list_filter = ("status", "mode", "engine")
    search_fields = ("dataset__resource__code", "source__name", "input_name", "checksum")
    list_select_related = ("dataset__resource", "source__resource")
    date_hierarchy = "created_at"
    exclude = ("claim_token",)
