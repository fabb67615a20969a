"""Who may manage a resource's sources and who may read its data.

Data (preview, download, load history) is readable by the department that owns the resource and by the platform
administrator; other departments get it through reviewed sharing grants (a later issue), so for them the data's
pages and routes answer 404.

A source is the owning department's alone: its preview and mapping page show the source's raw rows, unmasked, and
its settings, mapping and loads decide what goes into the department's dataset. So registering, changing,
previewing and mapping sources and requesting or retrying loads is for the owning department's catalogue
administrators; for anyone outside the department, the platform administrator included (who reads the dataset
masked), these answer 404 as for a missing source. The platform administrator still sees that a source exists,
its settings (without credentials), mapping and loads.
"""

from __future__ import annotations

from govshare.accounts.models import User
from govshare.catalog import access as catalog_access
from govshare.catalog.models import Resource
from govshare.core.errors import NotFound, PermissionDenied

MANAGERS_ONLY = "只有资源所属部门的目录管理员可以管理数据来源和归集"


def can_read_data(user: User, resource: Resource) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    return user.is_platform_admin or (user.department_id is not None and user.department_id == resource.department_id)


def in_owning_department(user: User, resource: Resource) -> bool:
    return (
        can_read_data(user, resource)
        and user.department_id is not None
        and user.department_id == resource.department_id
    )


def can_manage_sources(user: User, resource: Resource) -> bool:
    """Registering sources, reading their raw rows and starting loads is the owning department's catalogue
    administrators' work (not the platform administrator's, unless he works in that department)."""
    return in_owning_department(user, resource) and catalog_access.can_edit(user, resource)


def require_source_manager(user: User, resource: Resource, *, missing: str = "数据来源不存在或无权访问") -> None:
    """NotFound outside the owning department (the platform administrator included: the same answer as a missing
    source), PermissionDenied for a colleague without the catalogue role."""
    if not in_owning_department(user, resource):
        raise NotFound(missing)
    if not catalog_access.can_edit(user, resource):
        raise PermissionDenied(MANAGERS_ONLY)
