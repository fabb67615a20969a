"""Back office of the catalogue: the classification tree (edited through the services), resources and import
batches (read-only: entries change through the catalogue's workflow, never behind its back)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from govshare.accounts.admin import PlatformAdminModelAdmin, ReadOnlyModelAdmin, acting_user, adopt_created
from govshare.catalog import services, synonyms
from govshare.catalog.choices import CategoryLevel
from govshare.catalog.models import Category, ImportBatch, Resource, SynonymGroup


class CategoryForm(ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Category
        fields = ["parent", "segment", "name", "description", "is_active"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "parent" in self.fields:
            self.fields["parent"].queryset = Category.objects.filter(level__lt=CategoryLevel.DETAIL)  # type: ignore[attr-defined]
            self.fields["parent"].help_text = "留空则新建一个“类”；细目之下不能再分类。"


@admin.register(Category)
class CategoryAdmin(PlatformAdminModelAdmin):
    form = CategoryForm
    list_display = ("tree_name", "code", "level", "is_active")
    list_filter = ("level", "is_active")
    search_fields = ("code", "name")
    ordering = ("code",)
    list_per_page = 200

    @admin.display(description="分类", ordering="code")
    def tree_name(self, obj: Category) -> str:
        # Indented by a class of govshare/admin.css, not style="", which the Content-Security-Policy refuses.
        return format_html('<span class="category-level-{}">{}</span>', obj.level, obj.name)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        # Parent and segment make up the code that resources carry: fixed once created.
        return ("parent", "segment", "code", "level") if obj is not None else ()

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:  # type: ignore[override]
        if obj is None:
            return ["parent", "segment", "name", "description"]
        return ["code", "level", "parent", "segment", "name", "description", "is_active"]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        data = form.cleaned_data
        actor = acting_user(request)
        if change:
            services.update_category(
                Category.objects.get(pk=obj.pk),
                name=data["name"],
                description=data.get("description", ""),
                is_active=data.get("is_active", True),
                actor=actor,
            )
            return
        created = services.create_category(
            parent=data.get("parent"),
            segment=data["segment"],
            name=data["name"],
            description=data.get("description", ""),
            actor=actor,
        )
        adopt_created(obj, created)


@admin.register(Resource)
class ResourceAdmin(ReadOnlyModelAdmin):
    list_display = ("code", "name", "department", "status", "share_type", "open_type", "format", "updated_at", "page")
    list_filter = ("status", "share_type", "open_type", "format", "update_cycle", "category__level", "department")
    search_fields = ("code", "name")
    list_select_related = ("department", "category")
    date_hierarchy = "updated_at"
    exclude = ("search_tokens",)

    @admin.display(description="页面")
    def page(self, obj: Resource) -> str:
        return format_html('<a href="{}">查看</a>', reverse("catalog:detail", args=[obj.pk]))

    def get_queryset(self, request: HttpRequest) -> QuerySet[Resource]:
        return super().get_queryset(request).defer("search_tokens")


@admin.register(ImportBatch)
class ImportBatchAdmin(ReadOnlyModelAdmin):
    list_display = ("created_at", "file_name", "uploaded_by", "outcome", "row_count", "created_count", "problem_count")
    list_filter = ("outcome",)
    search_fields = ("file_name", "sha256")
    list_select_related = ("uploaded_by",)


@admin.register(SynonymGroup)
class SynonymGroupAdmin(PlatformAdminModelAdmin):
    """The search's synonym groups: saved through synonyms.save_group (checked, audited); switched off rather than
    deleted."""

    list_display = ("terms", "is_active", "note", "updated_at")
    list_filter = ("is_active",)
    search_fields = ("terms", "note")
    fields = ("terms", "note", "is_active")

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        data = form.cleaned_data
        group = SynonymGroup.objects.get(pk=obj.pk) if change else None
        saved = synonyms.save_group(
            group,
            terms=data["terms"],
            note=data.get("note", ""),
            is_active=data.get("is_active", True),
            actor=acting_user(request),
        )
        adopt_created(obj, saved)
