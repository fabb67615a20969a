"""The SM3 hash chain over the audit log: batched sealing and verification.

Rows are written unchained (by record_action and by the bulk paths that insert audit rows directly). Sealing
links every unchained row, in id order, to the chain head under a lock on the single chain-head row, as X-Road
timestamps its message log in batches: each row gets the next `seq`, the previous row's hash as `prev_hash`
and `row_hash` = SM3 over a canonical serialisation of its content, its seq and `prev_hash`. A sealed row is
never written again; verification walks the chain in seq order and names every broken link.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import hashes
from django.db import connection, transaction
from django.utils import timezone

from govshare.audit.models import AuditChainHead, AuditLog, AuditSealBatch

GENESIS_HASH = "0" * 64
HASH_VERSION = "govshare-audit-v1"
SEAL_CHUNK = 2000
_UPDATE_CHUNK = 5000
# The columns a row's hash covers, in the order they are read.
CONTENT_FIELDS = ("id", "at", "actor_id", "actor_name", "action", "object_type", "object_id", "object_repr", "extra")
CHAIN_FIELDS = ("seq", "prev_hash", "row_hash", "batch_id")


def sm3_hex(data: bytes) -> str:
    digest = hashes.Hash(hashes.SM3())
    digest.update(data)
    return digest.finalize().hex()


def _at_text(value: dt.datetime) -> str:
    if timezone.is_naive(value):
        value = timezone.make_aware(value, dt.UTC)
    return value.astimezone(dt.UTC).isoformat(timespec="microseconds")


def canonical_bytes(row: dict[str, Any], seq: int, prev_hash: str) -> bytes:
    """The exact bytes hashed for one row: a JSON array in a fixed order, keys of `extra` sorted."""
    payload = [
        HASH_VERSION,
        seq,
        row["id"],
        _at_text(row["at"]),
        row["actor_id"],
        row["actor_name"],
        row["action"],
        row["object_type"],
        row["object_id"],
        row["object_repr"],
        row["extra"],
        prev_hash,
    ]
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False).encode()


def row_digest(row: dict[str, Any], seq: int, prev_hash: str) -> str:
    return sm3_hex(canonical_bytes(row, seq, prev_hash))


# --- sealing -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SealResult:
    sealed: int
    batch_id: int | None
    last_seq: int
    skipped: bool = False  # another process held the chain lock (wait=False only)


class ChainHeadMissing(RuntimeError):
    """Sealed rows exist but the chain head was removed: sealing stops until verification has been looked at."""


def _chain_head(*, wait: bool) -> AuditChainHead | None:
    if not AuditChainHead.objects.filter(pk=1).exists():
        if AuditLog.objects.filter(seq__isnull=False).exists():
            raise ChainHeadMissing(
                "审计链头记录缺失，但已有封存的记录：请先运行 govshare verify_audit_log 核查 (chain head missing)"
            )
        AuditChainHead.objects.get_or_create(pk=1, defaults={"last_seq": 0, "last_hash": GENESIS_HASH})
    heads = AuditChainHead.objects.select_for_update(skip_locked=not wait).filter(pk=1)
    return heads.first()


def _unsealed_rows(limit: int, after_id: int = 0) -> list[dict[str, Any]]:
    # Keyset paging: rows just sealed in this run are not scanned again (on PostgreSQL their old entries stay in
    # the partial index until vacuum). A row committed meanwhile with a lower id waits for the next seal.
    rows = AuditLog.objects.filter(seq__isnull=True, id__gt=after_id).order_by("id").values(*CONTENT_FIELDS)
    return list(rows[:limit])


def seal_audit_log(*, wait: bool = True, max_rows: int | None = None) -> SealResult:
    """Link every unchained audit row to the chain, in id order, in one batch (one transaction).

    With wait=False a seal already running elsewhere is not waited for (on PostgreSQL the head row is locked
    with SKIP LOCKED): the running seal or the next one links the rows. On SQLite writes are serialised anyway.
    """
    with transaction.atomic():
        head = _chain_head(wait=wait)
        if head is None:
            return SealResult(0, None, 0, skipped=True)
        rows = _unsealed_rows(SEAL_CHUNK if max_rows is None else min(SEAL_CHUNK, max_rows))
        if not rows:
            return SealResult(0, None, head.last_seq)
        seq, prev = head.last_seq, head.last_hash
        batch = AuditSealBatch.objects.create(first_seq=seq + 1, last_seq=seq, row_count=0, head_hash=prev)
        sealed = 0
        while rows:
            links: list[tuple[int, str, str, int]] = []  # (seq, prev_hash, row_hash, id)
            for row in rows:
                seq += 1
                digest = row_digest(row, seq, prev)
                links.append((seq, prev, digest, row["id"]))
                prev = digest
            _write_links(links, batch_id=batch.pk)
            sealed += len(links)
            if max_rows is not None and sealed >= max_rows:
                break
            limit = SEAL_CHUNK if max_rows is None else min(SEAL_CHUNK, max_rows - sealed)
            rows = _unsealed_rows(limit, after_id=links[-1][3])
        batch.last_seq, batch.row_count, batch.head_hash = seq, sealed, prev
        batch.save(update_fields=["last_seq", "row_count", "head_hash"])
        head.last_seq, head.last_hash, head.sealed_at = seq, prev, timezone.now()
        head.save(update_fields=["last_seq", "last_hash", "sealed_at"])
        return SealResult(sealed, batch.pk, seq)


def _write_links(links: list[tuple[int, str, str, int]], *, batch_id: int) -> None:
    """Fill the chain columns of unsealed rows: the only write a row ever receives after its insert, and only once."""
    table = connection.ops.quote_name(AuditLog._meta.db_table)
    if connection.vendor == "postgresql":
        # One statement per chunk with four array parameters (row-by-row UPDATEs cost a round trip each).
        sql = (
            f"UPDATE {table} AS t SET seq = v.seq, prev_hash = v.prev_hash, row_hash = v.row_hash, "  # noqa: S608
            "batch_id = %s FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::bigint[]) "
            "AS v(seq, prev_hash, row_hash, id) WHERE t.id = v.id AND t.seq IS NULL"
        )
        with connection.cursor() as cursor:
            for start in range(0, len(links), _UPDATE_CHUNK):
                columns = [list(column) for column in zip(*links[start : start + _UPDATE_CHUNK], strict=True)]
                cursor.execute(sql, [batch_id, *columns])
        return
    sql = (
        f"UPDATE {table} SET seq = %s, prev_hash = %s, row_hash = %s, batch_id = %s "  # noqa: S608
        "WHERE id = %s AND seq IS NULL"
    )
    with connection.cursor() as cursor:
        cursor.executemany(sql, [(seq, prev, digest, batch_id, row_id) for seq, prev, digest, row_id in links])


# --- verification ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainProblem:
    """One broken link: what is wrong, at which row (id and seq), in Chinese and in English."""

    kind: str  # edited | missing | relinked | forged | head
    seq: int | None
    row_id: int | None
    message: str
    message_en: str

    def as_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "seq": self.seq,
            "row_id": self.row_id,
            "message": self.message,
            "message_en": self.message_en,
        }


@dataclass
class ChainReport:
    checked: int = 0
    last_seq: int = 0
    last_hash: str = ""
    unsealed: int = 0
    oldest_unsealed_at: dt.datetime | None = None
    problems: list[ChainProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_problem(self) -> ChainProblem | None:
        return self.problems[0] if self.problems else None


def _sealed_rows() -> Iterator[dict[str, Any]]:
    fields = (*CONTENT_FIELDS, *CHAIN_FIELDS, "batch__first_seq", "batch__last_seq")
    rows = AuditLog.objects.filter(seq__isnull=False).order_by("seq").values(*fields)
    return rows.iterator(chunk_size=SEAL_CHUNK)


def verify_audit_chain(*, max_problems: int = 100) -> ChainReport:
    """Walk the sealed rows in seq order and report each broken link (the first one first)."""
    report = ChainReport()
    expected_seq, prev, prev_id = 1, GENESIS_HASH, None

    def add(problem: ChainProblem) -> None:
        already = any((p.row_id, p.seq) == (problem.row_id, problem.seq) for p in report.problems[-2:])
        if len(report.problems) < max_problems and not already:
            report.problems.append(problem)

    for row in _sealed_rows():
        report.checked += 1
        seq, row_id = int(row["seq"]), int(row["id"])
        if seq > expected_seq:
            gap = f"{expected_seq}" if seq - expected_seq == 1 else f"{expected_seq}–{seq - 1}"
            add(
                ChainProblem(
                    "missing",
                    expected_seq,
                    None,
                    f"审计日志第 {gap} 号记录缺失（已被删除）：位于记录 id={prev_id} 与 id={row_id}（序号 {seq}）之间",
                    f"audit row seq {gap} is missing (deleted) between row id={prev_id} and id={row_id} (seq {seq})",
                )
            )
            prev = row["prev_hash"]  # resynchronise so that one deletion is reported once
        linked = row["prev_hash"] == prev
        intact = row_digest(row, seq, row["prev_hash"]) == row["row_hash"]
        in_batch = row["batch_id"] is not None and row["batch__first_seq"] <= seq <= row["batch__last_seq"]
        if not intact and not linked:
            add(
                ChainProblem(
                    "forged",
                    seq,
                    row_id,
                    f"审计日志记录 id={row_id}（序号 {seq}）的哈希与前一条链接都不符：该记录被伪造或插入",
                    f"audit row id={row_id} (seq {seq}): hash and link to the previous row both fail "
                    "(forged or inserted)",
                )
            )
        elif not intact:
            add(
                ChainProblem(
                    "edited",
                    seq,
                    row_id,
                    f"审计日志记录 id={row_id}（序号 {seq}）的内容与其 SM3 哈希不符：该记录被修改",
                    f"audit row id={row_id} (seq {seq}): content does not match its SM3 hash (edited)",
                )
            )
        elif not linked:
            add(
                ChainProblem(
                    "relinked",
                    seq,
                    row_id,
                    f"审计日志记录 id={row_id}（序号 {seq}）与前一条记录的链接断开：记录被移动、插入或其前一条被改动",
                    f"audit row id={row_id} (seq {seq}) does not link to the previous row "
                    "(moved, inserted out of order or the previous row was altered)",
                )
            )
        elif not in_batch:
            add(
                ChainProblem(
                    "forged",
                    seq,
                    row_id,
                    f"审计日志记录 id={row_id}（序号 {seq}）不属于任何封存批次：该记录是在封存之外写入的",
                    f"audit row id={row_id} (seq {seq}) belongs to no seal batch (written outside sealing)",
                )
            )
        prev, prev_id, expected_seq = row["row_hash"], row_id, seq + 1
        report.last_seq, report.last_hash = seq, prev
    _check_head(report, add, prev)
    unsealed = AuditLog.objects.filter(seq__isnull=True)
    report.unsealed = unsealed.count()
    if report.unsealed:
        report.oldest_unsealed_at = unsealed.order_by("at").values_list("at", flat=True).first()
    return report


def _check_head(report: ChainReport, add: Any, last_hash: str) -> None:
    """The chain head remembers where sealing stopped: rows deleted from, or added to, the end show here."""
    head = AuditChainHead.objects.filter(pk=1).first()
    head_seq = head.last_seq if head else 0
    head_hash = head.last_hash if head else GENESIS_HASH
    last_batch = AuditSealBatch.objects.order_by("-last_seq").first()
    if head is None and report.last_seq:
        add(
            ChainProblem(
                "head",
                None,
                None,
                "审计链头记录缺失（已被删除）：无法确认日志末尾没有被删改",
                "the audit chain head is missing (deleted): the end of the log cannot be confirmed",
            )
        )
        return
    if last_batch is not None and (last_batch.last_seq, last_batch.head_hash) != (head_seq, head_hash):
        add(
            ChainProblem(
                "head",
                head_seq,
                None,
                f"审计链头（序号 {head_seq}）与最后一个封存批次（序号 {last_batch.last_seq}）不一致：链头被改动",
                f"the audit chain head (seq {head_seq}) disagrees with the last seal batch "
                f"(seq {last_batch.last_seq}): the head was altered",
            )
        )
    if report.last_seq < head_seq:
        gap = f"{report.last_seq + 1}" if head_seq - report.last_seq == 1 else f"{report.last_seq + 1}–{head_seq}"
        add(
            ChainProblem(
                "missing",
                report.last_seq + 1,
                None,
                f"审计日志末尾第 {gap} 号记录缺失（已被删除）：链头记录最后序号为 {head_seq}",
                f"audit rows seq {gap} at the end are missing (deleted): the chain head ends at seq {head_seq}",
            )
        )
    elif report.last_seq > head_seq:
        row_id = AuditLog.objects.filter(seq=head_seq + 1).values_list("id", flat=True).first()
        add(
            ChainProblem(
                "forged",
                head_seq + 1,
                row_id,
                f"审计日志记录 id={row_id}（序号 {head_seq + 1}）在链头之后：该记录不是封存写入的，是伪造或插入的",
                f"audit row id={row_id} (seq {head_seq + 1}) lies beyond the chain head (not written by sealing: "
                "forged or inserted)",
            )
        )
    elif report.last_seq and last_hash != head_hash:
        row_id = AuditLog.objects.filter(seq=head_seq).values_list("id", flat=True).first()
        add(
            ChainProblem(
                "head",
                head_seq,
                row_id,
                f"审计日志最后一条记录 id={row_id}（序号 {head_seq}）的哈希与链头不符",
                f"the last audit row id={row_id} (seq {head_seq}) does not match the chain head hash",
            )
        )
