"""Encryption at rest: SM4-GCM values, the key ring from a setting or the key file, the encrypted model field."""

from __future__ import annotations

import base64
import importlib
import stat
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.core.exceptions import FieldError
from django.db import connection
from hypothesis import given
from hypothesis import strategies as st

from govshare.core import crypto
from govshare.core.checks import check_encryption_keys
from govshare.sources.models import Source
from govshare.testing.encryption import make_source, raw_secret, setting_value

PLACE = "datasets.Source.secret"
RING = crypto.KeyRing((crypto.generate_key("k1"),), source="test")


def flip_byte(stored: str, index: int) -> str:
    head, _, encoded = stored.rpartition(":")
    blob = bytearray(base64.b64decode(encoded))
    blob[index] ^= 0x01
    return f"{head}:{base64.b64encode(bytes(blob)).decode()}"


# --- Values ------------------------------------------------------------------------------------------------------


@given(st.text())
def test_any_text_comes_back_from_its_ciphertext(text: str) -> None:
    assert crypto.decrypt_text(crypto.encrypt_text(text, PLACE, RING), PLACE, RING) == text


def test_a_ciphertext_names_its_version_and_key_and_never_repeats() -> None:
    first, second = crypto.encrypt_text("口令", PLACE, RING), crypto.encrypt_text("口令", PLACE, RING)
    assert first.startswith("gs1:k1:") and crypto.key_id_of(first) == "k1"
    assert first != second  # a fresh 12-byte nonce every time
    assert len(base64.b64decode(first.split(":")[2])) == 12 + len("口令".encode()) + 16


@pytest.mark.parametrize("index", [0, 12, -1], ids=["nonce", "ciphertext", "tag"])
def test_a_changed_byte_is_refused_by_the_gcm_tag(index: int) -> None:
    stored = crypto.encrypt_text("db-password", PLACE, RING)
    with pytest.raises(crypto.DecryptionError, match="认证标签不符"):
        crypto.decrypt_text(flip_byte(stored, index), PLACE, RING)


def test_a_ciphertext_moved_to_another_field_does_not_decrypt() -> None:
    stored = crypto.encrypt_text("db-password", PLACE, RING)
    with pytest.raises(crypto.DecryptionError, match="不属于此字段"):
        crypto.decrypt_text(stored, "accounts.User.phone", RING)


def test_plaintext_where_a_ciphertext_belongs_is_refused() -> None:
    with pytest.raises(crypto.DecryptionError, match="不是平台的密文"):
        crypto.decrypt_text("hunter2", PLACE, RING)


def test_a_value_under_an_old_key_still_decrypts_after_a_new_key_became_active() -> None:
    old = crypto.encrypt_text("旧口令", PLACE, RING)
    newer = crypto.KeyRing((crypto.generate_key("k2"), *RING.keys), source="test")
    assert crypto.key_id_of(crypto.encrypt_text("x", PLACE, newer)) == "k2"
    assert crypto.decrypt_text(old, PLACE, newer) == "旧口令"


def test_a_value_under_a_key_no_longer_in_the_ring_names_the_key() -> None:
    stored = crypto.encrypt_text("x", PLACE, RING)
    other = crypto.KeyRing((crypto.generate_key("k9"),), source="test")
    with pytest.raises(crypto.KeyRingError, match="没有密钥“k1”"):
        crypto.decrypt_text(stored, PLACE, other)


def test_equality_hash_is_hmac_sm3_hex_keyed_and_separated_by_purpose() -> None:
    digest = crypto.equality_hash("13800000000", "phone", RING)
    assert len(digest) == 64 and set(digest) <= set("0123456789abcdef")
    assert crypto.equality_hash("13800000000", "phone", RING) == digest
    assert crypto.equality_hash("13800000000", "address", RING) != digest
    other = crypto.KeyRing((crypto.generate_key("k2"),), source="test")
    assert crypto.equality_hash("13800000000", "phone", other) != digest


