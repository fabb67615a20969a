"""A real HTTP API for the tests of HTTP API sources: it serves paged records (page, offset and cursor paging) and
faults on 127.0.0.1 (which only the tests' allowance lets a source reach)."""

from __future__ import annotations

import json
import socketserver
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer, ThreadingHTTPServer
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

TOKEN = "t0ken-42"
PEOPLE = [{"id": i, "姓名": f"居民{i}", "更新时间": f"2024-05-{i:02d}T08:00:00"} for i in range(1, 26)]


class ApiHandler(BaseHTTPRequestHandler):
    """/page, /offset, /cursor, /all (paging modes); /flaky (500 twice), /broken (500 from page 2 on),
    /badjson (page 3 is not JSON), /secure (needs the token). Paging of 10 records unless asked otherwise."""

    server: ApiServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        self.server.requests.append((url.path, query, dict(self.headers)))
        self._route(url.path, query)

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.requests.append(("POST " + urlsplit(self.path).path, body, dict(self.headers)))
        page = int(body.get("pageNum", 1))
        self._json({"code": 0, "data": {"rows": PEOPLE[(page - 1) * 10 : page * 10]}})

    def _route(self, path: str, query: dict[str, str]) -> None:
        page, size = int(query.get("page", 1)), int(query.get("size", 10))
        if path == "/secure" and self.headers.get("X-Token") != f"Token {TOKEN}":
            return self._send(401, b'{"msg": "unauthorized"}')
        if path == "/flaky":
            self.server.hits += 1
            if self.server.hits <= 2:
                return self._send(500, b"boom")
        if path == "/broken" and page >= 2:
            return self._send(500, b"boom")
        if path == "/badjson" and page == 3:
            return self._send(200, b'{"data": {"list": [{"id": 1}, ')
        if path == "/all":
            return self._json(PEOPLE[:5])
        if path == "/gbk":
            return self._send(200, json.dumps(PEOPLE[:2], ensure_ascii=False).encode("gbk"), "GBK")
        if path == "/offset":
            offset, limit = int(query["offset"]), int(query["limit"])
            return self._json({"items": PEOPLE[offset : offset + limit], "total": len(PEOPLE)})
        if path == "/cursor":
            start = int(query.get("after", 0))
            chunk = PEOPLE[start : start + size]
            following = str(start + size) if start + size < len(PEOPLE) else None
            return self._json({"result": {"records": chunk, "next": following}})
        self._json({"code": 0, "data": {"list": PEOPLE[(page - 1) * size : page * size], "total": len(PEOPLE)}})

    def _json(self, body: Any) -> None:
        self._send(200, json.dumps(body, ensure_ascii=False).encode())

    def _send(self, status: int, body: bytes, charset: str = "utf-8") -> None:
        self.send_response(status)
        self.send_header("Content-Type", f"application/json; charset={charset}")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class ApiServer(ThreadingHTTPServer):
    """The API on a free port of 127.0.0.1; `requests` records what it was asked (path or POST, query or body,
    headers)."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), ApiHandler)
        self.requests: list[tuple[str, Any, dict[str, str]]] = []
        self.hits = 0


def base(server: HTTPServer) -> str:
    """The server's base URL."""
    return f"http://127.0.0.1:{server.server_address[1]}"


# page paging of 10 records, as the API pages unless asked otherwise
PAGED = {"mode": "page", "page_param": "page", "size_param": "size", "size": 10}


Server = TypeVar("Server", bound=socketserver.BaseServer)


def serve(server: Server) -> Iterator[Server]:
    """Serve in a thread while the caller uses the server (yield from it in a fixture), then shut it down."""
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
