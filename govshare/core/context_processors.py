from __future__ import annotations

from django.http import HttpRequest

from govshare import __version__


def platform(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    roles = user.role_set() if user is not None and user.is_authenticated else frozenset()
    return {"govshare_version": __version__, "user_roles": roles}