def test_equality_hash_candidates_find_a_value_hashed_under_an_older_key() -> None:
    stored_hash = crypto.equality_hash("13800000000", "phone", RING)
    newer = crypto.KeyRing((crypto.generate_key("k2"), *RING.keys), source="test")
    assert stored_hash in crypto.equality_hash_candidates("13800000000", "phone", newer)
    assert stored_hash not in crypto.equality_hash_candidates("13900000000", "phone", newer)


# --- The key ring ------------------------------------------------------------------------------------------------


def test_the_setting_lists_keys_with_the_active_one_first() -> None:
    k2, k1 = crypto.generate_key("k2"), crypto.generate_key("k1")
    ring = crypto.parse_key_setting(setting_value(k2, k1))
    assert ring.key_ids == ["k2", "k1"] and ring.active == k2


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("k1", "缺少密钥标识"),
        ("k1:not base64!", "不是有效的 Base64"),
        (f"k1:{base64.b64encode(b'x' * 16).decode()}", "应为 48 字节"),
        (f"k 1:{base64.b64encode(b'x' * 48).decode()}", "密钥标识“k 1”无效"),
        (f"k1:{base64.b64encode(b'x' * 48).decode()},k1:{base64.b64encode(b'y' * 48).decode()}", "重复"),
        (" , ", "密钥环为空"),
    ],
)
def test_a_bad_setting_says_what_is_wrong(value: str, message: str) -> None:
    with pytest.raises(crypto.KeyRingError, match=message):
        crypto.parse_key_setting(value)


KEY_IDS = st.from_regex(r"[A-Za-z0-9_-]{1,32}", fullmatch=True)


@given(st.lists(KEY_IDS, min_size=1, max_size=5, unique=True))
def test_any_ring_written_as_the_setting_reads_back_the_same(ids: list[str]) -> None:
    entries = [crypto.generate_key(key_id) for key_id in ids]
    assert crypto.parse_key_setting(setting_value(*entries)).keys == tuple(entries)


@given(st.text())
def test_any_setting_text_is_a_ring_or_a_chinese_key_ring_error(value: str) -> None:
    try:
        crypto.parse_key_setting(value)
    except crypto.KeyRingError as exc:
        assert "密钥" in str(exc)


@given(st.text())
def test_any_stored_text_decrypts_or_raises_a_clear_error(stored: str) -> None:
    try:
        crypto.decrypt_text(stored, PLACE, RING)
    except (crypto.DecryptionError, crypto.KeyRingError) as exc:
        assert "密" in str(exc)


def test_development_creates_the_key_file_on_first_use_readable_only_by_its_owner(tmp_path: Path) -> None:
    ring = crypto.load_key_ring(configured="", data_dir=tmp_path, production=False)
    path = tmp_path / "keys" / "keyring.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert crypto.load_key_ring(configured="", data_dir=tmp_path, production=False).active == ring.active


def test_production_refuses_a_missing_key_ring_naming_the_variable(tmp_path: Path) -> None:
    with pytest.raises(crypto.KeyRingError, match="GOVSHARE_ENCRYPTION_KEYS"):
        crypto.load_key_ring(configured="", data_dir=tmp_path, production=True)
    assert not (tmp_path / "keys").exists()


def test_production_start_up_check_fails_without_a_key_ring(settings) -> None:  # type: ignore[no-untyped-def]
    settings.GOVSHARE = settings.GOVSHARE.model_copy(update={"production": True})
    errors = check_encryption_keys()
    assert [e.id for e in errors] == ["govshare.E030"] and "GOVSHARE_ENCRYPTION_KEYS" in errors[0].msg
    settings.GOVSHARE = settings.GOVSHARE.model_copy(update={"encryption_keys": setting_value(crypto.generate_key())})
    assert check_encryption_keys() == []


def test_a_key_added_to_the_file_becomes_active_and_the_old_one_stays(tmp_path: Path) -> None:
    crypto.init_key_file(tmp_path)
    old = crypto.load_key_ring(configured="", data_dir=tmp_path, production=False)
    entry = crypto.add_key(tmp_path)
    ring = crypto.load_key_ring(configured="", data_dir=tmp_path, production=False)
    assert ring.key_ids == [entry.key_id, old.active.key_id]


