from __future__ import annotations

from django.http import HttpRequest

from govshare import __version__
from govshare.core.navcounts import nav_counts_for


def platform(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    roles = user.role_set() if user is not None and user.is_authenticated else frozenset()
    # The header's counts: none is computed until the header shows it (govshare.core.navcounts).
    return {"govshare_version": __version__, "user_roles": roles, "nav_counts": nav_counts_for(request)}
