"""Benchmark: the data service gateway's key lookup and verification under load, against the same server answering
the same lookup with none of the gateway's work.

    .venv/bin/python benchmarks/bench_gateway.py [--rows 10000000] [--seconds 60] [--connections 32]
        [--workers 2] [--threads 4] [--data-dir DIR]
    DATABASE_URL=postgres://… .venv/bin/python benchmarks/bench_gateway.py …   (PostgreSQL metadata database)

Set-up (skipped when --data-dir already holds a prepared run): a migrated metadata database, a provider's published
resource 常住人口 (ID number, name, sex, birth date, district, address, phone) loaded with N generated records
through the real load path (a Delta table), its key index built (timed: how long a new N-row version takes to
become servable), a consumer department's approved scenario served by a registered system with a client
credential, and a grant of five items, masked by grade, with a daily quota (counted at every call).

The server: gunicorn with the platform's WSGI application (`benchmarks/gateway/app.py` adds the benchmark's own
/bare/ route: the same lookup in the same key index, answered as JSON, with no token, grant, masking, quota or audit).
The load generator: wrk (Debian's package), `--connections` connections on two threads, for `--seconds` each:
bare lookup, gateway lookup, bare verification, gateway verification, on random keys of the dataset (1 in 10
missing). Printed: calls/s, p50 and p99 latency, the ratios, errors, the server's memory, and the audit rows the
gateway wrote (one per call).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ITEMS = ["公民身份号码", "姓名", "性别", "出生日期", "区县", "住址", "手机号码"]
GRANTED = ["公民身份号码", "姓名", "性别", "出生日期", "区县"]


def _setup_django(data_dir: Path) -> None:
    os.environ["GOVSHARE_DATA_DIR"] = str(data_dir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "govshare.settings"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _id_number(i: int) -> str:
    """A resident ID with a valid check digit (GB 11643), unique per i < 10^8."""
    birth = dt.date(1950, 1, 1) + dt.timedelta(days=i % 20000)
    body = f"510603{birth:%Y%m%d}{i // 20000 % 1000:03d}"
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    check = "10X98765432"[sum(int(c) * w for c, w in zip(body, weights, strict=True)) % 11]
    return body + check


def _write_csv(path: Path, rows: int) -> None:
    import duckdb

    # The ID numbers from _id_number, generated in SQL (the check digit by the same weights).
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    digits = " + ".join(f"CAST(substr(b, {n + 1}, 1) AS INTEGER) * {w}" for n, w in enumerate(weights))
    sql = f"""
    COPY (
      WITH base AS (
        SELECT i, '510603' || strftime(DATE '1950-01-01' + CAST(i % 20000 AS INTEGER), '%Y%m%d')
                  || lpad(CAST((i // 20000) % 1000 AS VARCHAR), 3, '0') AS b
        FROM range({rows}) t(i)
      )
      SELECT b || substr('10X98765432', (({digits}) % 11) + 1, 1) AS "公民身份号码",
             (['王','李','张','刘','陈','杨','赵','黄','周','吴'])[i % 10 + 1]
               || (['伟','芳','娜','秀英','敏'])[i % 5 + 1] AS "姓名",
             CASE WHEN i % 2 = 0 THEN '男' ELSE '女' END AS "性别",
             strftime(DATE '1950-01-01' + CAST(i % 20000 AS INTEGER), '%Y-%m-%d') AS "出生日期",
             CASE WHEN i % 3 = 0 THEN '旌阳区' WHEN i % 3 = 1 THEN '罗江区' ELSE '中江县' END AS "区县",
             '四川省德阳市旌阳区长江西路' || CAST(i % 500 AS VARCHAR) || '号' AS "住址",
             '138' || lpad(CAST(i % 100000000 AS VARCHAR), 8, '0') AS "手机号码"
      FROM base
    ) TO '{path}' (HEADER, DELIMITER ',')
    """
    con = duckdb.connect()
    con.execute(sql)
    con.close()


def _prepare(data_dir: Path, rows: int) -> dict[str, object]:
    from django.test import Client

    from govshare import testing
    from govshare.accounts.choices import Role
    from govshare.catalog.rules import ItemDraft
    from govshare.datasets import services as dataset_services
    from govshare.datasets import serving
    from govshare.datasets.loading import run_load
    from govshare.datasets.models import Dataset
    from govshare.identity import services as identity_services
    from govshare.sharing import grants
    from govshare.sources import services as source_services
    from govshare.sources.choices import SourceKind
    from govshare.testing.sharing import make_scenario

    today = dt.date.today()
    provider = testing.make_department("市公安局")
    consumer = testing.make_department("市医保局")
    owner = testing.make_user(Role.CATALOG_ADMIN, department=provider)
    drafts = [
        ItemDraft(name="公民身份号码", data_type="C", length=18, data_level="L3"),
        ItemDraft(name="姓名", data_type="C", length=50, data_level="L3"),
        ItemDraft(name="性别", data_type="C", length=2, data_level="L2"),
        ItemDraft(name="出生日期", data_type="C", length=10, data_level="L2"),
        ItemDraft(name="区县", data_type="C", length=20, data_level="L2"),
        ItemDraft(name="住址", data_type="C", length=200, data_level="L3"),
        ItemDraft(name="手机号码", data_type="C", length=11, data_level="L3"),
    ]
    resource = testing.make_published_resource(provider, items=drafts, data_level="L2", name="常住人口")
    source = source_services.register_source(
        resource, source_services.SourceInput(name="报送", kind=SourceKind.FILE, config={"format": "csv"}), actor=owner
    )
    source_services.set_mapping(source, [source_services.MappingEntry(n, n) for n in ITEMS], actor=owner)
    csv_path = data_dir / "people.csv"
    started = time.perf_counter()
    _write_csv(csv_path, rows)
    print(f"generated {rows:,} rows in {time.perf_counter() - started:.1f} s", flush=True)
    started = time.perf_counter()
    run_load(dataset_services.request_load(source, actor=owner, file_path=csv_path).pk)
    load_seconds = time.perf_counter() - started
    csv_path.unlink()
    dataset = Dataset.objects.get(resource=resource)
    print(f"loaded in {load_seconds:.1f} s (version {dataset.current_version})", flush=True)
    started = time.perf_counter()
    index = serving.build_serving_index(dataset)
    index_seconds = time.perf_counter() - started
    index_bytes = Path(index.path).stat().st_size
    print(f"key index built in {index_seconds:.1f} s ({index_bytes / 2**20:.0f} MiB)", flush=True)

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
    del Client
    return {
        "rows": rows,
        "dataset": dataset.pk,
        "resource": resource.pk,
        "scenario": scenario.pk,
        "client_id": credential.application.client_id,
        "secret": secret,
        "load_seconds": load_seconds,
        "index_seconds": index_seconds,
        "index_bytes": index_bytes,
    }


def _token(prepared: dict[str, object]) -> str:
    from django.test import Client

    answer = Client().post(
        "/o/token/",
        {"grant_type": "client_credentials", "client_id": prepared["client_id"], "client_secret": prepared["secret"]},
        HTTP_HOST="localhost",
    )
    assert answer.status_code == 200, answer.content
    return str(answer.json()["access_token"])


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _rss_mib(pid: int) -> float:
    """Resident memory of the process and its children (gunicorn's workers), MiB."""
    total = 0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    for one in pids:
        status = Path(f"/proc/{one}/status")
        if status.exists():
            match = re.search(r"VmRSS:\s+(\d+) kB", status.read_text())
            total += int(match[1]) if match else 0
    return total / 1024


_LATENCY = re.compile(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", re.M)
_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _wrk(url: str, env: dict[str, str], seconds: int, connections: int) -> dict[str, float]:
    script = Path(__file__).parent / "gateway" / "calls.lua"
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), url],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1])  # type: ignore[index]
    total = int(re.search(r"(\d+) requests in", out)[1])  # type: ignore[index]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    latency = {p: float(v) * _UNITS[u] for p, v, u in _LATENCY.findall(out)}
    return {
        "rate": rate,
        "p50": latency["50"],
        "p99": latency["99"],
        "total": total,
        "errors": int(errors[1]) if errors else 0,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--data-dir", type=Path, help="keep the prepared data here and reuse it on the next run")
    parser.add_argument("--prepare-only", action="store_true", help="set the data up (in --data-dir) and stop")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install -y wrk")
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="bench-gateway-"))
    data_dir.mkdir(parents=True, exist_ok=True)
    _setup_django(data_dir)
    from django.db import connection

    marker = data_dir / "bench-gateway.json"
    prepared = json.loads(marker.read_text()) if marker.exists() else None
    if prepared is None or prepared["rows"] != args.rows:
        prepared = _prepare(data_dir, args.rows)
        marker.write_text(json.dumps(prepared))
    if args.prepare_only:
        return
    token = _token(prepared)
    vendor = connection.vendor
    from govshare.audit.models import AuditLog

    audit_before = AuditLog.objects.filter(action__startswith="gateway.").count()
    connection.close()

    keys = data_dir / "keys.txt"
    picker = random.Random(7)
    with keys.open("w") as out:
        for _ in range(100_000):
            i = picker.randrange(prepared["rows"] * 10 // 9)  # about 1 in 10 beyond the data: missing keys
            out.write(_id_number(i) + "\n")

    port = _free_port()
    server_env = {**os.environ, "PYTHONPATH": str(ROOT), "BENCH_DATASET_ID": str(prepared["dataset"])}
    server = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "-c",
            "python:govshare.gunicorn_conf",
            "benchmarks.gateway.app:application",
            "--preload",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(args.workers),
            "--threads",
            str(args.threads),
            "--log-level",
            "warning",
        ],
        env=server_env,
        cwd=ROOT,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(600):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        env = {"BENCH_KEYS": str(keys), "BENCH_TOKEN": token, "BENCH_SCENARIO": str(prepared["scenario"])}
        paths = {
            "lookup": (f"/gateway/v1/resources/{prepared['resource']}/lookup", "/bare/lookup"),
            "verify": (f"/gateway/v1/resources/{prepared['resource']}/verify", "/bare/verify"),
        }
        results: dict[tuple[str, str], dict[str, float]] = {}
        for mode, (gateway_path, bare_path) in paths.items():
            for kind, path in (("bare", bare_path), ("gateway", gateway_path)):
                run_env = {**env, "BENCH_PATH": path, "BENCH_MODE": mode}
                _wrk(base, run_env, 5, args.connections)  # warm-up
                results[(mode, kind)] = _wrk(base, run_env, args.seconds, args.connections)
                print(f"{mode} {kind}: {results[(mode, kind)]}", flush=True)
        memory = _rss_mib(server.pid)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    audit_after = AuditLog.objects.filter(action__startswith="gateway.").count()

    print(
        f"\n{prepared['rows']:,} rows; metadata database {vendor}; gunicorn {args.workers} workers × "
        f"{args.threads} threads; wrk 2 threads, {args.connections} connections, {args.seconds} s per run\n"
    )
    print("| service | path | calls/s | p50 ms | p99 ms | non-2xx | ratio calls/s | p99 × bare |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for mode in paths:
        bare, full = results[(mode, "bare")], results[(mode, "gateway")]
        for kind, r in (("bare", bare), ("gateway", full)):
            ratio = f"{r['rate'] / bare['rate']:.2f}" if kind == "gateway" else ""
            tail = f"{r['p99'] / bare['p99']:.1f}" if kind == "gateway" else ""
            print(
                f"| {mode} | {kind} | {r['rate']:,.0f} | {r['p50']:.2f} | {r['p99']:.2f} | {r['errors']:.0f} "
                f"| {ratio} | {tail} |"
            )
    gateway_calls = sum(results[(m, "gateway")]["total"] for m in paths)
    print(
        f"\nkey index of {prepared['rows']:,} rows built in {prepared['index_seconds']:.1f} s "
        f"({prepared['index_bytes'] / 2**20:,.0f} MiB); load {prepared['load_seconds']:.1f} s"
    )
    print(f"server memory after the runs (master + workers, RSS): {memory:,.0f} MiB")
    print(
        f"gateway audit rows written: {audit_after - audit_before:,} for {gateway_calls:,} measured calls "
        "(plus warm-ups)"
    )
    print(f"load average (1 min) at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
