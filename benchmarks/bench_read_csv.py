"""Reading stage of a file load: the govshare CSV reader against DuckDB's bare read_csv → Parquet.

    .venv/bin/python benchmarks/bench_read_csv.py [--rows 1000000] [--repeat 3] [--dir $TMPDIR/govshare-bench-read]

Generates population records (ID number, name, sex, birth date, region, address, phone; 1% bad rows) as a GBK
file and the same data as UTF-8, then times, best of --repeat:
  duckdb    DuckDB read_csv(all_varchar) → Parquet of the UTF-8 file (the yardstick of the load bar);
  reader    open_source_stream on the GBK file, every batch consumed (detect, transcode in a child, parse, reject);
  reader8   the same on the UTF-8 file (no transcoding);
  pyarrow   pyarrow.csv.open_csv with ReadOptions(encoding="gb18030") (transcodes in this process);
  decode    bytes.decode("gb18030") of the whole GBK file (the transcoding's floor).
"cpu s" is the CPU time used (every thread, and the transcoding child): less sensitive to a busy machine.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志红文辉玲鹏飞丹萍鑫宇浩然子轩欣怡梓涵"
REGIONS = [
    ("110101", "北京市东城区"),
    ("310104", "上海市徐汇区"),
    ("440305", "广东省深圳市南山区"),
    ("330106", "浙江省杭州市西湖区"),
    ("510107", "四川省成都市武侯区"),
    ("420106", "湖北省武汉市武昌区"),
]
ROADS = ["人民路", "解放路", "中山路", "建设路", "和平路", "新华路", "胜利路", "文化路", "长江路", "黄河路"]
HEADER = "公民身份号码,姓名,性别,出生日期,行政区划,住址,联系电话\n"


def _id_number(rng: random.Random, region: str, birth: str) -> str:
    body = f"{region}{birth}{rng.randint(0, 999):03d}"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    check = "10X98765432"[sum(int(c) * w for c, w in zip(body, weights, strict=True)) % 11]
    return body + check


def _record(rng: random.Random) -> str:
    code, region = rng.choice(REGIONS)
    birth = f"{rng.randint(1940, 2020)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    name = rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.randint(1, 2)))
    sex = rng.choice("男女")
    address = f"{region}{rng.choice(ROADS)}{rng.randint(1, 999)}号{rng.randint(1, 30)}栋{rng.randint(101, 2999)}室"
    phone = f"1{rng.choice('3578')}{rng.randint(0, 999_999_999):09d}"
    fields = [_id_number(rng, code, birth), name, sex, f"{birth[:4]}-{birth[4:6]}-{birth[6:]}", code, address, phone]
    roll = rng.random()
    if roll < 0.004:
        fields.append("多余的列")  # ragged row
    elif roll < 0.007:
        fields[3] = "1990-13-45"  # bad date (rejected later, by the transform)
    elif roll < 0.010:
        fields[0] = fields[0][:10]  # bad ID number
    return ",".join(fields) + "\n"


def generate(directory: Path, rows: int) -> tuple[Path, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    gbk, utf8 = directory / f"people-{rows}.gbk.csv", directory / f"people-{rows}.utf8.csv"
    if gbk.exists() and utf8.exists():
        return gbk, utf8
    rng = random.Random(20261126)
    with gbk.open("w", encoding="gbk", newline="") as g, utf8.open("w", encoding="utf-8", newline="") as u:
        g.write(HEADER)
        u.write(HEADER)
        for start in range(0, rows, 50_000):
            chunk = "".join(_record(rng) for _ in range(min(50_000, rows - start)))
            g.write(chunk)
            u.write(chunk)
    return gbk, utf8


def bench_duckdb(utf8: Path, out: Path) -> Callable[[], str]:
    import duckdb

    def run() -> str:
        con = duckdb.connect(config={"autoinstall_known_extensions": False})
        con.execute(
            f"COPY (SELECT * FROM read_csv('{utf8}', all_varchar=true, ignore_errors=true)) TO '{out}' (FORMAT parquet)"
        )
        con.close()
        return ""

    return run


def bench_reader(path: Path) -> Callable[[], str]:
    from govshare.sources.readers import open_source_stream

    def run() -> str:
        rejects: list[object] = []
        stream = open_source_stream("file", {"format": "csv"}, "", path=path, on_reject=rejects.append)
        rows = sum(batch.num_rows for batch in stream.batches())
        stream.close()
        return f"{rows:,} rows, {len(rejects):,} rejected, {stream.stats.encoding}, sha256 {stream.stats.sha256[:12]}…"

    return run


def bench_pyarrow(path: Path) -> Callable[[], str]:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    def run() -> str:
        names = HEADER.strip().split(",")
        reader = pacsv.open_csv(
            path,
            read_options=pacsv.ReadOptions(encoding="gb18030"),
            parse_options=pacsv.ParseOptions(invalid_row_handler=lambda row: "skip"),
            convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(names, pa.string())),
        )
        rows = sum(batch.num_rows for batch in reader)
        return f"{rows:,} rows"

    return run


def bench_decode(path: Path) -> Callable[[], str]:
    def run() -> str:
        return f"{len(path.read_bytes().decode('gb18030')):,} characters"

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "govshare-bench-read")
    args = parser.parse_args()
    gbk, utf8 = generate(args.dir, args.rows)
    print(f"GBK file {gbk.stat().st_size / 1e6:.1f} MB, UTF-8 file {utf8.stat().st_size / 1e6:.1f} MB")
    cases = {
        "duckdb": bench_duckdb(utf8, args.dir / "duckdb.parquet"),
        "reader": bench_reader(gbk),
        "reader8": bench_reader(utf8),
        "pyarrow": bench_pyarrow(gbk),
        "decode": bench_decode(gbk),
    }
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"{'case':<9} {'best s':>7} {'cpu s':>6} {'runs s':<30} result")
    for name, run in cases.items():
        times, cpus, result = [], [], ""
        for _ in range(args.repeat):
            cpu, started = _cpu_seconds(), time.perf_counter()
            result = run()
            times.append(time.perf_counter() - started)
            cpus.append(_cpu_seconds() - cpu)
        runs = " ".join(f"{t:.2f}" for t in times)
        print(f"{name:<9} {min(times):>7.2f} {min(cpus):>6.2f} {runs:<30} {result}")


def _cpu_seconds() -> float:
    """CPU time of this process (all its threads) and of its finished children (the transcoder)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


if __name__ == "__main__":
    main()
