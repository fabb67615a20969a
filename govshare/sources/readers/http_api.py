"""An HTTP API returning JSON (接口调用) as a raw stream: pages fetched one after another, records found by JSONPath.

config: {"url", "method": "GET"|"POST", "headers": {}, "params": {}, "body": {} (POST), "records_path": JSONPath,
"paging": {"mode": none|page|offset|cursor, "page_param", "size_param", "size", "start", "offset_param",
"cursor_param", "cursor_path", "total_path"}, "token_header", "token_prefix", "timeout", "watermark_param"};
the token is the source's secret, sent in the header `token_header` (Authorization) after `token_prefix` ("Bearer "),
or, when the API wants it there, as the query parameter `token_param` or the POST body's field `token_field`.
Paging stops at an empty page, when `total_path`'s total is reached, or when the cursor is empty. Each page is
retried on 5xx, timeouts and connection errors (three times, with backoff, while the read's deadline allows).

Where the URL may lead is the connection policy's decision (connection_policy): checked when the stream opens and
again for every connection, which goes to the address that was checked (PinnedTransport). A redirect is followed
only within the same scheme, host and port; a page larger than GOVSHARE_SOURCE_HTTP_MAX_BYTES is refused; no error
message quotes what the server answered.
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
from django.utils.translation import gettext, gettext_noop
from jsonpath_ng import parse as parse_jsonpath

from govshare.core.text import join_names
from govshare.dataplane.raw import ReadStats, RejectSink, SourceInvalid, SourceUnavailable
from govshare.sources.choices import PagingMode
from govshare.sources.connection_policy import PinnedTransport, ReadLimits, SourcePolicy, source_timeout
from govshare.sources.readers.files import JSON_SAMPLE_RECORDS, JsonRecords
from govshare.sources.readers.rows import RowBuffer, batched, larger, text_value

RETRY_DELAYS = (1.0, 3.0, 10.0)
MAX_PAGES = 100_000
MAX_REDIRECTS = 5
_CLIENT_ERROR_HINTS = {
    401: gettext_noop("请检查令牌（凭据）"),
    403: gettext_noop("令牌无权访问该接口"),
    404: gettext_noop("请检查接口地址"),
}

# Why an API cannot be read: said in the reader's language when raised, and recognised again in a stored load log or
# error (`govshare.jobs.logs.sentence`, registered by the sources app). Page numbers and counts are %(…)d, so that
# a stored line is matched by the sentence it was written with.
UNKNOWN_PAGING = gettext_noop("不支持的分页方式“%(mode)s”：应为 none、page、offset 或 cursor")
BAD_JSONPATH = gettext_noop("%(what)s“%(path)s”不是有效的 JSONPath：%(reason)s")
RECORDS_PATH = gettext_noop("记录路径")
CURSOR_PATH = gettext_noop("游标路径")
TOTAL_PATH = gettext_noop("总数路径")
JSON_ERROR_AT = gettext_noop("%(message)s，第 %(line)d 行第 %(column)d 列")
NOT_HTTP = gettext_noop("对方返回的不是有效的 HTTP 响应")
BAD_METHOD = gettext_noop("接口请求方式只能是 GET 或 POST，而不是“%(method)s”")
NO_WATERMARK = gettext_noop("水位字段“%(column)s”不在接口返回的记录中")
NON_ASCII_HEADER = gettext_noop("请求头“%(name)s”（或令牌）含有非 ASCII 字符，无法放入 HTTP 请求头")
SAME_PAGE = gettext_noop("接口第 %(page)d 页与上一页内容相同：分页参数（%(params)s）可能无效")
NO_RECORDS_PATH = gettext_noop("接口第 1 页的返回中找不到记录路径“%(path)s”")
NOT_JSON = gettext_noop("接口第 %(page)d 页返回的不是合法的 JSON（%(reason)s）")
UNREADABLE = gettext_noop("接口第 %(page)d 页的返回无法读取（%(reason)s）")
RETRIED_STATUS = gettext_noop("接口第 %(page)d 页返回 HTTP %(status)d（已重试 %(attempts)d 次）")
RETRIED_TIMEOUT = gettext_noop("接口第 %(page)d 页请求超时（已重试 %(attempts)d 次）")
RETRIED_CONNECTION = gettext_noop("接口第 %(page)d 页连接失败（%(reason)s）（已重试 %(attempts)d 次）")
FOREIGN_REDIRECT = gettext_noop(
    "接口第 %(page)d 页返回了跳转到其他地址的重定向（HTTP %(status)d）；"
    "平台只跟随同一主机和端口内的重定向，请填写接口的最终地址"
)
TOO_MANY_REDIRECTS = gettext_noop("接口第 %(page)d 页重定向超过 %(n)d 次")
TOO_LARGE = gettext_noop("接口第 %(page)d 页的返回超过 %(limit)s 字节上限，请减小每页条数")
CLIENT_ERROR_HINTED = gettext_noop("接口第 %(page)d 页返回 HTTP %(status)d：%(hint)s")
CLIENT_ERROR = gettext_noop("接口第 %(page)d 页返回 HTTP %(status)d")
SENTENCES = (
    UNKNOWN_PAGING,
    BAD_JSONPATH,
    BAD_METHOD,
    NO_WATERMARK,
    NON_ASCII_HEADER,
    SAME_PAGE,
    NO_RECORDS_PATH,
    NOT_JSON,
    UNREADABLE,
    RETRIED_STATUS,
    RETRIED_TIMEOUT,
    RETRIED_CONNECTION,
    FOREIGN_REDIRECT,
    TOO_MANY_REDIRECTS,
    TOO_LARGE,
    CLIENT_ERROR_HINTED,
    CLIENT_ERROR,
)
# The values said again in the reader's language when a stored line is read (`logs.sentence(…, **VALUES)`).
VALUES = {"what": gettext, "hint": gettext}


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
            raise SourceInvalid(gettext(UNKNOWN_PAGING) % {"mode": paging.mode})
        if paging.mode == PagingMode.CURSOR and not paging.cursor_path:
            raise SourceInvalid(gettext("游标分页须填写游标在返回中的路径（cursor_path）"))
        return paging


def _jsonpath(path: str, what: str) -> Any:
    try:
        return parse_jsonpath(path)
    except Exception as exc:  # jsonpath-ng raises several kinds (JsonPathParserError, JsonPathLexerError, …)
        raise SourceInvalid(gettext(BAD_JSONPATH) % {"what": gettext(what), "path": path, "reason": exc}) from exc


def _find(expression: Any, body: Any) -> list[Any]:
    return [match.value for match in expression.find(body)]


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return url.scheme, url.host, url.port or {"http": 80, "https": 443}.get(url.scheme)


def _json_error(exc: ValueError) -> str:
    """Where a JSON document breaks: json's message names positions only, and a decoding error is named by type."""
    if isinstance(exc, json.JSONDecodeError):
        return gettext(JSON_ERROR_AT) % {"message": exc.msg, "line": exc.lineno, "column": exc.colno}
    return type(exc).__name__


