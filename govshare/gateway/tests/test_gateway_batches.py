"""Batch comparison (数据比对): an upload through the gateway, the real job (queued for django-q, run by its runner)
joining the keys with the version's Parquet files in DuckDB, and the result file downloaded — masked, inside the
grant's items and rows, audited without a key or a value, refused at revocation."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import logging
from pathlib import Path
from typing import Any

import pytest
from django_q.models import OrmQ
from openpyxl import Workbook, load_workbook

from govshare import testing
from govshare.accounts.choices import Role
from govshare.accounts.models import Department
from govshare.audit.models import AuditLog
from govshare.catalog.models import Resource
from govshare.gateway import batches
from govshare.gateway.choices import BatchStatus
from govshare.gateway.models import ComparisonBatch
from govshare.jobs import registry, runner
from govshare.sharing import grants
from govshare.sharing.models import Grant, GrantUsage
from govshare.testing.gateway import Answer, Consumer
from govshare.testing.sharing import SECRET_VALUES, issue

ZHANG = "510603199001010011"  # 旌阳区
OUYANG = "510603199202020022"  # 罗江区: outside the grant's row filter
LI = "510603199303030033"  # 旌阳区
MISSING = "510603199909090099"


def upload(consumer: Consumer, resource: Resource | int, data: bytes, **query: str) -> Answer:
    pk = resource if isinstance(resource, int) else resource.pk
    params = {"scenario": str(consumer.scenario.pk), **query}
    return consumer.client.call("POST", f"/gateway/v1/resources/{pk}/batches", raw=data, query=params)


def csv_bytes(rows: list[list[str]], encoding: str = "utf-8") -> bytes:
    return "\n".join(",".join(row) for row in rows).encode(encoding) + b"\n"


def run_queued() -> None:
    """Run every queued task as a django-q worker would (its stored function and arguments)."""
    for queued in OrmQ.objects.all():
        task = queued.task
        assert task["func"] == registry.RUNNER
        runner.run(*task["args"])
        queued.delete()


def result_rows(consumer: Consumer, batch: int, **query: str) -> tuple[Answer, list[dict[str, str]]]:
    path = f"/gateway/v1/batches/{batch}/result"
    answer = consumer.client.call("GET", path, query=query)
    if answer.status != 200:
        return answer, []
    if query.get("format") == "xlsx":
        book = load_workbook(io.BytesIO(answer.body), read_only=True)
        rows = [["" if v is None else str(v) for v in row] for row in book.active.iter_rows(values_only=True)]
        return answer, [dict(zip(rows[0], row + [""] * (len(rows[0]) - len(row)), strict=True)) for row in rows[1:]]
    assert answer.body.startswith(b"\xef\xbb\xbf")
    text = answer.body.decode("utf-8-sig")
    return answer, list(csv.DictReader(io.StringIO(text)))


@pytest.fixture(autouse=True)
def _data_dir(settings: Any, tmp_path: Path) -> None:
    settings.GOVSHARE = settings.GOVSHARE.model_copy(update={"data_dir": tmp_path})


def test_a_batch_end_to_end_compares_each_key_and_masks_the_returned_items(
    people: Resource, consumer: Consumer, grant: Grant
) -> None:
    data = csv_bytes(
        [["公民身份号码", "姓名"], [ZHANG, "张三丰"], [LI, "王五"], [OUYANG, "欧阳娜娜"], [MISSING, "赵六"]]
    )
    answer = upload(consumer, people, data, **{"return": "姓名,区县,户籍地址"})
    assert answer.status == 202, answer.body
    batch = answer.json["batch"]
    assert answer.json["status"] == "queued"
    assert answer.json["key_items"] == ["公民身份号码"] and answer.json["compare_items"] == ["姓名"]
    state = consumer.client.call("GET", f"/gateway/v1/batches/{batch}")
    assert (state.status, state.json["status"]) == (200, "queued")
    assert result_rows(consumer, batch)[0].code == "BATCH_NOT_READY"

    run_queued()

    done = consumer.client.call("GET", f"/gateway/v1/batches/{batch}").json
    assert (done["status"], done["progress"], done["keys"], done["found"], done["matched"]) == (
        "done",
        100,
        4,
        2,
        1,
    )
    assert done["expires_at"] and done["version"] == 0
    answer, rows = result_rows(consumer, batch)
    assert answer.headers["Content-Type"].startswith("text/csv")
    assert [row["行号"] for row in rows] == ["2", "3", "4", "5"]
    assert [row["查询结果"] for row in rows] == ["找到", "找到", "未找到", "未找到"]  # 罗江区 is outside the rows
    assert [row["姓名比对"] for row in rows] == ["一致", "不一致", "查无", "查无"]
    assert [row["比对结果"] for row in rows] == ["一致", "不一致", "查无", "查无"]
    assert rows[0]["区县"] == "旌阳区" and rows[2]["区县"] == ""
    assert rows[0]["姓名"] == "张**" and rows[0]["户籍地址"].startswith("四川省德阳市旌阳区*")
    assert rows[0]["公民身份号码"] != ZHANG and rows[0]["公民身份号码"].startswith("5106")
    for secret in (*SECRET_VALUES, LI, "泰山南路", "王五"):
        assert secret not in answer.body.decode("utf-8-sig"), secret
    assert not list(Path(ComparisonBatch.objects.get().upload_path).parent.glob("*.upload"))  # the keys are gone


def test_the_xlsx_result_is_masked_the_same_way(people: Resource, consumer: Consumer, grant: Grant) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["公民身份号码"])
    sheet.append([ZHANG])
    sheet.append([OUYANG])
    stream = io.BytesIO()
    book.save(stream)
    answer = upload(consumer, people, stream.getvalue(), result="xlsx", **{"return": "姓名,户籍地址"})
    assert answer.status == 202, answer.body
    run_queued()
    answer, rows = result_rows(consumer, answer.json["batch"], format="xlsx")
    assert answer.status == 200 and answer.headers["Content-Type"] == batches.XLSX_TYPE
    assert [(row["查询结果"], row["姓名"]) for row in rows] == [("找到", "张**"), ("未找到", "")]
    text = json.dumps(rows, ensure_ascii=False)
    for secret in SECRET_VALUES:
        assert secret not in text


def test_xlsx_is_refused_when_not_asked_at_upload(people: Resource, consumer: Consumer, grant: Grant) -> None:
    answer = upload(consumer, people, csv_bytes([["公民身份号码"], [ZHANG]]))
    run_queued()
    refused, _ = result_rows(consumer, answer.json["batch"], format="xlsx")
    assert (refused.status, refused.code) == (409, "BATCH_XLSX_TOO_LARGE")


def test_a_gbk_file_is_read(people: Resource, consumer: Consumer, grant: Grant) -> None:
    answer = upload(consumer, people, csv_bytes([["公民身份号码", "姓名"], [ZHANG, "张三丰"]], encoding="gbk"))
    assert answer.status == 202, answer.body
    run_queued()
    _, rows = result_rows(consumer, answer.json["batch"])
    assert rows[0]["姓名比对"] == "一致"


def test_items_outside_the_grant_are_refused_by_name(people: Resource, consumer: Consumer, grant: Grant) -> None:
    compared = upload(consumer, people, csv_bytes([["公民身份号码", "手机号码"], [ZHANG, "13812345678"]]))
    returned = upload(consumer, people, csv_bytes([["公民身份号码"], [ZHANG]]), **{"return": "宗教信仰"})
    for answer, item in ((compared, "手机号码"), (returned, "宗教信仰")):
        assert (answer.status, answer.code) == (403, "ITEM_NOT_GRANTED")
        assert item in answer.json["error"]["message"]
    assert not ComparisonBatch.objects.exists() and not OrmQ.objects.exists()


def test_another_system_gets_the_answer_of_a_missing_batch(
    people: Resource, consumer: Consumer, grant: Grant, consumer_department: Department
) -> None:
    from govshare.testing.gateway import consumer_system

    batch = upload(consumer, people, csv_bytes([["公民身份号码"], [ZHANG]])).json["batch"]
    run_queued()
    other = consumer_system(consumer_department, name="另一个系统的场景")
    for path in ("/gateway/v1/batches/{}", "/gateway/v1/batches/{}/result"):
        theirs = other.client.call("GET", path.format(batch))
        missing = other.client.call("GET", path.format(batch + 1000))
        assert (theirs.status, theirs.code) == (missing.status, missing.code) == (404, "BATCH_NOT_FOUND")
        assert theirs.json["error"]["message"].replace(str(batch), "?") == missing.json["error"]["message"].replace(
            str(batch + 1000), "?"
        )


def test_no_grant_answers_the_same_for_an_existing_and_a_missing_resource(people: Resource, consumer: Consumer) -> None:
    data = csv_bytes([["公民身份号码"], [ZHANG]])
    existing = upload(consumer, people, data)
    missing = upload(consumer, people.pk + 1000, data)
    assert (existing.status, existing.code) == (missing.status, missing.code) == (404, "NO_GRANT")
    assert existing.json["error"] == missing.json["error"]
    assert not ComparisonBatch.objects.exists()


def test_a_grant_revoked_before_the_job_runs_stops_it(people: Resource, consumer: Consumer, grant: Grant) -> None:
    batch = upload(consumer, people, csv_bytes([["公民身份号码"], [ZHANG]])).json["batch"]
    reviewer = testing.make_user(Role.DEPT_REVIEWER, department=people.department)
    grants.revoke_grant(grant, actor=reviewer, reason="场景终止")
    run_queued()
    stored = ComparisonBatch.objects.get(pk=batch)
    assert (stored.status, stored.error_code, stored.result_path) == (BatchStatus.FAILED, "NO_GRANT", "")
    assert consumer.client.call("GET", f"/gateway/v1/batches/{batch}").code == "NO_GRANT"


def test_a_grant_revoked_before_the_download_refuses_it(people: Resource, consumer: Consumer, grant: Grant) -> None:
    batch = upload(consumer, people, csv_bytes([["公民身份号码"], [ZHANG]])).json["batch"]
    run_queued()
    reviewer = testing.make_user(Role.DEPT_REVIEWER, department=people.department)
    grants.revoke_grant(grant, actor=reviewer, reason="场景终止")
    answer, _ = result_rows(consumer, batch)
    assert (answer.status, answer.code) == (404, "NO_GRANT")
    assert ZHANG[:6].encode() not in answer.body


def test_the_keys_count_against_the_daily_quota(
    people: Resource, consumer: Consumer, consumer_department: Department
) -> None:
    grant = issue(
        people, consumer_department, scenario=consumer.scenario, items=["公民身份号码", "姓名"], daily_quota=2
    )
    first = upload(consumer, people, csv_bytes([["公民身份号码"], [ZHANG], [LI]])).json["batch"]
    second = upload(consumer, people, csv_bytes([["公民身份号码"], [ZHANG]])).json["batch"]
    run_queued()
    assert ComparisonBatch.objects.get(pk=first).status == BatchStatus.DONE
    refused = ComparisonBatch.objects.get(pk=second)
    assert (refused.status, refused.error_code) == (BatchStatus.FAILED, "QUOTA_EXCEEDED")
    assert GrantUsage.objects.get(grant=grant).accesses == 2


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (csv_bytes([["姓名"], ["张三丰"]]), "KEY_NOT_SUPPORTED"),
        (csv_bytes([["公民身份号码", "", "姓名"], [ZHANG, "x", "y"]]), "第 1 行（表头）第 2 列为空"),
        (csv_bytes([["公民身份号码", "姓名", "公民身份号码"], [ZHANG, "x", ZHANG]]), "出现了两次"),
        (b"\xff\xfe\x00\x00", "无法识别的字符"),
    ],
)
def test_bad_headers_are_refused_at_upload(
    people: Resource, consumer: Consumer, grant: Grant, data: bytes, words: str
) -> None:
    answer = upload(consumer, people, data)
    assert answer.status == 400, answer.body
    assert words in answer.code + answer.json["error"]["message"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            csv_bytes([["公民身份号码", "姓名"], [ZHANG, "张三丰"], ["", "李四"]]),
            "第 3 行第 1 列（“公民身份号码”）为空",
        ),
        (csv_bytes([["公民身份号码", "姓名"], [ZHANG, "张三丰"], [LI]]), "第 3 行有 1 列，表头有 2 列"),
        (csv_bytes([["公民身份号码", "姓名"], [ZHANG, "张" * 201]]), "第 2 行第 2 列（“姓名”）超过 200 个字符"),
        ("公民身份号码\n".encode() + ZHANG.encode() + b"\n\xff\xff\n", "第 3 行含有无法识别的字符"),
        (csv_bytes([["公民身份号码"]]), "只有表头"),
    ],
)
def test_bad_rows_fail_the_batch_with_the_row_and_column(
    people: Resource, consumer: Consumer, grant: Grant, data: bytes, message: str
) -> None:
    answer = upload(consumer, people, data)
    assert answer.status == 202, answer.body
    run_queued()
    state = consumer.client.call("GET", f"/gateway/v1/batches/{answer.json['batch']}").json
    assert state["status"] == "failed"
    assert state["error"]["code"] == "INVALID_BATCH_FILE" and message in state["error"]["message"]
    refused, _ = result_rows(consumer, answer.json["batch"])
    assert (refused.status, refused.code) == (409, "BATCH_FAILED")


def test_too_many_rows_are_refused(
    people: Resource, consumer: Consumer, grant: Grant, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(batches, "CSV_KEY_LIMIT", 2)
    answer = upload(consumer, people, csv_bytes([["公民身份号码"], [ZHANG], [LI], [OUYANG]]))
    run_queued()
    stored = ComparisonBatch.objects.get(pk=answer.json["batch"])
    assert stored.status == BatchStatus.FAILED and "文件有 3 行数据，超过 CSV 文件 2 行的上限" in stored.error


def test_a_file_over_the_size_limit_is_refused_unread(
    people: Resource, consumer: Consumer, grant: Grant, settings: Any
) -> None:
    settings.GOVSHARE = settings.GOVSHARE.model_copy(update={"gateway_batch_max_bytes": 1024})
    answer = upload(consumer, people, csv_bytes([["公民身份号码"]] + [[ZHANG]] * 100))
    assert (answer.status, answer.code) == (413, "BATCH_FILE_TOO_LARGE")


def test_the_audit_rows_name_the_batch_and_hold_no_key_and_no_value(
    people: Resource, consumer: Consumer, grant: Grant
) -> None:
    data = csv_bytes([["公民身份号码", "姓名"], [ZHANG, "张三丰"], [OUYANG, "欧阳娜娜"]])
    batch = upload(consumer, people, data, **{"return": "姓名"}).json["batch"]
    run_queued()
    result_rows(consumer, batch)
    rows = list(AuditLog.objects.filter(action__startswith="gateway.batch.").order_by("id"))
    assert [row.action for row in rows] == ["gateway.batch.submit", "gateway.batch.run", "gateway.batch.download"]
    assert all(row.object_type == "gateway.comparisonbatch" and row.object_id == str(batch) for row in rows)
    assert rows[1].extra["keys"] == 2 and rows[2].extra["rows"] == 2
    trail = json.dumps([[row.object_id, row.object_repr, row.extra] for row in rows], ensure_ascii=False)
    for secret in (*SECRET_VALUES, ZHANG, OUYANG):
        assert secret not in trail


def test_an_expired_result_is_swept_and_answers_a_clear_error(
    people: Resource, consumer: Consumer, grant: Grant
) -> None:
    batch = upload(consumer, people, csv_bytes([["公民身份号码"], [ZHANG]])).json["batch"]
    run_queued()
    stored = ComparisonBatch.objects.get(pk=batch)
    assert Path(stored.result_path).is_file() and stored.expires_at is not None
    assert batches.sweep_batches(now=stored.expires_at - dt.timedelta(minutes=1)) == 0
    assert batches.sweep_batches(now=stored.expires_at + dt.timedelta(minutes=1)) == 1
    assert not Path(stored.result_path).exists()
    answer, _ = result_rows(consumer, batch)
    assert (answer.status, answer.code) == (410, "BATCH_EXPIRED")


def test_a_job_run_twice_does_nothing_the_second_time(people: Resource, consumer: Consumer, grant: Grant) -> None:
    batch = upload(consumer, people, csv_bytes([["公民身份号码"], [ZHANG]])).json["batch"]
    assert batches.run_batch(batch) == "done"
    assert batches.run_batch(batch) == "done"
    assert AuditLog.objects.filter(action="gateway.batch.run").count() == 1


def test_an_xlsx_over_its_row_limit_is_refused_naming_the_limit(
    people: Resource, consumer: Consumer, grant: Grant, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(batches, "XLSX_KEY_LIMIT", 1)
    book = Workbook()
    for row in (["公民身份号码"], [ZHANG], [LI]):
        book.active.append(row)
    stream = io.BytesIO()
    book.save(stream)
    answer = upload(consumer, people, stream.getvalue())
    run_queued()
    stored = ComparisonBatch.objects.get(pk=answer.json["batch"])
    assert stored.status == BatchStatus.FAILED and "超过 Excel 文件 1 行数据的上限" in stored.error


def test_a_job_failing_midway_leaves_no_file_and_logs_no_key(
    people: Resource,
    consumer: Consumer,
    grant: Grant,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(*args: Any) -> Any:
        raise ValueError(f"a message holding a value: {ZHANG} 张三丰")

    monkeypatch.setattr(batches, "_result_batch", broken)
    caplog.set_level(logging.DEBUG)
    batch = upload(consumer, people, csv_bytes([["公民身份号码", "姓名"], [ZHANG, "张三丰"]])).json["batch"]
    run_queued()
    stored = ComparisonBatch.objects.get(pk=batch)
    assert (stored.status, stored.error_code, stored.result_path) == (BatchStatus.FAILED, "INTERNAL", "")
    assert ZHANG not in stored.error
    assert not [path.name for path in batches.batches_root().iterdir()]  # no upload, no half-written result
    assert f"comparison batch {batch} failed: ValueError" in caplog.text
    for secret in (ZHANG, "张三丰"):
        assert secret not in caplog.text


def test_a_job_delivered_again_after_its_worker_died_does_not_count_the_keys_twice(
    people: Resource, consumer: Consumer, consumer_department: Department
) -> None:
    grant = issue(people, consumer_department, scenario=consumer.scenario, items=["公民身份号码"], daily_quota=10)
    batch = upload(consumer, people, csv_bytes([["公民身份号码"], [ZHANG], [LI]])).json["batch"]
    ComparisonBatch.objects.filter(pk=batch).update(status=BatchStatus.RUNNING, quota_counted=True)
    run_queued()
    assert ComparisonBatch.objects.get(pk=batch).status == BatchStatus.DONE
    assert not GrantUsage.objects.filter(grant=grant, accesses__gt=0).exists()


def test_the_sweep_fails_a_batch_whose_job_was_lost(
    people: Resource, consumer: Consumer, grant: Grant, settings: Any
) -> None:
    batch = upload(consumer, people, csv_bytes([["公民身份号码"], [ZHANG]])).json["batch"]
    stored = ComparisonBatch.objects.get(pk=batch)
    later = stored.created_at + dt.timedelta(seconds=2 * settings.GOVSHARE.job_timeout_seconds + 3600)
    batches.sweep_batches(now=stored.created_at + dt.timedelta(hours=1))
    assert ComparisonBatch.objects.get(pk=batch).status == BatchStatus.QUEUED
    batches.sweep_batches(now=later)
    swept = ComparisonBatch.objects.get(pk=batch)
    assert (swept.status, swept.error_code) == (BatchStatus.FAILED, "INTERNAL") and "中断" in swept.error
    assert not Path(stored.upload_path).exists()


def test_the_sweep_is_scheduled_hourly_as_a_registered_task(db: None) -> None:
    from django_q.models import Schedule

    from govshare.gateway import jobs

    schedule = Schedule.objects.get(name=jobs.SWEEP_SCHEDULE_NAME)
    assert schedule.schedule_type == Schedule.HOURLY
    assert registry.scheduled_task(schedule.func, schedule.args) == (batches.SWEEP_BATCHES, ())
    assert registry.task_function(batches.RUN_BATCH) is jobs.run_batch
