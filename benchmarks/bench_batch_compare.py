"""Benchmark: the gateway's batch comparison (数据比对) end to end, against a bare DuckDB join of the same files in the
same run.

    .venv/bin/python benchmarks/bench_batch_compare.py [--rows 10000000] [--keys 1000000] [--data-dir DIR]
        [--reuse DIR]

Set-up: the prepared data of `benchmarks/bench_gateway.py` (a provider's 常住人口 resource of N generated records
loaded through the real load path into a Delta table, its key index, a consumer system with a credential and a
grant of five items masked by grade). `--reuse DIR` (default /work/bench/gw-10m at 10,000,000 rows) copies a prepared
run's metadata database and keys into --data-dir and reads its dataset and index files where they are (read only), so
the benchmark's own migration and rows never touch it; without one, the data is prepared in --data-dir. The keys file:
`--keys` rows of 公民身份号码,姓名 (9 in 10 keys present, 1 in 10 absent; half of the names right), CSV UTF-8.

Measured, each in a fresh process so its peak memory is its own:
- gateway: the upload through the gateway's WSGI application (streamed from disk), the job as a worker runs it
  (`gateway.run_batch`: validation, the per-key quota, the DuckDB join with the version's Parquet files, masking,
  the result CSV), the download of the result; compared item 姓名, returned items 姓名 and 区县 (masked as granted).
- bare: DuckDB alone, reading the same keys CSV and the same Parquet files, the same left join, the same columns (the
  name compared, the name and district returned, unmasked), written to a CSV with COPY.
Printed: seconds, the ratio, the peak RSS of each process.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_gateway  # noqa: E402

DEFAULT_REUSE = Path("/work/bench/gw-10m")


def _peak_mib() -> float:
    """This process's peak resident memory (VmHWM: unlike ru_maxrss, not inherited from the parent across exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _write_keys(path: Path, rows: int, keys: int) -> None:
    """`keys` rows: 公民身份号码 of record i (i < rows: present; i ≥ rows: absent) and a name, right for even i."""
    import duckdb

    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    digits = " + ".join(f"CAST(substr(b, {n + 1}, 1) AS INTEGER) * {w}" for n, w in enumerate(weights))
    sql = f"""
    COPY (
      WITH picked AS (
        SELECT CASE WHEN j % 10 = 9 THEN {rows} + j ELSE (j * 7919) % {rows} END AS i
        FROM range({keys}) t(j)
      ), base AS (
        SELECT i, '510603' || strftime(DATE '1950-01-01' + CAST(i % 20000 AS INTEGER), '%Y%m%d')
                  || lpad(CAST((i // 20000) % 1000 AS VARCHAR), 3, '0') AS b
        FROM picked
      )
      SELECT b || substr('10X98765432', (({digits}) % 11) + 1, 1) AS "公民身份号码",
             CASE WHEN i % 2 = 0
                  THEN (['王','李','张','刘','陈','杨','赵','黄','周','吴'])[i % 10 + 1]
                       || (['伟','芳','娜','秀英','敏'])[i % 5 + 1]
                  ELSE '无名氏' END AS "姓名"
      FROM base
    ) TO '{path}' (HEADER, DELIMITER ',')
    """
    con = duckdb.connect()
    con.execute(sql)
    con.close()


def _prepared(data_dir: Path, rows: int, reuse: Path | None) -> dict[str, Any]:
    marker = data_dir / "bench-gateway.json"
    if not marker.exists() and reuse is not None and (reuse / "bench-gateway.json").exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        for name in ("govshare.sqlite3", "bench-gateway.json", "audit-anchors.log"):
            if (reuse / name).exists():
                shutil.copy2(reuse / name, data_dir / name)
        if (reuse / "keys").exists():
            shutil.copytree(reuse / "keys", data_dir / "keys", dirs_exist_ok=True)
        print(f"reusing the prepared data of {reuse} (metadata copied into {data_dir})", flush=True)
    bench_gateway._setup_django(data_dir)
    prepared = json.loads(marker.read_text()) if marker.exists() else None
    if prepared is None or prepared["rows"] != rows:
        prepared = bench_gateway._prepare(data_dir, rows)
        marker.write_text(json.dumps(prepared))
    return dict(prepared)


def _gateway_phase(data_dir: Path, keys_csv: Path) -> dict[str, Any]:
    prepared = json.loads((data_dir / "bench-gateway.json").read_text())
    bench_gateway._setup_django(data_dir)
    from django_q.models import OrmQ

    from govshare.gateway.batches import RUN_BATCH
    from govshare.gateway.handler import gateway_app
    from govshare.gateway.models import ComparisonBatch
    from govshare.jobs import runner

    token = bench_gateway._token(prepared)
    started: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        started["status"] = status

    def call(method: str, path: str, query: str, body: Any, length: int) -> list[bytes] | Any:
        environ = {
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "CONTENT_LENGTH": str(length),
            "CONTENT_TYPE": "text/csv",
            "wsgi.input": body,
            "wsgi.url_scheme": "http",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_AUTHORIZATION": f"Bearer {token}",
        }
        return gateway_app(environ, start_response)

    from urllib.parse import urlencode

    query = urlencode({"scenario": prepared["scenario"], "return": "姓名,区县"})
    t0 = time.perf_counter()
    with keys_csv.open("rb") as body:
        answer = b"".join(
            call("POST", f"/gateway/v1/resources/{prepared['resource']}/batches", query, body, keys_csv.stat().st_size)
        )
    assert started["status"].startswith("202"), answer
    batch_id = json.loads(answer)["batch"]
    t1 = time.perf_counter()
    [queued] = [q for q in OrmQ.objects.all() if tuple(q.task["args"][:2]) == (RUN_BATCH, batch_id)]
    runner.run(*queued.task["args"])
    queued.delete()
    t2 = time.perf_counter()
    batch = ComparisonBatch.objects.get(pk=batch_id)
    assert batch.status == "done", (batch.status, batch.error)
    size = 0
    result = call("GET", f"/gateway/v1/batches/{batch_id}/result", "", io.BytesIO(), 0)
    for chunk in result:
        size += len(chunk)
    if hasattr(result, "close"):
        result.close()
    assert started["status"].startswith("200")
    t3 = time.perf_counter()
    return {
        "upload": t1 - t0,
        "job": t2 - t1,
        "download": t3 - t2,
        "total": t3 - t0,
        "keys": batch.total_keys,
        "found": batch.found_keys,
        "matched": batch.matched_keys,
        "result_bytes": size,
        "peak_mib": _peak_mib(),
    }


