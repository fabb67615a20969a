"""HTTP APIs read as raw streams, against a real HTTP server on 127.0.0.1 that serves pages and faults."""

from __future__ import annotations

from typing import Any

import pytest

from govshare.dataplane.raw import ROW_COLUMN, Reject, SourceInvalid, SourceUnavailable
from govshare.sources.choices import SourceKind
from govshare.sources.readers import open_source_stream, preview_source
from govshare.sources.readers.http_api import HttpApiStream
from govshare.testing.http_api import PAGED, TOKEN, base

# The API servers listen on 127.0.0.1, which only the tests' allowance lets a source reach.
pytestmark = pytest.mark.usefixtures("allow_local_sources")


def read(config: dict[str, Any], secret: str = "", **options: Any) -> tuple[list[dict[str, Any]], list[Reject], Any]:
    rejects: list[Reject] = []
    stream = HttpApiStream(config, secret, on_reject=rejects.append, retry_delays=(0, 0, 0), **options)
    try:
        rows = [row for batch in stream.batches() for row in batch.to_pylist()]
    finally:
        stream.close()
    return rows, rejects, stream


def test_page_paging_reads_every_page_until_an_empty_one(api):
    rows, _, stream = read({"url": base(api) + "/people", "records_path": "$.data.list[*]", "paging": PAGED})
    assert stream.columns == ["id", "姓名", "更新时间"]
    assert [r["id"] for r in rows] == [str(i) for i in range(1, 26)]
    assert [r[ROW_COLUMN] for r in rows] == list(range(1, 26))
    assert [q["page"] for _, q, _ in api.requests] == ["1", "2", "3", "4"]
    assert stream.stats.rows_read == 25 and len(stream.stats.sha256) == 64


def test_paging_stops_when_the_total_is_reached(api):
    paging = {**PAGED, "total_path": "data.total"}
    rows, _, _ = read({"url": base(api) + "/people", "records_path": "data.list", "paging": paging})
    assert len(rows) == 25
    assert len(api.requests) == 3


def test_the_urls_own_query_is_kept(api):
    config = {"url": base(api) + "/people?region=110101&size=3", "records_path": "data.list", "paging": PAGED}
    read({**config, "params": {"type": "1"}})
    assert api.requests[0][1] == {"region": "110101", "type": "1", "page": "1", "size": "10"}


def test_offset_paging(api):
    paging = {"mode": "offset", "offset_param": "offset", "size_param": "limit", "size": 7}
    rows, _, _ = read({"url": base(api) + "/offset", "records_path": "$.items[*]", "paging": paging})
    assert len(rows) == 25
    assert [q["offset"] for _, q, _ in api.requests] == ["0", "7", "14", "21", "25"]


def test_cursor_paging_stops_at_an_empty_cursor(api):
    paging = {"mode": "cursor", "cursor_param": "after", "cursor_path": "$.result.next", "size": 10}
    rows, _, _ = read({"url": base(api) + "/cursor", "records_path": "result.records", "paging": paging})
    assert len(rows) == 25
    assert [q.get("after") for _, q, _ in api.requests] == [None, "10", "20"]


def test_no_paging_and_a_top_level_array(api):
    rows, _, _ = read({"url": base(api) + "/all"})
    assert len(rows) == 5 and len(api.requests) == 1


def test_a_gbk_answer_is_decoded_by_its_charset(api):
    rows, _, _ = read({"url": base(api) + "/gbk"})
    assert [r["姓名"] for r in rows] == ["居民1", "居民2"]


def test_post_sends_paging_in_the_body(api):
    config = {
        "url": base(api) + "/search",
        "method": "POST",
        "body": {"region": "110101"},
        "records_path": "$.data.rows[*]",
        "paging": {"mode": "page", "page_param": "pageNum", "size_param": "pageSize", "size": 10},
    }
    rows, _, _ = read(config)
    assert len(rows) == 25
    assert api.requests[0][1] == {"region": "110101", "pageNum": 1, "pageSize": 10}


