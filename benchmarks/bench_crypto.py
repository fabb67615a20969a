"""Benchmark: encrypting, decrypting and keyed-hashing one Arrow column (govshare.core.crypto_arrow).

    .venv/bin/python benchmarks/bench_crypto.py [--rows 1000000]

A column of 11-digit mobile numbers (1% null) is encrypted with SM4-GCM (base64 text and binary output), decrypted
back (checked equal), and hashed with HMAC-SM3. Needs no Django: the key ring is made in memory.
"""

from __future__ import annotations

import argparse
import random
import time

import pyarrow as pa

from govshare.core import crypto
from govshare.core.crypto_arrow import decrypt_arrow_column, encrypt_arrow_column, hmac_arrow_column


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    rows = parser.parse_args().rows
    generator = random.Random(7)
    values = [
        None if generator.random() < 0.01 else f"1{generator.randrange(3, 10)}{generator.randrange(10**9):09d}"
        for _ in range(rows)
    ]
    column = pa.array(values, pa.string())
    ring = crypto.KeyRing((crypto.generate_key("k1"),), source="bench")

    def timed(label: str, action):  # type: ignore[no-untyped-def]
        start = time.perf_counter()
        result = action()
        seconds = time.perf_counter() - start
        print(f"{label:<28} {seconds:7.2f} s  {rows / seconds:>10,.0f} values/s")
        return result

    encrypted = timed("encrypt (base64 text)", lambda: encrypt_arrow_column(column, ring, "bench.phone"))
    binary = timed("encrypt (binary)", lambda: encrypt_arrow_column(column, ring, "bench.phone", output="binary"))
    plain = timed("decrypt (base64 text)", lambda: decrypt_arrow_column(encrypted, ring, "bench.phone"))
    plain_binary = timed("decrypt (binary)", lambda: decrypt_arrow_column(binary, ring, "bench.phone"))
    timed("hmac-sm3", lambda: hmac_arrow_column(column, ring, "bench.phone"))
    assert plain.equals(column) and plain_binary.equals(column)
    print(
        f"rows {rows:,}; plaintext {column.nbytes / 2**20:.1f} MiB, base64 ciphertext "
        f"{encrypted.nbytes / 2**20:.1f} MiB, binary {binary.nbytes / 2**20:.1f} MiB"
    )


if __name__ == "__main__":
    main()
