"""Benchmark: a call proxied through the gateway to a provider's own HTTP API, against the same request sent to the
provider directly; and what the circuit breaker saves while the provider hangs.

    .venv/bin/python benchmarks/bench_proxy.py [--calls 2000] [--threads 4] [--data-dir /work/bench/proxy]

Set-up (afresh in --data-dir each run): a migrated SQLite metadata database, a provider's published resource
常住人口 shared by 接口 with its provider service registered (GET /people/{sfzh}, a header key, five items mapped),
a consumer system with a client credential and a token, and a grant of four items (masked by grade) with a daily
quota. The provider: `govshare.testing.provider_api.ProviderServer` (a ThreadingHTTPServer on 127.0.0.1 answering
the three people of the tests' rows). The gateway: its WSGI application called in this process (no HTTP server in
front of it; its recorder thread commits each call's audit row before the answer).

Printed, for `--calls` calls on one thread and on `--threads` threads: calls/s, p50 and p99 latency of
- bare: the provider called directly with httpx (a new connection per call, as the gateway makes, and one TLS
  context for all, as the gateway keeps),
- gateway: the consumer's call through the gateway (token, grant, key hash, provider call, mapping, masking, quota,
  audit row),
- breaker open: the gateway's answer while the provider's breaker is open (503, the provider not called),
and the ratio gateway/bare in calls/s; then how long 20 calls take while the provider hangs (timeout 1 s) with the
breaker (5 failures open it) and what they would take without it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GRANTED = ["公民身份号码", "姓名", "区县", "户籍地址"]
KEYS = ["510603199001010011", "510603199303030033", "510603199909090099"]


def _setup(data_dir: Path) -> None:
    if data_dir.exists():
        shutil.rmtree(data_dir)
    data_dir.mkdir(parents=True)
    os.environ["GOVSHARE_DATA_DIR"] = str(data_dir)
    os.environ["GOVSHARE_SOURCE_ALLOWED_HOSTS"] = "127.0.0.1"
    os.environ["DJANGO_SETTINGS_MODULE"] = "govshare.settings"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _prepare(base_url: str) -> tuple[int, int, str]:
    from django.test import Client

    from govshare import testing
    from govshare.accounts.choices import Role
    from govshare.gateway.provider_services import ProviderServiceInput, register_provider_service
    from govshare.identity import services as identity_services
    from govshare.sharing import grants
    from govshare.testing.provider_api import API_KEY, API_KEY_HEADER, MAPPING, OPERATIONS
    from govshare.testing.sharing import PEOPLE_ITEMS, make_scenario

    today = dt.date.today()
    provider = testing.make_department("市公安局")
    consumer = testing.make_department("市医保局")
    resource = testing.make_published_resource(provider, items=PEOPLE_ITEMS, data_level="L2", name="常住人口")
    owner = testing.make_user(Role.CATALOG_ADMIN, department=provider)
    register_provider_service(
        ProviderServiceInput(
            resource_id=resource.pk,
            base_url=base_url,
            operations=OPERATIONS,
            mapping=MAPPING,
            auth_kind="header",
            auth_name=API_KEY_HEADER,
            secret=API_KEY,
            timeout_seconds=1.0,
        ),
        actor=owner,
    )
    admin = testing.make_user(Role.CATALOG_ADMIN, department=consumer)
    system = identity_services.register_information_system(
        identity_services.SystemInput(code="ybj-bench", name="医保核验系统", department=consumer), actor=admin
    )
    scenario = make_scenario(consumer)
    scenario.systems.add(system)
    credential, secret = identity_services.issue_system_credential(system, actor=admin)
    grants.issue_grant(
        grants.GrantInput(
            department_id=consumer.pk,
            scenario_id=scenario.pk,
            resource_id=resource.pk,
            items=GRANTED,
            daily_quota=100_000_000,
            valid_from=today,
            valid_until=today + dt.timedelta(days=365),
        ),
        actor=testing.make_user(Role.DEPT_REVIEWER, department=provider),
        today=today,
    )
    answer = Client().post(
        "/o/token/",
        {"grant_type": "client_credentials", "client_id": credential.application.client_id, "client_secret": secret},
        HTTP_HOST="localhost",
    )
    assert answer.status_code == 200, answer.content
    return resource.pk, scenario.pk, str(answer.json()["access_token"])


def _run(call: Callable[[int], int], calls: int, threads: int) -> dict[str, float]:
    latencies: list[float] = []
    statuses: list[int] = []
    lock = threading.Lock()
    per_thread = calls // threads

    def work(offset: int) -> None:
        mine, codes = [], []
        for n in range(per_thread):
            started = time.perf_counter()
            codes.append(call(offset + n))
            mine.append(time.perf_counter() - started)
        with lock:
            latencies.extend(mine)
            statuses.extend(codes)

    workers = [threading.Thread(target=work, args=(t * per_thread,)) for t in range(threads)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "calls": len(latencies),
        "rate": len(latencies) / elapsed,
        "p50": statistics.median(latencies) * 1000,
        "p99": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "statuses": float(len(set(statuses))),
        "status": float(statuses[0]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--data-dir", type=Path, default=Path("/work/bench/proxy"))
    args = parser.parse_args()
    _setup(args.data_dir)

    import httpx

    from govshare.gateway import proxied
    from govshare.gateway.recording import stop_writer
    from govshare.testing.gateway import GatewayClient
    from govshare.testing.provider_api import API_KEY, API_KEY_HEADER, ProviderServer

    server = ProviderServer()
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    resource, scenario, token = _prepare(server.base_url)
    client = GatewayClient(token=token)

    context = httpx.create_ssl_context()

    def bare(n: int) -> int:
        with httpx.Client(timeout=5, trust_env=False, verify=context) as direct:
            url = f"{server.base_url}/people/{KEYS[n % len(KEYS)]}"
            return direct.get(url, headers={API_KEY_HEADER: API_KEY}).status_code

    def gateway(n: int) -> int:
        body = {"scenario": scenario, "key": {"公民身份号码": KEYS[n % len(KEYS)]}}
        return client.post(f"/gateway/v1/resources/{resource}/call", body).status

    for n in range(50):  # warm-up: caches, connections, the recorder thread
        bare(n), gateway(n)
    rows: list[tuple[str, int, dict[str, float]]] = []
    for threads in (1, args.threads):
        rows.append(("bare", threads, _run(bare, args.calls, threads)))
        rows.append(("gateway", threads, _run(gateway, args.calls, threads)))
    server.mode = "error"
    for n in range(proxied.BREAKER_FAILURES):
        gateway(n)
    received = len(server.requests)
    for threads in (1, args.threads):
        rows.append(("breaker open", threads, _run(gateway, args.calls, threads)))
    assert len(server.requests) == received, "the provider was called while the breaker was open"

    print(f"\n{args.calls} calls per run; provider on 127.0.0.1; gateway in-process; SQLite metadata database\n")
    print("| path | threads | calls/s | p50 ms | p99 ms | status | ratio calls/s vs bare |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    bare_rates = {threads: figures["rate"] for name, threads, figures in rows if name == "bare"}
    for name, threads, figures in rows:
        ratio = "" if name == "bare" else f"{figures['rate'] / bare_rates[threads]:.2f}"
        print(
            f"| {name} | {threads} | {figures['rate']:,.0f} | {figures['p50']:.2f} | {figures['p99']:.2f} |"
            f" {figures['status']:.0f} | {ratio} |"
        )

    # A hanging provider: with the breaker, 5 calls wait out the timeout, the rest answer 503 at once.
    proxied.forget_breakers()
    server.mode, server.delay = "slow", 3.0
    started = time.perf_counter()
    codes = [gateway(n) for n in range(20)]
    with_breaker = time.perf_counter() - started
    print(
        f"\n20 calls while the provider hangs (timeout 1 s): {with_breaker:.1f} s with the breaker"
        f" ({codes.count(504)} × 504, {codes.count(503)} × 503); without it 20 × 1 s = 20 s"
    )
    stop_writer()
    server.shutdown()


if __name__ == "__main__":
    main()
