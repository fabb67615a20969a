"""The RSA key that signs ID tokens: from a setting, or a key file under the data directory.

Never in the database and never in the source tree; `govshare oidc_key` creates the file once. This module is
read by settings.py, so it imports nothing from Django.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

KEY_FILE = Path("oidc") / "signing-key.pem"
KEY_BITS = 3072


def key_file(data_dir: Path) -> Path:
    return data_dir / KEY_FILE


def read_signing_key(data_dir: Path, configured: str = "") -> str:
    """The PEM private key from the setting if given, else from the key file; "" when there is none yet."""
    if configured.strip():
        return configured
    path = key_file(data_dir)
    return path.read_text(encoding="ascii") if path.is_file() else ""


def generate_signing_key(path: Path) -> bool:
    """Write a new RSA private key to `path` (mode 0600) unless one is there; True if it was written."""
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    try:
        # O_EXCL: two commands started at once cannot both write (and one silently replace the other's key).
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    return True
