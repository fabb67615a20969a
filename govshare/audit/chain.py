"""The audit log's chain: rows fingerprinted when written, sealed in batches under a keyed MAC, and verified against
the database and against the anchors kept outside it.

Every row gets its content MAC in the transaction that inserts it (govshare.audit.models.ContentMacField: HMAC-SM3
under the active audit key, which the database does not hold, govshare.audit.keys). Sealing links every unsealed row,
in id order, to the chain head under a lock on the single chain-head row, as X-Road timestamps its message log in
batches: each row gets the next `seq`, the previous row's `row_hash` as `prev_hash`, and `row_hash` = HMAC-SM3 over
its seq, id, `prev_hash` and content MAC under the active key, whose id it records (`key_id`). A sealed row is never
written again. Once a seal commits, the head is appended to the anchor file outside the database
(govshare.audit.anchors). Verification walks the chain in seq order, names every broken link, and checks the chain
against every anchor. Rows sealed before the chain was keyed (seq ≤ the head's `legacy_seq`) keep their unkeyed SM3
hash and are verified as before (govshare-audit-v1).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from govshare.audit import anchors, macs
from govshare.audit.keys import AuditKeyRing, current_audit_keys
from govshare.audit.macs import content_matches, hmac_equal, legacy_digest, link_mac, sm3_hex
from govshare.audit.models import AuditChainHead, AuditLog, AuditSealBatch

GENESIS_HASH = "0" * 64
SEAL_CHUNK = 2000
_UPDATE_CHUNK = 5000
# The columns read for each row: its id and what its content MAC covers.
CONTENT_FIELDS = ("id", *macs.CONTENT_FIELDS)
CHAIN_FIELDS = ("seq", "prev_hash", "row_hash", "batch_id", "key_id", "content_mac")

__all__ = [
    "GENESIS_HASH",
    "ChainHeadMissing",
    "ChainProblem",
    "ChainReport",
    "SealResult",
    "row_digest",
    "seal_audit_log",
    "sm3_hex",
    "verify_audit_chain",
]


def row_digest(row: dict[str, Any], seq: int, prev_hash: str) -> str:
    """The unkeyed SM3 hash of a row sealed before the chain was keyed (and all an attacker without the key has)."""
    return legacy_digest(row, seq, prev_hash)


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


def _unsealed_rows(limit: int, after_id: int = 0) -> list[tuple[int, str]]:
    """(id, content MAC) of the next unsealed rows. Keyset paging: rows just sealed in this run are not scanned again
    (on PostgreSQL their old entries stay in the partial index until vacuum). A row committed meanwhile with a lower
    id waits for the next seal."""
    rows = AuditLog.objects.filter(seq__isnull=True, id__gt=after_id).order_by("id")
    return list(rows.values_list("id", "content_mac")[:limit])


def seal_audit_log(*, wait: bool = True, max_rows: int | None = None) -> SealResult:
    """Link every unsealed audit row to the chain, in id order, in one batch (one transaction); the new head is
    anchored outside the database once the batch commits (govshare.audit.anchors.after_seal).

    With wait=False a seal already running elsewhere is not waited for (on PostgreSQL the head row is locked
    with SKIP LOCKED): the running seal or the next one links the rows. On SQLite writes are serialised anyway.
    Sealing binds each row's content MAC as it was written, without reading the content: a row changed before it
    was sealed no longer matches the MAC its seal binds, and verification names it as edited.
    """
    key = current_audit_keys().active
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
            for row_id, row_content_mac in rows:
                seq += 1
                digest = link_mac(key, seq=seq, row_id=row_id, prev_hash=prev, row_content_mac=row_content_mac)
                links.append((seq, prev, digest, row_id))
                prev = digest
            _write_links(links, batch_id=batch.pk, key_id=key.key_id)
            sealed += len(links)
            if max_rows is not None and sealed >= max_rows:
                break
            limit = SEAL_CHUNK if max_rows is None else min(SEAL_CHUNK, max_rows - sealed)
            rows = _unsealed_rows(limit, after_id=links[-1][3])
        batch.last_seq, batch.row_count, batch.head_hash = seq, sealed, prev
        batch.save(update_fields=["last_seq", "row_count", "head_hash"])
        head.last_seq, head.last_hash, head.sealed_at = seq, prev, timezone.now()
        head.save(update_fields=["last_seq", "last_hash", "sealed_at"])
        transaction.on_commit(partial(anchors.after_seal, seq, prev, head.legacy_seq), robust=True)
    return SealResult(sealed, batch.pk, seq)


def _write_links(links: list[tuple[int, str, str, int]], *, batch_id: int, key_id: str) -> None:
    """Fill the chain columns of unsealed rows: the only write a row ever receives after its insert, and only once."""
    table = connection.ops.quote_name(AuditLog._meta.db_table)
    if connection.vendor == "postgresql":
        # One statement per chunk with four array parameters (row-by-row UPDATEs cost a round trip each).
        sql = (
            f"UPDATE {table} AS t SET seq = v.seq, prev_hash = v.prev_hash, row_hash = v.row_hash, "  # noqa: S608
            "batch_id = %s, key_id = %s FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::bigint[]) "
            "AS v(seq, prev_hash, row_hash, id) WHERE t.id = v.id AND t.seq IS NULL"
        )
        with connection.cursor() as cursor:
            for start in range(0, len(links), _UPDATE_CHUNK):
                columns = [list(column) for column in zip(*links[start : start + _UPDATE_CHUNK], strict=True)]
                cursor.execute(sql, [batch_id, key_id, *columns])
        return
    sql = (
        f"UPDATE {table} SET seq = %s, prev_hash = %s, row_hash = %s, batch_id = %s, key_id = %s "  # noqa: S608
        "WHERE id = %s AND seq IS NULL"
    )
    with connection.cursor() as cursor:
        cursor.executemany(sql, [(seq, prev, digest, batch_id, key_id, row_id) for seq, prev, digest, row_id in links])


# --- verification ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainProblem:
    """One broken link: what is wrong, at which row (id and seq), in Chinese and in English."""

    kind: str  # edited | missing | relinked | forged | head | anchor | key
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
    legacy_rows: int = 0  # rows sealed before the chain was keyed (unkeyed SM3)
    anchor_path: str = ""
    anchors: int = 0  # valid anchor lines the chain was checked against
    anchored_seq: int = 0  # the highest seq an anchor records
    anchored_at: str = ""

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


def _row_problem(kind: str, row: dict[str, Any], zh: str, en: str) -> ChainProblem:
    seq, row_id = int(row["seq"]), int(row["id"])
    return ChainProblem(
        kind, seq, row_id, f"审计日志记录 id={row_id}（序号 {seq}）{zh}", f"audit row id={row_id} (seq {seq}){en}"
    )


def _legacy_row(row: dict[str, Any], linked: bool) -> ChainProblem | None:
    """A row sealed before the chain was keyed: its unkeyed SM3 hash covers its content and its link."""
    seq = int(row["seq"])
    intact = legacy_digest(row, seq, row["prev_hash"]) == row["row_hash"]
    if not intact and not linked:
        return _row_problem(
            "forged",
            row,
            "的哈希与前一条链接都不符：该记录被伪造或插入",
            ": hash and link to the previous row both fail (forged or inserted)",
        )
    if not intact:
        return _row_problem(
            "edited", row, "的内容与其 SM3 哈希不符：该记录被修改", ": content does not match its SM3 hash (edited)"
        )
    return None


def _keyed_row(row: dict[str, Any], linked: bool, ring: AuditKeyRing) -> ChainProblem | None:
    """A keyed row: its seal (link MAC) under the key it names, and its content against the MAC it was written with."""
    key = ring.find(row["key_id"])
    if key is None:
        return _row_problem(
            "key",
            row,
            f"由审计密钥“{row['key_id']}”封存，密钥环中没有该密钥：无法校验",
            f" was sealed with audit key '{row['key_id']}', which the key ring does not hold: it cannot be verified",
        )
    seq, row_id = int(row["seq"]), int(row["id"])
    sealed = hmac_equal(
        link_mac(key, seq=seq, row_id=row_id, prev_hash=row["prev_hash"], row_content_mac=row["content_mac"]),
        row["row_hash"],
    )
    content = content_matches(row, row["content_mac"], ring) if row["content_mac"] else False
    if not sealed and not linked:
        return _row_problem(
            "forged",
            row,
            "的封存 MAC 与前一条链接都不符：该记录被伪造或插入",
            ": its seal MAC and its link to the previous row both fail (forged or inserted)",
        )
    if not row["content_mac"]:
        return _row_problem(
            "forged",
            row,
            "没有写入时的内容指纹：该记录不是平台写入的，是在数据库中插入的",
            " has no fingerprint from when it was written (inserted in the database, not by the platform)",
        )
    if content is None:
        return _row_problem(
            "key",
            row,
            "的内容指纹所用的审计密钥不在密钥环中：无法校验其内容",
            ": the audit key of its content fingerprint is not in the key ring (its content cannot be verified)",
        )
    if not content:
        return _row_problem(
            "edited",
            row,
            "的内容与写入时的 HMAC-SM3 指纹不符：该记录被修改",
            ": content does not match the HMAC-SM3 fingerprint taken when it was written (edited)",
        )
    if not sealed:
        return _row_problem(
            "forged",
            row,
            f"的封存 MAC（审计密钥“{key.key_id}”）校验失败：其哈希是没有审计密钥的人重新计算的，或序号、编号被改动",
            f": its seal (HMAC-SM3 under audit key '{key.key_id}') does not verify: the chain was recomputed "
            "without the audit key, or its seq or id was changed",
        )
    return None


def verify_audit_chain(*, max_problems: int = 100) -> ChainReport:
    """Walk the sealed rows in seq order and report each broken link (the first one first), then the chain head,
    then the chain against every anchor outside the database."""
    ring = current_audit_keys()
    found = anchors.read_anchors(ring)
    head = AuditChainHead.objects.filter(pk=1).first()
    report = ChainReport(anchor_path=str(found.path), anchors=len(found.by_seq))
    if found.last is not None:
        report.anchored_seq, report.anchored_at = found.last.seq, found.last.at
    # Where the unkeyed rows end: as the earliest anchor recorded it (outside the database), else as the head says.
    legacy_limit = found.legacy_seq if found.by_seq else head.legacy_seq if head else None
    expected_seq, prev, prev_id, keyed_seen = 1, GENESIS_HASH, None, False

    def add(problem: ChainProblem) -> None:
        # A row found broken twice (its link, then the head) is reported once; the anchors are evidence of their own.
        already = problem.kind != "anchor" and any(
            (p.row_id, p.seq) == (problem.row_id, problem.seq) and p.kind != "anchor" for p in report.problems[-2:]
        )
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
        if row["key_id"]:
            keyed_seen = True
            problem = _keyed_row(row, linked, ring)
        else:
            report.legacy_rows += 1
            problem = _legacy_row(row, linked)
            if problem is None and (keyed_seen or (legacy_limit is not None and seq > legacy_limit)):
                limit = "" if legacy_limit is None else f"（旧式记录止于序号 {legacy_limit}）"
                limit_en = "" if legacy_limit is None else f" (unkeyed rows end at seq {legacy_limit})"
                problem = _row_problem(
                    "forged",
                    row,
                    f"是未用密钥封存的旧式记录，却位于启用审计密钥之后{limit}：该记录是伪造的，或哈希链被改写为旧格式",
                    f" is sealed unkeyed (the old format) where the chain is keyed{limit_en}: forged, or the chain "
                    "was rewritten in the old format",
                )
        in_batch = row["batch_id"] is not None and row["batch__first_seq"] <= seq <= row["batch__last_seq"]
        if problem is None and not linked:
            problem = _row_problem(
                "relinked",
                row,
                "与前一条记录的链接断开：记录被移动、插入或其前一条被改动",
                " does not link to the previous row (moved, inserted out of order or the previous row was altered)",
            )
        elif problem is None and not in_batch:
            problem = _row_problem(
                "forged",
                row,
                "不属于任何封存批次：该记录是在封存之外写入的",
                " belongs to no seal batch (written outside sealing)",
            )
        if problem is not None:
            add(problem)
        anchor = found.by_seq.get(seq)
        if anchor is not None and anchor.head_hash != row["row_hash"]:
            add(
                _row_problem(
                    "anchor",
                    row,
                    f"的哈希与 {anchor.at} 写在库外锚点文件第 {anchor.line} 行的链头哈希不符："
                    "截至该记录的日志在锚定之后被改写",
                    f" differs from the head hash anchored outside the database at {anchor.at} (anchor file line "
                    f"{anchor.line}): the log up to it was rewritten after it was anchored",
                )
            )
        prev, prev_id, expected_seq = row["row_hash"], row_id, seq + 1
        report.last_seq, report.last_hash = seq, prev
    _check_head(report, add, prev, head)
    _check_anchored_end(report, add, found)
    for line, zh, en in found.problems:
        add(ChainProblem("anchor", None, None, f"库外锚点文件第 {line} 行{zh}", f"anchor file line {line}{en}"))
    unsealed = AuditLog.objects.filter(seq__isnull=True)
    report.unsealed = unsealed.count()
    if report.unsealed:
        report.oldest_unsealed_at = unsealed.order_by("at").values_list("at", flat=True).first()
    return report


def _check_anchored_end(report: ChainReport, add: Callable[[ChainProblem], None], found: anchors.AnchorSet) -> None:
    """Rows deleted from the end of the log, with the head and the batches moved back to match, still show against
    the last anchor: the database cannot take back what was written outside it."""
    last = found.last
    if last is None or last.seq <= report.last_seq:
        return
    first = report.last_seq + 1
    gap = f"{first}" if last.seq == first else f"{first}–{last.seq}"
    add(
        ChainProblem(
            "missing",
            first,
            None,
            f"审计日志第 {gap} 号记录缺失（已被删除）：{last.at} 写在库外锚点文件第 {last.line} 行的锚点记录链已到序号 "
            f"{last.seq}，数据库中的链只到序号 {report.last_seq}",
            f"audit rows seq {gap} are missing (deleted): the anchor written outside the database at {last.at} "
            f"(anchor file line {last.line}) records the chain at seq {last.seq}, the database ends at seq "
            f"{report.last_seq}",
        )
    )


def _check_head(
    report: ChainReport, add: Callable[[ChainProblem], None], last_hash: str, head: AuditChainHead | None
) -> None:
    """The chain head remembers where sealing stopped: rows deleted from, or added to, the end show here."""
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