def _transport_error(exc: httpx.TransportError) -> str:
    """Why the connection failed: the system's reason for a connect error; never what the other end sent (a
    protocol error's text may quote it, e.g. another service's banner)."""
    if isinstance(exc, httpx.ProtocolError):
        return gettext(NOT_HTTP)
    text = str(exc).strip().splitlines() if isinstance(exc, httpx.ConnectError) else []
    return text[0] if text else type(exc).__name__


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
        policy: SourcePolicy | None = None,
        limits: ReadLimits | None = None,
    ) -> None:
        self.stats = ReadStats(encoding="UTF-8")
        self._limits = limits or ReadLimits.for_load()
        policy = policy or SourcePolicy.from_settings()
        url = policy.check_http_url(str(config.get("url") or ""))
        self._method = str(config.get("method") or "GET").upper()
        if self._method not in ("GET", "POST"):
            raise SourceInvalid(gettext(BAD_METHOD) % {"method": self._method})
        self._timeout = source_timeout(config.get("timeout"))
        # httpx would drop the URL's own query string once params are given: keep it as params.
        self._url = str(url.copy_with(query=None))
        self._params: dict[str, Any] = dict(url.params.multi_items())
        self._params.update({str(k): v for k, v in dict(config.get("params") or {}).items()})
        self._body = dict(config.get("body") or {})
        if secret and config.get("token_param"):
            self._params[str(config["token_param"])] = secret
        elif secret and config.get("token_field"):
            self._body[str(config["token_field"])] = secret
        if config.get("watermark_param") and watermark_after:
            self._params[str(config["watermark_param"])] = watermark_after
        self._paging = Paging.from_config(config.get("paging"))
        records_path = str(config.get("records_path") or "")
        self._records_path = records_path
        self._records_expr = _jsonpath(records_path, RECORDS_PATH) if records_path else None
        self._cursor_expr = _jsonpath(self._paging.cursor_path, CURSOR_PATH) if self._paging.cursor_path else None
        self._total_expr = _jsonpath(self._paging.total_path, TOTAL_PATH) if self._paging.total_path else None
        self._delays = tuple(RETRY_DELAYS if retry_delays is None else retry_delays)  # read now: tests shorten it
        self._progress = progress
        self._max_pages = max_pages or MAX_PAGES
        self._watermark = watermark_column
        self._highest: Any = None
        self._hash = hashlib.sha256()
        self._client = httpx.Client(
            headers=self._headers(config, secret),
            transport=PinnedTransport(policy, self._limits),
            follow_redirects=False,
            trust_env=False,
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
            raise SourceInvalid(gettext(NO_WATERMARK) % {"column": watermark_column})

    @staticmethod
    def _headers(config: dict[str, Any], secret: str) -> dict[str, str]:
        headers = {str(k): str(v) for k, v in dict(config.get("headers") or {}).items()}
        if secret and not config.get("token_param") and not config.get("token_field"):
            name = str(config.get("token_header") or "Authorization")
            prefix = str(config.get("token_prefix") if config.get("token_prefix") is not None else "Bearer ")
            headers[name] = prefix + secret
        for name, value in headers.items():
            if not (name + value).isascii():
                raise SourceInvalid(gettext(NON_ASCII_HEADER) % {"name": name})
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
                raise SourceInvalid(gettext(SAME_PAGE) % {"page": page, "params": self._paging_params()})
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
        return join_names(names)

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
            raise SourceInvalid(gettext("接口返回的不是记录数组：请填写记录路径（records_path），如 $.data.list[*]"))
        found = _find(self._records_expr, body)
        if not found and page == 1 and not self._empty_list_at_path(body):
            raise SourceInvalid(gettext(NO_RECORDS_PATH) % {"path": self._records_path})
        if len(found) == 1 and isinstance(found[0], list):
            return list(found[0])
        return [] if found == [None] else found

    def _empty_list_at_path(self, body: Any) -> bool:
        """Whether "$.data.list[*]" found nothing because data.list is an empty list (no records: not an error)."""
        container = self._records_path.strip()
        if not container.endswith("[*]"):
            return False
        found = _find(_jsonpath(container.removesuffix("[*]") or "$", RECORDS_PATH), body)
        return found == [[]]

    def _track_watermark(self, record: Any) -> None:
        if self._watermark and isinstance(record, dict) and record.get(self._watermark) is not None:
            self._highest = larger(self._highest, record[self._watermark])

    # --- one page, with retries -------------------------------------------------------------------------------------

    def _fetch(self, page: int, paging_params: dict[str, Any]) -> tuple[Any, bytes]:
        raw, charset = self._request(page, paging_params)
        self.stats.bytes_read += len(raw)
        self._hash.update(raw)
        charset = (charset or "utf-8").lower().replace("_", "-")
        try:
            if charset not in ("utf-8", "utf8"):  # e.g. an API answering in GBK, as its Content-Type says
                try:
                    text = raw.decode(charset, errors="replace")
                except LookupError:
                    text = raw.decode("utf-8", errors="replace")
                return json.loads(text), raw
            return json.loads(raw), raw
        except ValueError as exc:
            # The error says where the JSON breaks, never what the server sent.
            raise SourceUnavailable(gettext(NOT_JSON) % {"page": page, "reason": _json_error(exc)}) from exc

    def _request(self, page: int, paging_params: dict[str, Any]) -> tuple[bytes, str | None]:
        """The page's body (and charset), fetched within the read's deadline and the response size limit."""
        params, body = dict(self._params), None
        if self._method == "POST":
            body = {**self._body, **paging_params}
        else:
            params.update(paging_params)
        # What went wrong on the last attempt: its sentence and values (the attempts are added at the end).
        problem: tuple[str, dict[str, Any]] = (RETRIED_TIMEOUT, {})
        attempts = 0
        for attempt in range(len(self._delays) + 1):
            if attempt:
                delay = self._delays[attempt - 1]
                if delay >= self._limits.remaining():
                    break
                time.sleep(delay)
            attempts = attempt
            timeout = self._limits.timeout(self._timeout)
            request = self._client.build_request(self._method, self._url, params=params, json=body, timeout=timeout)
            try:
                response = self._send(request, page)
                try:
                    status = response.status_code
                    if status >= 500 or status == 429:
                        problem = (RETRIED_STATUS, {"status": status})
                        continue
                    if status >= 300:
                        raise SourceInvalid(self._client_error(page, status))
                    return self._body_of(response, page), response.charset_encoding
                finally:
                    response.close()
            except httpx.TimeoutException:
                problem = (RETRIED_TIMEOUT, {})
            except httpx.TransportError as exc:
                problem = (RETRIED_CONNECTION, {"reason": _transport_error(exc)})
            except httpx.HTTPError as exc:  # an undecodable body, a broken redirect
                raise SourceUnavailable(gettext(UNREADABLE) % {"page": page, "reason": type(exc).__name__}) from exc
        message, values = problem
        raise SourceUnavailable(gettext(message) % {"page": page, "attempts": attempts, **values})

    def _send(self, request: httpx.Request, page: int) -> httpx.Response:
        """The response to `request`, following a redirect only within the same origin (scheme, host and port):
        one elsewhere is refused, never followed."""
        origin = _origin(request.url)
        for _ in range(MAX_REDIRECTS + 1):
            response = self._client.send(request, stream=True)
            following = response.next_request
            if following is None:
                return response
            response.close()
            if _origin(following.url) != origin:
                raise SourceInvalid(gettext(FOREIGN_REDIRECT) % {"page": page, "status": response.status_code})
            following.extensions["timeout"] = httpx.Timeout(self._limits.timeout(self._timeout)).as_dict()
            request = following
        raise SourceInvalid(gettext(TOO_MANY_REDIRECTS) % {"page": page, "n": MAX_REDIRECTS})

    def _body_of(self, response: httpx.Response, page: int) -> bytes:
        """The response's (decompressed) body, refused past GOVSHARE_SOURCE_HTTP_MAX_BYTES."""
        limit = self._limits.http_max_bytes
        too_large = SourceInvalid(gettext(TOO_LARGE) % {"page": page, "limit": f"{limit:,}"})
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise too_large
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > limit:
                raise too_large
            chunks.append(chunk)
        return b"".join(chunks)

    @staticmethod
    def _client_error(page: int, status: int) -> str:
        hint = _CLIENT_ERROR_HINTS.get(status, "")
        if hint:
            return gettext(CLIENT_ERROR_HINTED) % {"page": page, "status": status, "hint": gettext(hint)}
        return gettext(CLIENT_ERROR) % {"page": page, "status": status}

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
