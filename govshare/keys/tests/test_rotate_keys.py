"""`govshare rotate_keys` and `govshare keys`: re-encrypt with the active key, then retire the old key safely."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from govshare.audit.models import AuditLog
from govshare.core import crypto
from govshare.keys.rotation import BatchReport, encrypted_columns, key_usage, rotate_column
from govshare.sources.models import Source
from govshare.testing.encryption import make_source, raw_secret, setting_value

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def key_ids(settings) -> list[str]:  # type: ignore[no-untyped-def]
    document = json.loads(crypto.key_file(settings.GOVSHARE.data_dir).read_text())
    return [item["id"] for item in document["keys"]]


def test_rotate_then_retire_the_old_key_and_every_value_still_decrypts(settings) -> None:  # type: ignore[no-untyped-def]
    sources = [make_source(f"口令-{n}") for n in range(5)]
    old = crypto.current_key_ring().active.key_id
    run("keys", "add")
    new = crypto.current_key_ring().active.key_id

    output = run("rotate_keys", "--batch-size", "2")

    assert "datasets.Source.secret：第 3 批，已检查 5/5 行，本批重新加密 1 行" in output
    assert f"仍在使用的密钥：{new}" in output and f"可以退役的密钥：{old}" in output
    assert {crypto.key_id_of(raw_secret(s)) for s in sources} == {new}
    run("keys", "retire", old)
    assert key_ids(settings) == [new]
    assert list(
        AuditLog.objects.filter(action__startswith="keys.key.").order_by("id").values_list("action", "object_id")
    ) == [
        ("keys.key.add", new),
        ("keys.key.retire", old),
    ]
    assert [Source.objects.get(pk=s.pk).secret for s in sources] == [f"口令-{n}" for n in range(5)]


def test_retiring_a_key_still_in_use_is_refused_in_chinese(settings) -> None:  # type: ignore[no-untyped-def]
    make_source("db-password")
    old = crypto.current_key_ring().active.key_id
    run("keys", "add")
    with pytest.raises(CommandError, match=rf"密钥 {old} 仍在使用，不能退役（datasets.Source.secret 有 1 个值）"):
        run("keys", "retire", old)
    assert old in key_ids(settings)
    assert not AuditLog.objects.filter(action="keys.key.retire").exists()


def test_the_active_key_cannot_be_retired(settings) -> None:  # type: ignore[no-untyped-def]
    active = crypto.current_key_ring().active.key_id
    with pytest.raises(CommandError, match="是当前启用的密钥，不能退役"):
        run("keys", "retire", active)


class Interrupted(Exception):
    pass


def test_rotation_resumes_an_interrupted_run_without_rewriting_what_is_done(settings) -> None:  # type: ignore[no-untyped-def]
    sources = [make_source(f"p{n}") for n in range(3)]
    crypto.add_key(settings.GOVSHARE.data_dir)
    (column,) = [c for c in encrypted_columns() if c.place == "datasets.Source.secret"]

    def stop_after_first_batch(batch: BatchReport) -> None:
        raise Interrupted

    with pytest.raises(Interrupted):
        rotate_column(column, crypto.current_key_ring(), batch_size=1, report=stop_after_first_batch)
    first = raw_secret(sources[0])
    reports: list[BatchReport] = []
    assert rotate_column(column, crypto.current_key_ring(), batch_size=1, report=reports.append) == 2
    assert [r.rewritten for r in reports] == [0, 1, 1]
    assert raw_secret(sources[0]) == first


def test_each_rewritten_batch_leaves_an_audit_row(settings) -> None:  # type: ignore[no-untyped-def]
    make_source("a"), make_source("b"), make_source("c")
    crypto.add_key(settings.GOVSHARE.data_dir)
    run("rotate_keys", "--batch-size", "2")
    rows = AuditLog.objects.filter(action="keys.field.reencrypt").order_by("id")
    assert [(r.extra["batch"], r.extra["rewritten"]) for r in rows] == [(1, 2), (2, 1)]
    assert run("rotate_keys").count("本批重新加密 0 行") == 1
    assert AuditLog.objects.filter(action="keys.field.reencrypt").count() == 2


def test_keys_from_the_setting_rotate_and_the_key_file_commands_refuse(settings) -> None:  # type: ignore[no-untyped-def]
    k1, k2 = crypto.generate_key("k1"), crypto.generate_key("k2")
    settings.GOVSHARE = settings.GOVSHARE.model_copy(update={"encryption_keys": setting_value(k1)})
    source = make_source("db-password")
    settings.GOVSHARE = settings.GOVSHARE.model_copy(update={"encryption_keys": setting_value(k2, k1)})
    assert key_usage()["datasets.Source.secret"] == {"k1": 1}
    assert "可以退役的密钥：k1" in run("rotate_keys")
    assert key_usage()["datasets.Source.secret"] == {"k2": 1}
    with pytest.raises(CommandError, match="密钥由 GOVSHARE_ENCRYPTION_KEYS 配置"):
        run("keys", "add")
    settings.GOVSHARE = settings.GOVSHARE.model_copy(update={"encryption_keys": setting_value(k2)})
    assert Source.objects.get(pk=source.pk).secret == "db-password"
    assert not crypto.key_file(settings.GOVSHARE.data_dir).exists()


def test_keys_init_creates_the_file_once_and_status_counts_values(settings) -> None:  # type: ignore[no-untyped-def]
    assert "已生成密钥文件" in run("keys", "init")
    assert "密钥文件已存在，未覆盖" in run("keys", "init")
    make_source("db-password")
    active = crypto.current_key_ring().active.key_id
    assert f"{active}（启用）：元数据库 1 个值，0 个保留的数据集版本" in run("keys", "status")


def test_a_generated_key_is_a_valid_setting_value() -> None:
    value = run("keys", "generate").strip()
    assert len(crypto.parse_key_setting(value).active.material) == 48