# --- The model field ---------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_database_column_holds_ciphertext_and_the_model_the_plaintext() -> None:
    source = make_source("前置库口令-Secret!")
    raw = raw_secret(source)
    assert "前置库口令" not in raw and "Secret" not in raw and raw.startswith("gs1:")
    assert Source.objects.get(pk=source.pk).secret == "前置库口令-Secret!"
    assert Source.objects.values_list("secret", flat=True).get(pk=source.pk) == "前置库口令-Secret!"


@pytest.mark.django_db
def test_an_empty_credential_stays_empty() -> None:
    source = make_source("")
    assert raw_secret(source) == ""
    assert Source.objects.get(pk=source.pk).secret == ""


@pytest.mark.django_db
def test_a_tampered_column_raises_a_clear_error_on_load() -> None:
    source = make_source("db-password")
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE datasets_source SET secret = %s WHERE id = %s", [flip_byte(raw_secret(source), 20), source.pk]
        )
    with pytest.raises(crypto.DecryptionError, match=r"datasets\.Source\.secret：密文校验失败"):
        Source.objects.get(pk=source.pk)


@pytest.mark.django_db
def test_a_secret_under_an_old_key_loads_after_a_new_key_became_active(settings) -> None:  # type: ignore[no-untyped-def]
    source = make_source("db-password")
    crypto.add_key(settings.GOVSHARE.data_dir)
    assert Source.objects.get(pk=source.pk).secret == "db-password"
    Source.objects.filter(pk=source.pk).update(secret="new-password")
    assert crypto.key_id_of(raw_secret(source)) == crypto.current_key_ring().active.key_id


@pytest.mark.django_db
def test_equality_lookups_on_ciphertext_are_refused() -> None:
    with pytest.raises(FieldError, match="Unsupported lookup 'exact'"):
        list(Source.objects.filter(secret="db-password"))
    assert list(Source.objects.filter(secret__isnull=True)) == []


@pytest.mark.django_db
def test_the_data_migration_encrypts_credentials_stored_in_plaintext_and_leaves_ciphertext_alone() -> None:
    migration = importlib.import_module("govshare.datasets.migrations.0003_encrypt_source_secrets")
    plain, already = make_source(""), make_source("kept")
    encrypted = raw_secret(already)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE datasets_source SET secret = %s WHERE id = %s", ["legacy-password", plain.pk])
    # The migration only uses the schema editor's connection (a schema editor cannot open inside a test's transaction).
    migration.encrypt_source_secrets(None, SimpleNamespace(connection=connection))
    assert raw_secret(plain).startswith("gs1:") and raw_secret(already) == encrypted
    assert Source.objects.get(pk=plain.pk).secret == "legacy-password"


def test_production_does_not_start_without_keys_and_starts_with_keys_init(tmp_path: Path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "GOVSHARE_DATA_DIR": str(tmp_path),
        "GOVSHARE_PRODUCTION": "true",
        "GOVSHARE_SECRET_KEY": "p" * 50,
    }

    def govshare(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "govshare", *args]
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)

    refused = govshare("check")
    assert refused.returncode != 0 and "govshare.E030" in refused.stderr
    assert "GOVSHARE_ENCRYPTION_KEYS" in refused.stderr
    assert govshare("keys", "init").returncode == 0
    # The audit MAC key is a key ring of its own (govshare.audit.keys), required as well.
    refused = govshare("check")
    assert refused.returncode != 0 and "govshare.E031" in refused.stderr and "GOVSHARE_AUDIT_KEYS" in refused.stderr
    assert govshare("audit_keys", "init").returncode == 0
    assert govshare("check").returncode == 0


def test_init_never_replaces_an_existing_key_file_and_leaves_no_temporary_files(tmp_path: Path) -> None:
    assert crypto.init_key_file(tmp_path) is True
    before = crypto.key_file(tmp_path).read_bytes()
    assert crypto.init_key_file(tmp_path) is False
    assert crypto.key_file(tmp_path).read_bytes() == before
    assert [p.name for p in (tmp_path / "keys").iterdir()] == ["keyring.json"]
