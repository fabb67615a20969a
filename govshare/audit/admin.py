from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from govshare.audit.models import AuditLog


@admin.register(AuditLog)
class AuditLogAdmin(admin.ModelAdmin):
    """Read-only: nobody, the platform administrator included, alters the log through the product."""

    list_display = ("at", "actor_name", "action", "object_type", "object_repr", "seq")
    list_filter = ("action", "object_type")
    search_fields = ("actor_name", "object_repr", "object_id")
    readonly_fields = ("seq", "prev_hash", "row_hash", "key_id", "content_mac", "batch")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
