"""A provider department's own HTTP API for the tests of proxied gateway calls: a real server on 127.0.0.1 that
answers the people of PEOPLE_ROWS by ID number (GET /people/{sfzh}, or POST /people/search with {"sfzh": ...}),
requires its own key in a header, and can be told to fail (500 with an error text, a body that is no JSON, a slow
answer). It counts every request it received, with its headers (to prove which credentials reached it)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

from govshare.testing.sharing import PEOPLE_ROWS

API_KEY_HEADER = "X-Api-Key"
API_KEY = "prov-s3cret-7f1e9a"  # the provider's credential: it must reach the provider and nothing else
ERROR_TEXT = "Traceback: ORA-00942 at db01.gaj.internal, sfzh=510603199001010011 张三丰"


def _record(row: list[str]) -> dict[str, Any]:
    sfzh, xm, sjhm, qx, dz, _ = row
    return {"sfzh": sfzh, "xm": xm, "sjhm": sjhm, "qx": qx, "dz": dz}


class ProviderHandler(BaseHTTPRequestHandler):
    server: ProviderServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        self._answer(unquote(path.removeprefix("/people/")) if path.startswith("/people/") else None)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        self._answer(str(body.get("sfzh", "")) if urlsplit(self.path).path == "/people/search" else None)

    def _answer(self, sfzh: str | None) -> None:
        with self.server.lock:
            self.server.requests.append((self.command, self.path, dict(self.headers)))
        mode = self.server.mode
        if mode == "slow":
            time.sleep(self.server.delay)
        if self.headers.get(API_KEY_HEADER) != API_KEY:
            return self._send(401, b'{"msg": "bad key"}')
        if mode == "error":
            return self._send(500, json.dumps({"error": ERROR_TEXT}, ensure_ascii=False).encode())
        if mode == "badjson":
            return self._send(200, b'{"data": {"records": [{"sfzh": ')
        if sfzh is None:
            return self._send(404, b'{"msg": "no such path"}')
        records = [_record(row) for row in PEOPLE_ROWS if row[0] == sfzh]
        self._send(200, json.dumps({"code": 0, "data": {"records": records}}, ensure_ascii=False).encode())

    def _send(self, status: int, body: bytes) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("X-Provider-Internal", "db01.gaj.internal")
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the gateway gave up waiting (a slow answer)


class ProviderServer(ThreadingHTTPServer):
    """The provider's API on a free port of 127.0.0.1. `mode`: ok, error, badjson or slow (`delay` seconds)."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), ProviderHandler)
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.mode = "ok"
        self.delay = 3.0
        self.lock = threading.Lock()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


# The mapping of the provider's answer to 常住人口's items, and its one operation.
MAPPING = {
    "公民身份号码": "data.records[].sfzh",
    "姓名": "data.records[].xm",
    "手机号码": "data.records[].sjhm",
    "区县": "data.records[].qx",
    "户籍地址": "data.records[].dz",
}
OPERATIONS = [{"name": "person", "method": "GET", "path": "/people/{sfzh}", "params": {"sfzh": "公民身份号码"}}]
