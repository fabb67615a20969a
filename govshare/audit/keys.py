"""The audit MAC keys: HMAC-SM3 keys that fingerprint and seal the audit log, held outside the database.

Like the encryption key ring (govshare.core.crypto) and in the same key directory: from the setting
GOVSHARE_AUDIT_KEYS (`a2:<base64>,a1:<base64>`, the first is active) or from `<data_dir>/keys/audit-keyring.json`
(mode 0600, `govshare audit_keys init|add|status|generate`), created on first use outside production. A key is 32
random bytes. Each audit row records the id of the key it was fingerprinted and sealed with, so a new key can become
active at any time; a key is never retired, since the rows it sealed are verified with it for as long as they are
kept. Whoever can write the database but cannot read this key cannot make a row, a seal or an anchor that verifies.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from govshare.core.crypto import KEY_ID_PATTERN, write_private_json

__all__ = [
    "KEY_BYTES",
    "SETTING",
    "AuditKey",
    "AuditKeyError",
    "AuditKeyRing",
    "add_key",
    "current_audit_keys",
    "forget_current",
    "generate_key",
    "init_key_file",
    "key_file",
    "load_audit_keys",
    "parse_key_setting",
]

KEY_BYTES = 32
KEY_FILE = Path("keys") / "audit-keyring.json"
SETTING = "GOVSHARE_AUDIT_KEYS"


class AuditKeyError(Exception):
    """The audit key ring is missing or malformed, or does not hold a key a row was sealed with."""


@dataclass(frozen=True, slots=True)
class AuditKey:
    key_id: str
    secret: bytes = b""

    def __post_init__(self) -> None:
        if not KEY_ID_PATTERN.match(self.key_id):
            raise AuditKeyError(f"审计密钥标识“{self.key_id}”无效：只能由字母、数字、-、_ 组成，最长 32 个字符")
        if len(self.secret) != KEY_BYTES:
            raise AuditKeyError(f"审计密钥“{self.key_id}”长度为 {len(self.secret)} 字节，应为 {KEY_BYTES} 字节")

    def __repr__(self) -> str:  # the secret never reaches a log or a traceback
        return f"AuditKey({self.key_id!r})"


@dataclass(frozen=True, slots=True)
class AuditKeyRing:
    """Keys by id; `keys[0]` is active (new rows, seals and anchors), the others still verify."""

    keys: tuple[AuditKey, ...]
    source: str  # "setting" or the key file's path

    def __post_init__(self) -> None:
        if not self.keys:
            raise AuditKeyError(f"审计密钥环为空：请设置 {SETTING} 或运行 govshare audit_keys init")
        ids = [k.key_id for k in self.keys]
        if len(set(ids)) != len(ids):
            raise AuditKeyError(f"审计密钥环中有重复的密钥标识：{', '.join(ids)}")

    @property
    def active(self) -> AuditKey:
        return self.keys[0]

    def find(self, key_id: str) -> AuditKey | None:
        for key in self.keys:
            if key.key_id == key_id:
                return key
        return None


def generate_key() -> AuditKey:
    """A new random key with a fresh id such as `a20261207a1b2`."""
    return AuditKey(f"a{datetime.now(UTC):%Y%m%d}{secrets.token_hex(2)}", secrets.token_bytes(KEY_BYTES))


def encode(key: AuditKey) -> str:
    """`id:base64`, as GOVSHARE_AUDIT_KEYS lists it."""
    return f"{key.key_id}:{base64.b64encode(key.secret).decode('ascii')}"


def parse_key_setting(value: str) -> AuditKeyRing:
    """Parse GOVSHARE_AUDIT_KEYS: comma-separated `id:base64`, active first."""
    keys: list[AuditKey] = []
    for part in (p.strip() for p in value.split(",")):
        if not part:
            continue
        key_id, sep, encoded = part.partition(":")
        if not sep:
            raise AuditKeyError(f"{SETTING} 中的“{key_id[:8]}…”缺少密钥标识：格式为 标识:Base64密钥，多个用逗号分隔")
        try:
            secret = base64.b64decode(encoded.strip(), validate=True)
        except ValueError:  # binascii.Error, or a character outside ASCII
            raise AuditKeyError(f"{SETTING} 中密钥“{key_id.strip()}”不是有效的 Base64") from None
        keys.append(AuditKey(key_id.strip(), secret))
    return AuditKeyRing(tuple(keys), source="setting")


def key_file(data_dir: Path) -> Path:
    return data_dir / KEY_FILE


def _read_key_file(path: Path) -> AuditKeyRing:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        keys = tuple(
            AuditKey(str(item["id"]), base64.b64decode(str(item["key"]), validate=True)) for item in document["keys"]
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise AuditKeyError(f"审计密钥文件 {path} 无法读取或格式错误：{exc}") from None
    return AuditKeyRing(keys, source=str(path))


def _write_key_file(path: Path, ring: AuditKeyRing, *, exclusive: bool) -> bool:
    document: dict[str, Any] = {
        "version": 1,
        "comment": (
            "govshare audit MAC keys (HMAC-SM3): the first is active; never drop one while rows sealed with it are "
            "kept. Never commit or copy this file into the database."
        ),
        "keys": [{"id": k.key_id, "key": base64.b64encode(k.secret).decode("ascii")} for k in ring.keys],
    }
    return write_private_json(path, document, exclusive=exclusive)


def init_key_file(data_dir: Path) -> bool:
    """Create the key file with one new key unless it exists; True if it was created."""
    return _write_key_file(key_file(data_dir), AuditKeyRing((generate_key(),), source=""), exclusive=True)


def add_key(data_dir: Path) -> AuditKey:
    """Put a new key at the front of the key file (it becomes active); the old keys stay to verify old rows."""
    path = key_file(data_dir)
    ring = _read_key_file(path)
    key = generate_key()
    while ring.find(key.key_id) is not None:
        key = generate_key()
    _write_key_file(path, AuditKeyRing((key, *ring.keys), source=str(path)), exclusive=False)
    _forget()
    return key


# The last ring read, with what it was read from: one tuple replaced whole, so threads never see it half-updated.
_cached: tuple[tuple[str, str, int], AuditKeyRing] | None = None
# The ring current_audit_keys last returned and when: every audit row written needs the key (bulk inserts write tens
# of thousands, and reading a Django setting costs microseconds), so the settings and the key file are looked at
# again after RECHECK_SECONDS, or at once when the settings change (forget_current, on Django's setting_changed).
_current: tuple[float, AuditKeyRing] | None = None
RECHECK_SECONDS = 1.0


def _forget() -> None:
    global _cached
    _cached = None
    forget_current()


def forget_current(**kwargs: Any) -> None:
    global _current
    _current = None


def load_audit_keys(*, configured: str, data_dir: Path, production: bool) -> AuditKeyRing:
    """The ring from the setting if given, else the key file (created on first use outside production)."""
    global _cached
    if configured.strip():
        source = ("setting", configured, 0)
    else:
        path = key_file(data_dir)
        if not path.is_file():
            if production:
                raise AuditKeyError(
                    f"生产模式下未配置审计密钥：请设置 {SETTING}，"
                    f"或在数据目录下运行 govshare audit_keys init 生成 {path}"
                )
            init_key_file(data_dir)
        # The modification time is part of the cache key: `audit_keys add` elsewhere is seen at the next use.
        source = ("file", str(path), path.stat().st_mtime_ns)
    cached = _cached
    if cached is not None and cached[0] == source:
        return cached[1]
    ring = parse_key_setting(configured) if source[0] == "setting" else _read_key_file(Path(source[1]))
    _cached = (source, ring)
    return ring


def current_audit_keys() -> AuditKeyRing:
    """The audit key ring of the running platform (Django settings); a key file changed by another process (`audit_keys
    add`) is seen within RECHECK_SECONDS."""
    global _current
    now = time.monotonic()
    current = _current
    if current is not None and now - current[0] < RECHECK_SECONDS:
        return current[1]
    from django.conf import settings

    config: Any = settings.GOVSHARE
    ring = load_audit_keys(
        configured=config.audit_keys, data_dir=Path(config.data_dir), production=bool(config.production)
    )
    _current = (now, ring)
    return ring
