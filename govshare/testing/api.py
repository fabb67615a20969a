"""Calling the API as a script does: the Authorization header of a personal API token, a named file to upload."""

from __future__ import annotations

import io

from govshare.accounts import services as account_services
from govshare.accounts.models import User


def bearer_header(raw_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw_token}"}


def bearer(user: User, *, scope: str = "write", name: str = "测试") -> dict[str, str]:
    """The Authorization header of a fresh personal API token of the user (created by the user)."""
    _, raw = account_services.create_api_token(user, name=name, scope=scope, actor=user)
    return bearer_header(raw)


def upload(data: bytes, name: str = "目录.xlsx") -> io.BytesIO:
    """A file handle with a name, as a multipart upload of the test client."""
    handle = io.BytesIO(data)
    handle.name = name
    return handle