def test_the_token_goes_in_the_configured_header(api):
    config = {"url": base(api) + "/secure", "records_path": "data.list", "paging": PAGED}
    rows, _, _ = read({**config, "token_header": "X-Token", "token_prefix": "Token "}, secret=TOKEN)
    assert len(rows) == 25
    with pytest.raises(SourceInvalid, match="接口第 1 页返回 HTTP 401：请检查令牌"):
        read({**config, "token_header": "X-Token"}, secret="wrong")


def test_a_500_twice_then_ok_succeeds(api):
    rows, _, _ = read({"url": base(api) + "/flaky", "records_path": "data.list", "paging": PAGED})
    assert len(rows) == 25
    assert api.hits == 6  # two failures, then pages 1–4


def test_500_mid_way_is_unavailable_after_retries(api):
    with pytest.raises(SourceUnavailable, match=r"接口第 2 页返回 HTTP 500（已重试 3 次）"):
        read({"url": base(api) + "/broken", "records_path": "data.list", "paging": PAGED})
    assert [q["page"] for _, q, _ in api.requests] == ["1", "2", "2", "2", "2"]


def test_invalid_json_on_page_3_is_unavailable_naming_the_page(api):
    with pytest.raises(SourceUnavailable, match="接口第 3 页返回的不是合法的 JSON"):
        read({"url": base(api) + "/badjson", "records_path": "data.list", "paging": PAGED})


def test_a_records_path_that_matches_nothing_needs_a_fix(api):
    with pytest.raises(SourceInvalid, match=r"接口第 1 页的返回中找不到记录路径“data\.rows”"):
        read({"url": base(api) + "/people", "records_path": "data.rows", "paging": PAGED})


def test_a_server_that_ignores_paging_is_caught(api):
    paging = {**PAGED, "page_param": "p"}  # the server pages by "page": every request gets page 1
    with pytest.raises(SourceInvalid, match="第 2 页与上一页内容相同"):
        read({"url": base(api) + "/people", "records_path": "data.list", "paging": paging})


def test_a_token_that_cannot_be_a_header_needs_a_fix(api):
    with pytest.raises(SourceInvalid, match="非 ASCII"):
        read({"url": base(api) + "/all"}, secret="令牌")


def test_a_server_that_is_down_is_unavailable():
    with pytest.raises(SourceUnavailable, match="接口第 1 页连接失败"):
        read({"url": "http://127.0.0.1:9/people", "records_path": "data.list", "timeout": 2})


def test_watermark_parameter_and_watermark_reached(api):
    config = {"url": base(api) + "/people", "records_path": "data.list", "paging": PAGED, "watermark_param": "since"}
    _, _, stream = read(config, watermark_column="更新时间", watermark_after="2024-05-01T00:00:00")
    assert api.requests[0][1]["since"] == "2024-05-01T00:00:00"
    assert stream.stats.watermark_max == "2024-05-25T08:00:00"


def test_open_source_stream_and_preview_read_the_api(api):
    config = {"url": base(api) + "/people", "records_path": "data.list", "paging": PAGED}
    stream = open_source_stream(SourceKind.HTTP_API, config, "", path=None, on_reject=print)
    assert sum(batch.num_rows for batch in stream.batches()) == 25
    stream.close()
    api.requests.clear()
    preview = preview_source(SourceKind.HTTP_API, config, "", path=None, rows=3)
    assert preview.columns == ["id", "姓名", "更新时间"]
    assert preview.rows == [
        ["1", "居民1", "2024-05-01T08:00:00"],
        ["2", "居民2", "2024-05-02T08:00:00"],
        ["3", "居民3", "2024-05-03T08:00:00"],
    ]
    assert len(api.requests) == 1


def test_an_empty_first_page_is_no_records_not_a_wrong_path(api):
    config = {"url": base(api) + "/people", "params": {"page": 9}, "records_path": "$.data.list[*]"}
    with pytest.raises(SourceInvalid, match="来源没有任何记录"):
        read(config)
    # Incremental: nothing new since the watermark is a read of no rows.
    rows, _, stream = read(config, watermark_column="更新时间", watermark_after="2030-01-01")
    assert rows == [] and stream.columns == []
    assert stream.stats.watermark_max == ""
