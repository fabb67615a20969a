"""The authenticator key (TOTP shared secret) is encrypted at rest: identity.TOTPDevice stores SM4-GCM ciphertext,
verifies exactly as django-otp's TOTPDevice does, is re-encrypted by `govshare rotate_keys`, and migration
identity.0003 moved django-otp's plain-text devices into it."""

from __future__ import annotations

import base64
import importlib
import io
from types import SimpleNamespace
from typing import Any

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice as PlainTOTPDevice

from govshare.accounts.models import User
from govshare.core import crypto
from govshare.identity import services
from govshare.identity.models import TOTPDevice
from govshare.testing import TEST_PASSWORD
from govshare.testing.oidc import code_for, enrol, wrong_code

pytestmark = pytest.mark.django_db

PLACE = "identity.TOTPDevice.key"
migration = importlib.import_module("govshare.identity.migrations.0003_move_totp_devices_to_encrypted_key")


def raw_key(device: TOTPDevice) -> str:
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {quote('key')} FROM {quote('identity_totpdevice')} WHERE id = %s", [device.pk])  # noqa: S608
        return str(cursor.fetchone()[0])


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def signs_in_with_code(username: str, code: str) -> bool:
    client = Client()
    client.post("/login/", {"username": username, "password": TEST_PASSWORD}, REMOTE_ADDR="10.0.0.1")
    client.post("/login/code/", {"code": code}, REMOTE_ADDR="10.0.0.1")
    return "_auth_user_id" in client.session


def move_forward() -> None:
    migration.move_totp_devices_to_encrypted_key(apps, SimpleNamespace(connection=connection))


def move_backward() -> None:
    migration.move_totp_devices_back_to_plain_key(apps, SimpleNamespace(connection=connection))


# ------------------------------------------------------------------------------------------ the stored key


def test_the_stored_key_is_ciphertext_without_the_secret(catalog_admin: User) -> None:
    device = enrol(catalog_admin)
    stored = raw_key(device)
    secret_b32 = base64.b32encode(device.bin_key).decode().rstrip("=")
    assert len(device.key) == 40 and set(device.key) <= set("0123456789abcdef")  # 20 bytes, hex as django-otp stores
    assert stored.startswith(f"gs1:{crypto.current_key_ring().active.key_id}:")
    assert device.key.lower() not in stored.lower() and secret_b32 not in stored
    assert crypto.decrypt_text(stored, PLACE) == device.key


def test_each_save_writes_a_fresh_ciphertext_of_the_same_key(catalog_admin: User) -> None:
    device = enrol(catalog_admin)
    before = raw_key(device)
    assert services.verify_second_factor(catalog_admin, code_for(device, 1)) is not None
    assert raw_key(device) != before
    assert TOTPDevice.objects.get(pk=device.pk).key == device.key


def test_nothing_is_left_in_django_otp_s_plain_text_table(catalog_admin: User) -> None:
    enrol(catalog_admin)
    assert TOTPDevice.objects.filter(user=catalog_admin, confirmed=True).count() == 1
    assert not PlainTOTPDevice.objects.exists()


def test_the_fields_are_django_otp_s_but_the_key() -> None:
    def described(model: Any) -> dict[str, tuple[str, Any]]:
        return {
            f.name: (type(f).__name__, f.default)
            for f in model._meta.concrete_fields
            if f.name not in {"id", "key", "user"}
        }

    assert described(TOTPDevice) == described(PlainTOTPDevice)
    assert TOTPDevice._meta.get_field("key").default is PlainTOTPDevice._meta.get_field("key").default


# ------------------------------------------------------------------------------------------ verification


def test_a_code_is_verified_once_and_its_step_is_stored(catalog_admin: User) -> None:
    device = enrol(catalog_admin)
    code = code_for(device, 1)
    assert services.verify_second_factor(catalog_admin, code) is not None
    assert services.verify_second_factor(catalog_admin, code) is None
    assert TOTPDevice.objects.get(pk=device.pk).last_t > device.last_t


def test_a_wrong_code_is_counted_on_the_device(catalog_admin: User) -> None:
    device = enrol(catalog_admin)
    assert services.verify_second_factor(catalog_admin, wrong_code(device)) is None
    assert TOTPDevice.objects.get(pk=device.pk).throttling_failure_count == 1
    assert services.verify_second_factor(catalog_admin, code_for(device, 1)) is not None
    assert TOTPDevice.objects.get(pk=device.pk).throttling_failure_count == 0


# ------------------------------------------------------------------------------------------ rotation


def test_rotation_re_encrypts_the_key_and_the_user_still_signs_in(settings, catalog_admin: User) -> None:  # type: ignore[no-untyped-def]
    device = enrol(catalog_admin)
    old = crypto.current_key_ring().active.key_id
    run("keys", "add")
    new = crypto.current_key_ring().active.key_id
    with pytest.raises(CommandError, match=rf"密钥 {old} 仍在使用，不能退役（{PLACE} 有 1 个值）"):
        run("keys", "retire", old)

    run("rotate_keys")

    assert crypto.key_id_of(raw_key(device)) == new
    run("keys", "retire", old)
    assert crypto.current_key_ring().key_ids == [new]
    assert signs_in_with_code("gaj_admin", code_for(device, 1))


# ------------------------------------------------------------------------------------------ migration identity.0003


def test_the_migration_moves_plain_devices_and_encrypts_their_keys(catalog_admin: User, outsider: User) -> None:
    used = PlainTOTPDevice.objects.create(user=catalog_admin, name="验证器应用", confirmed=True, drift=1)
    used_code = code_for(used)
    assert used.verify_token(used_code)  # django-otp's own path: last_t is now this step
    pending = PlainTOTPDevice.objects.create(user=outsider, name="验证器应用", confirmed=False)
    PlainTOTPDevice.objects.filter(pk=used.pk).update(throttling_failure_count=2)

    move_forward()

    assert not PlainTOTPDevice.objects.exists()
    moved = TOTPDevice.objects.get(user=catalog_admin)
    assert (moved.key, moved.confirmed, moved.last_t, moved.drift) == (used.key, True, used.last_t, used.drift)
    assert (moved.throttling_failure_count, moved.created_at) == (2, used.created_at)
    assert used.key not in raw_key(moved) and raw_key(moved).startswith("gs1:")
    assert TOTPDevice.objects.get(user=outsider, confirmed=False).key == pending.key


def test_after_the_migration_a_used_code_is_refused_and_the_next_signs_in(catalog_admin: User) -> None:
    used = PlainTOTPDevice.objects.create(user=catalog_admin, name="验证器应用", confirmed=True)
    used_code = code_for(used)
    assert used.verify_token(used_code)
    move_forward()
    moved = TOTPDevice.objects.get(user=catalog_admin)
    assert not signs_in_with_code("gaj_admin", used_code)
    assert signs_in_with_code("gaj_admin", code_for(moved, 1))


def test_the_migration_backwards_restores_the_plain_devices(catalog_admin: User) -> None:
    device = enrol(catalog_admin)
    move_backward()
    assert not TOTPDevice.objects.exists()
    plain = PlainTOTPDevice.objects.get(user=catalog_admin)
    assert (plain.key, plain.confirmed, plain.last_t) == (device.key, True, device.last_t)


def test_without_devices_the_migration_needs_no_key(settings) -> None:  # type: ignore[no-untyped-def]
    settings.GOVSHARE = settings.GOVSHARE.model_copy(update={"production": True, "encryption_keys": ""})
    with pytest.raises(crypto.KeyRingError):
        crypto.current_key_ring()
    move_forward()
    assert not TOTPDevice.objects.exists()
