"""Who may manage a resource's sources and who may read its data.

Data (preview, download, load history) is readable by the department that owns the resource and by the platform
administrator; other departments get it through reviewed sharing grants (a later issue), so for them the data's
pages and routes answer 404.
"""

from __future__ import annotations

from govshare.accounts.models import User
from govshare.catalog import access as catalog_access
from govshare.catalog.models import Resource


def can_read_data(user: User, resource: Resource) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    return user.is_platform_admin or (user.department_id is not None and user.department_id == resource.department_id)


def can_manage_sources(user: User, resource: Resource) -> bool:
    """Registering sources and starting loads is the owning department's catalogue administrators' work."""
    return can_read_data(user, resource) and catalog_access.can_edit(user, resource)
