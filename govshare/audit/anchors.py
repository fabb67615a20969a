"""Anchors of the audit chain outside the database: an append-only file of the chain head, one line per checkpoint.

Whoever can write the database can delete the newest rows and move the chain head and the seal batches back to
match; the chain alone cannot show it. An anchor is the head (seq and `row_hash`) written where the database
writer cannot reach: the file GOVSHARE_AUDIT_ANCHOR_PATH (default `<data_dir>/audit-anchors.log`, mode 0600, opened
for appending only: a line is one write) and the log (logger `govshare.audit.anchor`, INFO), which syslog or
journald can keep on another host. Verification checks the chain against every anchor (govshare.audit.chain).

A line: `gsa1 <seq> <head hash> <time, UTC> <legacy seq> <key id> <mac>`, where the MAC is HMAC-SM3 under the
audit key over the fields before it, and `legacy seq` is where the rows sealed before the chain was keyed end (as
the database said when the line was written: the earliest line's value holds).

Written after a seal commits (at most one line every `audit_anchor_interval_seconds`, by the file's modification
time, whichever process seals), by `govshare seal_audit_log` and `govshare verify_audit_log`, after every
`migrate`, and by the `audit-seal` schedule every minute when the head is newer than the last line (`anchor_head`).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings

from govshare.audit.keys import AuditKey, AuditKeyRing, current_audit_keys
from govshare.audit.macs import hmac_equal, mac_hex

__all__ = [
    "ANCHOR_VERSION",
    "Anchor",
    "AnchorSet",
    "after_seal",
    "anchor_head",
    "anchor_path",
    "append_anchor",
    "last_anchored_seq",
    "read_anchors",
    "seal_and_anchor",
]

logger = logging.getLogger("govshare.audit.anchor")

ANCHOR_VERSION = "gsa1"
_MAC_LABEL = "govshare-audit-anchor-v1"
_FIELDS = 7
_TAIL_BYTES = 4096  # more than one line


@dataclass(frozen=True, slots=True)
class Anchor:
    seq: int
    head_hash: str
    at: str
    legacy_seq: int
    key_id: str
    line: int  # line number in the file (1-based)


@dataclass
class AnchorSet:
    """The valid anchors of the file by seq (the first line for each seq), and what is wrong with other lines."""

    path: Path
    by_seq: dict[int, Anchor] = field(default_factory=dict)
    problems: list[tuple[int, str, str]] = field(default_factory=list)  # (line, Chinese, English)
    last: Anchor | None = None  # the anchor of the highest seq
    legacy_seq: int = 0  # the least `legacy seq` any anchor records


def anchor_path() -> Path:
    config = settings.GOVSHARE
    return Path(config.audit_anchor_path) if config.audit_anchor_path else Path(config.data_dir) / "audit-anchors.log"


def _body(seq: int, head_hash: str, at: str, legacy_seq: int, key_id: str) -> str:
    return f"{ANCHOR_VERSION} {seq} {head_hash} {at} {legacy_seq} {key_id}"


def format_line(seq: int, head_hash: str, legacy_seq: int, key: AuditKey, at: datetime | None = None) -> str:
    stamp = (at or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    body = _body(seq, head_hash, stamp, legacy_seq, key.key_id)
    return f"{body} {mac_hex(key, _MAC_LABEL, body.encode('ascii'))}\n"


def append_anchor(seq: int, head_hash: str, legacy_seq: int) -> str:
    """Append one anchor line (one write to a file opened O_APPEND, then fsync) and log it; the line."""
    line = format_line(seq, head_hash, legacy_seq, current_audit_keys().active)
    path = anchor_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line.encode("ascii"))
        os.fsync(fd)
    finally:
        os.close(fd)
    logger.info("audit chain anchor: %s", line.rstrip("\n"))
    return line


def after_seal(seq: int, head_hash: str, legacy_seq: int) -> None:
    """After a seal committed: anchor its head unless an anchor was written less than the interval ago (by any
    process); `anchor_head` on the schedule catches up. A failure is logged, never raised (the seal stands)."""
    try:
        path = anchor_path()
        interval = settings.GOVSHARE.audit_anchor_interval_seconds
        try:
            if time.time() - path.stat().st_mtime < interval:
                return
        except FileNotFoundError:
            pass
        append_anchor(seq, head_hash, legacy_seq)
    except Exception:
        logger.exception("writing the audit chain anchor failed; the next seal or the schedule writes one")


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    with path.open("r", encoding="ascii", errors="replace", newline="\n") as handle:
        yield from enumerate(handle, start=1)


def _parse(number: int, text: str, ring: AuditKeyRing) -> Anchor | tuple[str, str]:
    """The anchor of one line, or why it is not one (Chinese, English)."""
    if not text.endswith("\n"):
        return (
            "不完整（没有换行，写入被中断或被截断）",
            " is incomplete (no line end: an interrupted write or a truncation)",
        )
    parts = text.rstrip("\n").split(" ")
    if len(parts) != _FIELDS or parts[0] != ANCHOR_VERSION:
        return "格式不对：不是锚点记录", " is not an anchor line"
    _, seq, head_hash, at, legacy_seq, key_id, mac = parts
    if not (seq.isdigit() and legacy_seq.isdigit() and len(head_hash) == 64):
        return "格式不对：序号或哈希无效", " is not an anchor line (bad seq or hash)"
    key = ring.find(key_id)
    if key is None:
        return (
            f"由审计密钥“{key_id}”写入，密钥环中没有该密钥：无法校验",
            f" was written with audit key '{key_id}', which the key ring does not hold: it cannot be verified",
        )
    body = _body(int(seq), head_hash, at, int(legacy_seq), key_id)
    if body != " ".join(parts[:-1]) or not hmac_equal(mac_hex(key, _MAC_LABEL, body.encode("ascii")), mac):
        return "的 MAC 校验失败：该行被改动或伪造", ": its MAC does not verify (altered or forged)"
    return Anchor(int(seq), head_hash, at, int(legacy_seq), key_id, number)


def read_anchors(ring: AuditKeyRing | None = None) -> AnchorSet:
    """Every line of the anchor file checked; a missing file is an empty set (nothing anchored yet)."""
    ring = ring or current_audit_keys()
    found = AnchorSet(anchor_path())
    try:
        lines = list(_lines(found.path)) if found.path.exists() else []
    except OSError as exc:
        found.problems.append((0, f"无法读取：{exc}", f" cannot be read: {exc}"))
        return found
    for number, text in lines:
        parsed = _parse(number, text, ring)
        if not isinstance(parsed, Anchor):
            found.problems.append((number, *parsed))
            continue
        earlier = found.by_seq.get(parsed.seq)
        if earlier is not None:
            if earlier.head_hash != parsed.head_hash:
                found.problems.append(
                    (
                        number,
                        f"与第 {earlier.line} 行对序号 {parsed.seq} 记录的链头哈希不同："
                        "两次锚定之间日志被改写（或数据库被还原）",
                        f" records another head hash for seq {parsed.seq} than line {earlier.line}: the log was "
                        "rewritten (or the database restored) between the two anchors",
                    )
                )
            continue
        found.by_seq[parsed.seq] = parsed
        if found.last is None or parsed.seq > found.last.seq:
            found.last = parsed
        found.legacy_seq = parsed.legacy_seq if len(found.by_seq) == 1 else min(found.legacy_seq, parsed.legacy_seq)
    return found


def last_anchored_seq() -> int:
    """The seq of the file's last complete line (0 without one); its MAC is not checked (verification does)."""
    path = anchor_path()
    try:
        with path.open("rb") as handle:
            handle.seek(max(0, handle.seek(0, os.SEEK_END) - _TAIL_BYTES))
            tail = handle.read().decode("ascii", "replace")
    except FileNotFoundError:
        return 0
    for text in reversed(tail.split("\n")[:-1]):  # the part after the last line end is incomplete
        parts = text.split(" ")
        if len(parts) == _FIELDS and parts[0] == ANCHOR_VERSION and parts[1].isdigit():
            return int(parts[1])
    return 0


def anchor_head(*, force: bool = False) -> str | None:
    """Anchor the chain head as the database has it now, unless it is empty or (without `force`) the file's last
    line already records it; the line written."""
    from govshare.audit.models import AuditChainHead

    head = AuditChainHead.objects.filter(pk=1).first()
    if head is None or head.last_seq == 0:
        return None
    if not force and last_anchored_seq() >= head.last_seq:
        return None
    return append_anchor(head.last_seq, head.last_hash, head.legacy_seq)


def seal_and_anchor() -> str:
    """The `audit-seal` schedule (every minute): seal what is pending, then anchor the head if no line has it yet.
    Rows recorded by a process that then fell idle are sealed and anchored within about a minute."""
    from govshare.audit.chain import seal_audit_log

    result = seal_audit_log(wait=False)
    line = anchor_head()
    return f"sealed {result.sealed}, head seq {result.last_seq}" + (", anchored" if line else "")
