"""An HTTP API returning JSON (接口调用) as a raw stream: pages fetched one after another, records found by JSONPath.

config: {"url", "method": "GET"|"POST", "headers": {}, "params": {}, "body": {} (POST), "records_path": JSONPath,
"paging": {"mode": none|page|offset|cursor, "page_param", "size_param", "size", "start", "offset_param",
"cursor_param", "cursor_path", "total_path"}, "token_header", "token_prefix", "timeout", "watermark_param"};
the token is the source's secret. Paging stops at an empty page, when `total_path`'s total is reached, or when the
cursor is empty. Each page is retried on 5xx, timeouts and connection errors (three times, with backoff).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import pyarrow as pa
from jsonpath_ng import parse as parse_jsonpath

from govshare.datasets.choices import PagingMode
from govshare.datasets.raw import ReadStats, RejectSink, SourceInvalid, SourceUnavailable
from govshare.datasets.readers.files import JSON_SAMPLE_RECORDS, JsonRecords
from govshare.datasets.readers.rows import RowBuffer, batched, larger, text_value

RETRY_DELAYS = (1.0, 3.0, 10.0)
MAX_PAGES = 100_000
_SNIPPET = 200
_CLIENT_ERROR_HINTS = {401: "请检查令牌（凭据）", 403: "令牌无权访问该接口", 404: "请检查接口地址"}


@dataclass(frozen=True)
class Paging:
    mode: str = PagingMode.NONE
    page_param: str = "page"
    size_param: str = "size"
    size: int = 100
    start: int | None = None
    offset_param: str = "offset"
    cursor_param: str = "cursor"
    cursor_path: str = ""
    total_path: str = ""

    @classmethod
    def from_config(cls, data: Any) -> Paging:
        data = data if isinstance(data, dict) else {}
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__ and v not in (None, "")}
        paging = cls(**known)
        if paging.mode not in PagingMode.values:
            raise SourceInvalid(f"不支持的分页方式“{paging.mode}”：应为 none、page、offset 或 cursor")
        if paging.mode == PagingMode.CURSOR and not paging.cursor_path:
            raise SourceInvalid("游标分页须填写游标在返回中的路径（cursor_path）")
        return paging


def _jsonpath(path: str, what: str) -> Any:
    try:
        return parse_jsonpath(path)
    except Exception as exc:  # jsonpath-ng raises several kinds (JsonPathParserError, JsonPathLexerError, …)
        raise SourceInvalid(f"{what}“{path}”不是有效的 JSONPath：{exc}") from exc


def _find(expression: Any, body: Any) -> list[Any]:
    return [match.value for match in expression.find(body)]


class HttpApiStream:
    """Records of a JSON API, numbered from 1 across pages."""

    def __init__(
        self,
        config: dict[str, Any],
        secret: str,
        *,
        on_reject: RejectSink,
        watermark_after: str = "",
        watermark_column: str = "",
        progress: Callable[[int], None] | None = None,
        max_pages: int | None = None,
        retry_delays: Sequence[float] | None = None,
    ) -> None:
        self.stats = ReadStats(encoding="UTF-8")
        self._url = str(config.get("url") or "")
        if not self._url.startswith(("http://", "https://")):
            raise SourceInvalid("接口地址须以 http:// 或 https:// 开头")
        self._method = str(config.get("method") or "GET").upper()
        if self._method not in ("GET", "POST"):
            raise SourceInvalid(f"接口请求方式只能是 GET 或 POST，而不是“{self._method}”")
        # httpx would drop the URL's own query string once params are given: keep it as params.
        url = httpx.URL(self._url)
        self._url = str(url.copy_with(query=None))
        self._params: dict[str, Any] = dict(url.params.multi_items())
        self._params.update({str(k): v for k, v in dict(config.get("params") or {}).items()})
        self._body = dict(config.get("body") or {})
        if config.get("watermark_param") and watermark_after:
            self._params[str(config["watermark_param"])] = watermark_after
        self._paging = Paging.from_config(config.get("paging"))
        records_path = str(config.get("records_path") or "")
        self._records_path = records_path
        self._records_expr = _jsonpath(records_path, "记录路径") if records_path else None
        self._cursor_expr = _jsonpath(self._paging.cursor_path, "游标路径") if self._paging.cursor_path else None
        self._total_expr = _jsonpath(self._paging.total_path, "总数路径") if self._paging.total_path else None
        self._delays = tuple(RETRY_DELAYS if retry_delays is None else retry_delays)  # read now: tests shorten it
        self._progress = progress
        self._max_pages = max_pages or MAX_PAGES
        self._watermark = watermark_column
        self._highest: Any = None
        self._hash = hashlib.sha256()
        self._client = httpx.Client(
            headers=self._headers(config, secret),
            timeout=float(config.get("timeout") or 30),
            follow_redirects=True,
        )
        self._json = JsonRecords(self.stats, on_reject)
        try:
            self._pages = self._iter_pages()
            self._first = self._read_ahead()
            if self._first or not watermark_after:
                self._json.name_columns(self._first)
        except BaseException:
            self._client.close()
            raise
        # An incremental read with nothing new has no records to name the columns: no columns, no batches.
        self.columns = self._json.columns
        if watermark_column and self._first and watermark_column not in self.columns:
            self._client.close()
            raise SourceInvalid(f"水位字段“{watermark_column}”不在接口返回的记录中")

    @staticmethod
    def _headers(config: dict[str, Any], secret: str) -> dict[str, str]:
        headers = {str(k): str(v) for k, v in dict(config.get("headers") or {}).items()}
        if secret:
            name = str(config.get("token_header") or "Authorization")
            prefix = str(config.get("token_prefix") if config.get("token_prefix") is not None else "Bearer ")
            headers[name] = prefix + secret
        for name, value in headers.items():
            if not (name + value).isascii():
                raise SourceInvalid(f"请求头“{name}”（或令牌）含有非 ASCII 字符，无法放入 HTTP 请求头")
        return headers

    def _read_ahead(self) -> list[tuple[int, Any]]:
        first: list[tuple[int, Any]] = []
        for item in self._pages:
            first.append(item)
            if len(first) >= JSON_SAMPLE_RECORDS:
                break
        return first

    # --- paging ---------------------------------------------------------------------------------------------------

    def _iter_pages(self) -> Iterator[tuple[int, Any]]:
        paging, number, page = self._paging, 0, 1
        position = paging.start if paging.start is not None else (0 if paging.mode == PagingMode.OFFSET else 1)
        cursor: Any = None
        previous = b""
        while page <= self._max_pages:
            body, raw = self._fetch(page, self._page_params(position, cursor))
            records = self._records(body, page)
            if page > 1 and raw == previous and records:
                raise SourceInvalid(f"接口第 {page} 页与上一页内容相同：分页参数（{self._paging_params()}）可能无效")
            previous = raw
            for record in records:
                number += 1
                self._track_watermark(record)
                yield number, record
            if self._progress is not None:
                self._progress(number)
            if not records or paging.mode == PagingMode.NONE or self._total_reached(body, number):
                return
            if paging.mode == PagingMode.CURSOR:
                cursor = next(iter(_find(self._cursor_expr, body)), None)
                if cursor is None or cursor == "":
                    return
            position += len(records) if paging.mode == PagingMode.OFFSET else 1
            page += 1

    def _paging_params(self) -> str:
        paging = self._paging
        names = {
            PagingMode.PAGE: [paging.page_param, paging.size_param],
            PagingMode.OFFSET: [paging.offset_param, paging.size_param],
            PagingMode.CURSOR: [paging.cursor_param],
        }.get(PagingMode(paging.mode), [])
        return "、".join(names)

    def _page_params(self, position: int, cursor: Any) -> dict[str, Any]:
        paging = self._paging
        if paging.mode == PagingMode.PAGE:
            return {paging.page_param: position, paging.size_param: paging.size}
        if paging.mode == PagingMode.OFFSET:
            return {paging.offset_param: position, paging.size_param: paging.size}
        if paging.mode == PagingMode.CURSOR:
            return {paging.size_param: paging.size, **({paging.cursor_param: cursor} if cursor is not None else {})}
        return {}

    def _total_reached(self, body: Any, number: int) -> bool:
        if self._total_expr is None:
            return False
        totals = _find(self._total_expr, body)
        try:
            return bool(totals) and number >= int(totals[0])
        except (TypeError, ValueError):
            return False

    def _records(self, body: Any, page: int) -> list[Any]:
        if self._records_expr is None:
            if isinstance(body, list):
                return body
            raise SourceInvalid("接口返回的不是记录数组：请填写记录路径（records_path），如 $.data.list[*]")
        found = _find(self._records_expr, body)
        if not found and page == 1 and not self._empty_list_at_path(body):
            raise SourceInvalid(f"接口第 1 页的返回中找不到记录路径“{self._records_path}”")
        if len(found) == 1 and isinstance(found[0], list):
            return list(found[0])
        return [] if found == [None] else found

    def _empty_list_at_path(self, body: Any) -> bool:
        """Whether "$.data.list[*]" found nothing because data.list is an empty list (no records: not an error)."""
        container = self._records_path.strip()
        if not container.endswith("[*]"):
            return False
        found = _find(_jsonpath(container.removesuffix("[*]") or "$", "记录路径"), body)
        return found == [[]]

    def _track_watermark(self, record: Any) -> None:
        if self._watermark and isinstance(record, dict) and record.get(self._watermark) is not None:
            self._highest = larger(self._highest, record[self._watermark])

    # --- one page, with retries -------------------------------------------------------------------------------------

    def _fetch(self, page: int, paging_params: dict[str, Any]) -> tuple[Any, bytes]:
        response = self._request(page, paging_params)
        raw = response.content
        self.stats.bytes_read += len(raw)
        self._hash.update(raw)
        charset = (response.charset_encoding or "utf-8").lower().replace("_", "-")
        try:
            if charset not in ("utf-8", "utf8"):  # e.g. an API answering in GBK, as its Content-Type says
                return json.loads(response.text), raw
            return response.json(), raw
        except ValueError as exc:
            snippet = raw[:_SNIPPET].decode("utf-8", "replace")
            raise SourceUnavailable(f"接口第 {page} 页返回的不是合法的 JSON（{exc}）：{snippet}") from exc

    def _request(self, page: int, paging_params: dict[str, Any]) -> httpx.Response:
        params, body = dict(self._params), None
        if self._method == "POST":
            body = {**self._body, **paging_params}
        else:
            params.update(paging_params)
        problem = ""
        for attempt in range(len(self._delays) + 1):
            if attempt:
                time.sleep(self._delays[attempt - 1])
            try:
                response = self._client.request(self._method, self._url, params=params, json=body)
            except httpx.TimeoutException:
                problem = "请求超时"
                continue
            except httpx.TransportError as exc:
                problem = f"连接失败（{exc}）"
                continue
            if response.status_code >= 500 or response.status_code == 429:
                problem = f"返回 HTTP {response.status_code}"
                continue
            if response.status_code >= 400:
                raise SourceInvalid(self._client_error(page, response))
            return response
        raise SourceUnavailable(f"接口第 {page} 页{problem}（已重试 {len(self._delays)} 次）")

    @staticmethod
    def _client_error(page: int, response: httpx.Response) -> str:
        hint = _CLIENT_ERROR_HINTS.get(response.status_code, "")
        snippet = response.text[:_SNIPPET]
        return f"接口第 {page} 页返回 HTTP {response.status_code}{'：' + hint if hint else ''}（{snippet}）"

    # --- the stream -------------------------------------------------------------------------------------------------

    def batches(self) -> Iterator[pa.RecordBatch]:
        def records() -> Iterator[tuple[int, Any]]:
            yield from self._first
            yield from self._pages

        yield from batched(RowBuffer(self.columns), self._json.rows(records()))
        self.stats.sha256 = self._hash.hexdigest()
        self.stats.watermark_max = text_value(self._highest) or ""

    def close(self) -> None:
        self._client.close()