def _bare_phase(data_dir: Path, keys_csv: Path) -> dict[str, Any]:
    prepared = json.loads((data_dir / "bench-gateway.json").read_text())
    import sqlite3

    import duckdb

    con = sqlite3.connect(data_dir / "govshare.sqlite3")
    (table_uri, version) = con.execute(
        "SELECT table_uri, current_version FROM datasets_dataset WHERE id = ?", (prepared["dataset"],)
    ).fetchone()
    con.close()
    from deltalake import DeltaTable

    files = DeltaTable(table_uri, version=version).file_uris()
    out = data_dir / "bare-result.csv"
    started = time.perf_counter()
    duck = duckdb.connect(":memory:")
    duck.execute("SET autoinstall_known_extensions = false")
    duck.execute(
        f"""
        COPY (
          SELECT k."公民身份号码", count(d."公民身份号码") AS found, bool_or(d."姓名" = k."姓名") AS name_match,
                 first(d."姓名") AS "姓名", first(d."区县") AS "区县"
          FROM read_csv(?, header = true, all_varchar = true) AS k
          LEFT JOIN read_parquet(?) AS d ON d."公民身份号码" = k."公民身份号码"
          GROUP BY ALL ORDER BY 1
        ) TO '{out}' (HEADER, DELIMITER ',')
        """,
        [str(keys_csv), list(files)],
    )
    duck.close()
    seconds = time.perf_counter() - started
    out.unlink(missing_ok=True)
    return {"total": seconds, "peak_mib": _peak_mib()}


def _child(phase: str, data_dir: Path, keys_csv: Path) -> dict[str, Any]:
    answer = subprocess.run(
        [sys.executable, __file__, "--phase", phase, "--data-dir", str(data_dir), "--keys-file", str(keys_csv)],
        check=True,
        capture_output=True,
        text=True,
    )
    return dict(json.loads(answer.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--keys", type=int, default=1_000_000)
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--reuse", type=Path, default=None, help="a prepared bench_gateway.py data directory")
    parser.add_argument("--phase", choices=["gateway", "bare"], default=None, help=argparse.SUPPRESS)
    parser.add_argument("--keys-file", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase is not None:
        run = _gateway_phase if args.phase == "gateway" else _bare_phase
        print(json.dumps(run(args.data_dir, args.keys_file)))
        return
    data_dir: Path = args.data_dir or Path(f"/work/bench/batch-{args.rows}")
    reuse = args.reuse
    if reuse is None and args.rows == 10_000_000 and DEFAULT_REUSE.exists():
        reuse = DEFAULT_REUSE
    prepared = _prepared(data_dir, args.rows, reuse)
    keys_csv = data_dir / f"keys-{args.keys}.csv"
    if not keys_csv.exists():
        _write_keys(keys_csv, prepared["rows"], args.keys)
    os.environ.pop("DJANGO_SETTINGS_MODULE", None)
    bare = _child("bare", data_dir, keys_csv)
    gateway = _child("gateway", data_dir, keys_csv)
    print(
        f"\n{prepared['rows']:,} records, {args.keys:,} keys (CSV {keys_csv.stat().st_size / 2**20:.1f} MiB); "
        f"{os.cpu_count()} cores\n"
    )
    print("| run | seconds | ratio | peak RSS (MiB) |")
    print("|---|---:|---:|---:|")
    print(
        "| bare DuckDB join (read CSV + Parquet, join, write CSV) | "
        f"{bare['total']:.2f} | 1.00 | {bare['peak_mib']:.0f} |"
    )
    print(
        f"| gateway batch end to end | {gateway['total']:.2f} | {gateway['total'] / bare['total']:.2f} | "
        f"{gateway['peak_mib']:.0f} |"
    )
    print(
        f"|  upload (streamed to disk, header checked, admitted, audited) | {gateway['upload']:.2f} | | |\n"
        f"|  job (validate, quota, join, mask, write result) | {gateway['job']:.2f} | | |\n"
        f"|  download of the result ({gateway['result_bytes'] / 2**20:.1f} MiB) | {gateway['download']:.2f} | | |"
    )
    print(f"\nkeys {gateway['keys']:,}, found {gateway['found']:,}, all compared items matching {gateway['matched']:,}")


if __name__ == "__main__":
    main()
