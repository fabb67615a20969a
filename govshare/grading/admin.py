"""Grading changes in the back office: read only (proposals and decisions go through the services, audited)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from govshare.grading.models import GradingChange


@admin.register(GradingChange)
class GradingChangeAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("pk", "resource", "item_name", "from_grade", "from_level", "to_grade", "to_level", "status")
    list_filter = ("status", "to_grade", "to_level")
    search_fields = ("resource__code", "resource__name", "item_name", "proposer_name")
    list_select_related = ("resource",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
