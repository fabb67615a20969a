"""Encryption at rest: SM4-GCM for stored values, HMAC-SM3 for values that must stay searchable by equality.

Keys live in a key ring — from the setting GOVSHARE_ENCRYPTION_KEYS ("k2:<base64>,k1:<base64>", the first is
active) or from `<data_dir>/keys/keyring.json` (mode 0600, `govshare keys init|add|retire`) — never in the database.
Each key is 48 random bytes: a 128-bit SM4 key and a separate 256-bit HMAC-SM3 key.

A stored value is text: `gs1:<key id>:<base64(12-byte nonce ‖ ciphertext ‖ 16-byte GCM tag)>`. The associated
data binds it to its place (e.g. "datasets.Source.secret"), so a ciphertext copied into another field does not
decrypt. Only `cryptography`'s SM4, GCM and HMAC-SM3 are used; nothing here is home-made cryptography.
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

__all__ = [
    "KEY_ID_PATTERN",
    "PREFIX",
    "DecryptionError",
    "KeyEntry",
    "KeyRing",
    "KeyRingError",
    "add_key",
    "current_key_ring",
    "decrypt_bytes",
    "decrypt_text",
    "encrypt_bytes",
    "encrypt_text",
    "equality_hash",
    "equality_hash_bytes",
    "equality_hash_candidates",
    "equality_hasher",
    "generate_key",
    "init_key_file",
    "key_file",
    "key_id_of",
    "load_key_ring",
    "parse_key_setting",
    "remove_key",
    "split_stored",
    "write_private_json",
]

PREFIX = "gs1"
NONCE_BYTES = 12
TAG_BYTES = 16
SM4_KEY_BYTES = 16
MAC_KEY_BYTES = 32
KEY_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
KEY_FILE = Path("keys") / "keyring.json"
SETTING = "GOVSHARE_ENCRYPTION_KEYS"


class KeyRingError(Exception):
    """The key ring is missing, malformed, or does not hold a key a value needs."""


class DecryptionError(Exception):
    """A stored value is not a ciphertext of ours, or was changed (its GCM tag does not verify)."""


@dataclass(frozen=True, slots=True)
class KeyEntry:
    key_id: str
    sm4_key: bytes
    mac_key: bytes

    @classmethod
    def from_material(cls, key_id: str, material: bytes) -> KeyEntry:
        if not KEY_ID_PATTERN.match(key_id):
            raise KeyRingError(f"密钥标识“{key_id}”无效：只能由字母、数字、-、_ 组成，最长 32 个字符")
        if len(material) != SM4_KEY_BYTES + MAC_KEY_BYTES:
            raise KeyRingError(
                f"密钥“{key_id}”长度为 {len(material)} 字节，应为 {SM4_KEY_BYTES + MAC_KEY_BYTES} 字节"
                f"（{SM4_KEY_BYTES} 字节 SM4 密钥 + {MAC_KEY_BYTES} 字节 HMAC-SM3 密钥）"
            )
        return cls(key_id, material[:SM4_KEY_BYTES], material[SM4_KEY_BYTES:])

    @property
    def material(self) -> bytes:
        return self.sm4_key + self.mac_key


@dataclass(frozen=True, slots=True)
class KeyRing:
    """Keys by id; `keys[0]` is the active one (new values are encrypted with it), the others still decrypt."""

    keys: tuple[KeyEntry, ...]
    source: str  # "setting" or the key file's path

    def __post_init__(self) -> None:
        if not self.keys:
            raise KeyRingError(f"密钥环为空：请设置 {SETTING} 或运行 govshare keys init")
        ids = [k.key_id for k in self.keys]
        if len(set(ids)) != len(ids):
            raise KeyRingError(f"密钥环中有重复的密钥标识：{', '.join(ids)}")

    @property
    def active(self) -> KeyEntry:
        return self.keys[0]

    @property
    def key_ids(self) -> list[str]:
        return [k.key_id for k in self.keys]

    def get(self, key_id: str) -> KeyEntry:
        for entry in self.keys:
            if entry.key_id == key_id:
                return entry
        raise KeyRingError(f"密钥环中没有密钥“{key_id}”（可能已退役）：无法解密以该密钥加密的值")


def generate_key(key_id: str | None = None) -> KeyEntry:
    """A new random key (SM4 + HMAC-SM3 material) with a fresh id such as `k20261126a1b2`."""
    key_id = key_id or f"k{datetime.now(UTC):%Y%m%d}{secrets.token_hex(2)}"
    return KeyEntry.from_material(key_id, secrets.token_bytes(SM4_KEY_BYTES + MAC_KEY_BYTES))


# --- Sources of the key ring -------------------------------------------------------------------------------------


def parse_key_setting(value: str) -> KeyRing:
    """Parse GOVSHARE_ENCRYPTION_KEYS: comma-separated `id:base64`, active first."""
    entries: list[KeyEntry] = []
    for part in (p.strip() for p in value.split(",")):
        if not part:
            continue
        key_id, sep, encoded = part.partition(":")
        if not sep:
            raise KeyRingError(f"{SETTING} 中的“{key_id[:8]}…”缺少密钥标识：格式为 标识:Base64密钥，多个用逗号分隔")
        try:
            material = base64.b64decode(encoded.strip(), validate=True)
        except ValueError:  # binascii.Error, or a character outside ASCII
            raise KeyRingError(f"{SETTING} 中密钥“{key_id.strip()}”不是有效的 Base64") from None
        entries.append(KeyEntry.from_material(key_id.strip(), material))
    return KeyRing(tuple(entries), source="setting")


def key_file(data_dir: Path) -> Path:
    return data_dir / KEY_FILE


def _read_key_file(path: Path) -> KeyRing:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        entries = tuple(
            KeyEntry.from_material(str(item["id"]), base64.b64decode(str(item["key"]), validate=True))
            for item in document["keys"]
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise KeyRingError(f"密钥文件 {path} 无法读取或格式错误：{exc}") from None
    return KeyRing(entries, source=str(path))


def _write_key_file(path: Path, ring: KeyRing, *, exclusive: bool) -> bool:
    document = {
        "version": 1,
        "comment": "govshare encryption keys: the first is active. Never commit or copy this file into the database.",
        "keys": [{"id": k.key_id, "key": base64.b64encode(k.material).decode("ascii")} for k in ring.keys],
    }
    return write_private_json(path, document, exclusive=exclusive)


def write_private_json(path: Path, document: dict[str, Any], *, exclusive: bool) -> bool:
    """Write a key file (mode 0600, its directory 0700) whole; with `exclusive`, only if it does not exist yet.
    True if it was written."""
    data = (json.dumps(document, indent=2) + "\n").encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # Written whole to a temporary file first: a reader sees no ring, the old one or the new one, never half a file.
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    if not exclusive:
        os.replace(temporary, path)
        return True
    try:
        # A hard link fails if the file exists: two processes starting at once cannot both create (and one
        # silently replace the other's key).
        os.link(temporary, path)
    except FileExistsError:
        return False
    finally:
        temporary.unlink()
    return True


def init_key_file(data_dir: Path) -> bool:
    """Create the key file with one new key unless it exists; True if it was created."""
    return _write_key_file(key_file(data_dir), KeyRing((generate_key(),), source=""), exclusive=True)


def add_key(data_dir: Path) -> KeyEntry:
    """Put a new key at the front of the key file (it becomes active); the old keys stay for decryption."""
    path = key_file(data_dir)
    ring = _read_key_file(path)
    entry = generate_key()
    while entry.key_id in ring.key_ids:
        entry = generate_key()
    _write_key_file(path, KeyRing((entry, *ring.keys), source=str(path)), exclusive=False)
    _forget()
    return entry


def remove_key(data_dir: Path, key_id: str) -> None:
    """Drop a non-active key from the key file; the caller has checked that no stored value uses it."""
    path = key_file(data_dir)
    ring = _read_key_file(path)
    ring.get(key_id)
    if ring.active.key_id == key_id:
        raise KeyRingError(f"密钥“{key_id}”是当前启用的密钥，不能退役：请先运行 govshare keys add 和 rotate_keys")
    _write_key_file(path, KeyRing(tuple(k for k in ring.keys if k.key_id != key_id), source=str(path)), exclusive=False)
    _forget()


# The last ring read, with what it was read from: one tuple replaced whole, so threads never see it half-updated.
_cached: tuple[tuple[str, str, int], KeyRing] | None = None


def _remember(source: tuple[str, str, int], read: Callable[[], KeyRing]) -> KeyRing:
    global _cached
    cached = _cached
    if cached is not None and cached[0] == source:
        return cached[1]
    ring = read()
    _cached = (source, ring)
    return ring


def _forget() -> None:
    global _cached
    _cached = None


def load_key_ring(*, configured: str, data_dir: Path, production: bool) -> KeyRing:
    """The key ring from the setting if given, else the key file (created on first use outside production)."""
    if configured.strip():
        return _remember(("setting", configured, 0), lambda: parse_key_setting(configured))
    path = key_file(data_dir)
    if not path.is_file():
        if production:
            raise KeyRingError(
                f"生产模式下未配置加密密钥：请设置 {SETTING}，或在数据目录下运行 govshare keys init 生成 {path}"
            )
        init_key_file(data_dir)
    # The file's modification time is part of the cache key: `keys add` in another process is seen at the next use.
    return _remember(("file", str(path), path.stat().st_mtime_ns), lambda: _read_key_file(path))


def current_key_ring() -> KeyRing:
    """The key ring of the running platform (Django settings)."""
    from django.conf import settings

    config: Any = settings.GOVSHARE
    return load_key_ring(
        configured=config.encryption_keys, data_dir=Path(config.data_dir), production=bool(config.production)
    )


# --- Values ------------------------------------------------------------------------------------------------------


@lru_cache(maxsize=32)
def _sm4(key: bytes) -> algorithms.SM4:
    """The algorithm object of a key, built once (it only holds the checked key; a column reuses it per value)."""
    return algorithms.SM4(key)


def encrypt_bytes(plaintext: bytes, associated_data: bytes, entry: KeyEntry) -> bytes:
    """nonce ‖ ciphertext ‖ tag under SM4-GCM."""
    nonce = secrets.token_bytes(NONCE_BYTES)
    encryptor = Cipher(_sm4(entry.sm4_key), modes.GCM(nonce)).encryptor()
    encryptor.authenticate_additional_data(associated_data)
    body = encryptor.update(plaintext) + encryptor.finalize()
    return nonce + body + encryptor.tag


def decrypt_bytes(blob: bytes, associated_data: bytes, entry: KeyEntry, *, where: str = "") -> bytes:
    if len(blob) < NONCE_BYTES + TAG_BYTES:
        raise DecryptionError(f"{where}密文长度不足，已损坏")
    nonce, body, tag = blob[:NONCE_BYTES], blob[NONCE_BYTES:-TAG_BYTES], blob[-TAG_BYTES:]
    decryptor = Cipher(_sm4(entry.sm4_key), modes.GCM(nonce, tag)).decryptor()
    decryptor.authenticate_additional_data(associated_data)
    try:
        return decryptor.update(body) + decryptor.finalize()
    except InvalidTag:
        raise DecryptionError(
            f"{where}密文校验失败（SM4-GCM 认证标签不符）：该值被篡改、损坏，或不属于此字段"
        ) from None


def key_id_of(stored: str) -> str:
    """The key id of a stored value `gs1:<id>:<data>`; DecryptionError if it is not one."""
    version, _, rest = stored.partition(":")
    key_id, sep, _ = rest.partition(":")
    if version != PREFIX or not sep or not KEY_ID_PATTERN.match(key_id):
        raise DecryptionError("该值不是平台的密文（应以 gs1:<密钥标识>: 开头）")
    return key_id


def split_stored(stored: str) -> tuple[str, bytes]:
    """(key id, nonce ‖ ciphertext ‖ tag) of a stored value `gs1:<id>:<base64>`; DecryptionError if it is not one."""
    key_id = key_id_of(stored)
    try:
        return key_id, base64.b64decode(stored[len(PREFIX) + len(key_id) + 2 :], validate=True)
    except ValueError:  # binascii.Error, or a character outside ASCII
        raise DecryptionError("密文不是有效的 Base64，已损坏") from None


def encrypt_text(plaintext: str, associated_data: str, ring: KeyRing | None = None) -> str:
    ring = ring or current_key_ring()
    blob = encrypt_bytes(plaintext.encode("utf-8"), associated_data.encode("utf-8"), ring.active)
    return f"{PREFIX}:{ring.active.key_id}:{base64.b64encode(blob).decode('ascii')}"


def decrypt_text(stored: str, associated_data: str, ring: KeyRing | None = None) -> str:
    where = f"{associated_data}：" if associated_data else ""
    try:
        key_id, blob = split_stored(stored)
    except DecryptionError as exc:
        raise DecryptionError(f"{where}{exc}") from None
    ring = ring or current_key_ring()
    plaintext = decrypt_bytes(blob, associated_data.encode("utf-8"), ring.get(key_id), where=where)
    return plaintext.decode("utf-8")


def equality_hash(value: str, purpose: str, ring: KeyRing | None = None, *, key_id: str | None = None) -> str:
    """HMAC-SM3 (hex) of `value` for `purpose` under the active key (or `key_id`): stored beside a ciphertext so the
    column can be searched by equality without decrypting. The purpose keeps hashes of different columns apart."""
    return equality_hash_bytes(value.encode("utf-8"), purpose, ring, key_id=key_id)


def equality_hash_bytes(value: bytes, purpose: str, ring: KeyRing | None = None, *, key_id: str | None = None) -> str:
    return equality_hasher(purpose, ring, key_id=key_id)(value)


def equality_hasher(purpose: str, ring: KeyRing | None = None, *, key_id: str | None = None) -> Callable[[bytes], str]:
    """`equality_hash_bytes` for many values of one purpose: the keyed state is built once and copied per value."""
    ring = ring or current_key_ring()
    entry = ring.get(key_id) if key_id else ring.active
    keyed = hmac.HMAC(entry.mac_key, hashes.SM3())
    keyed.update(purpose.encode("utf-8") + b"\x00")

    def digest(value: bytes) -> str:
        mac = keyed.copy()
        mac.update(value)
        return mac.finalize().hex()

    return digest


def equality_hash_candidates(value: str, purpose: str, ring: KeyRing | None = None) -> list[str]:
    """The hash of `value` under every key of the ring: a lookup uses `<column>_hash__in=` these, so rows hashed
    under an older key are still found until rotation has re-hashed them."""
    ring = ring or current_key_ring()
    return [equality_hash(value, purpose, ring, key_id=k.key_id) for k in ring.keys]
