"""`govshare verify_audit_log`: seal pending rows, then walk the chain and check it against the anchors outside the
database; exit code 1 names the first broken link. An intact chain's head is anchored if no anchor has it yet.
The check is recorded in the trail as a check made on the site is (origin 命令行), so the auditor's home shows it."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from govshare.audit import selectors
from govshare.audit.anchors import anchor_head
from govshare.audit.chain import seal_audit_log, verify_audit_chain
from govshare.audit.services import record_audit_read


class Command(BaseCommand):
    help = (
        "校验审计日志哈希链并与库外锚点核对，报告第一处断链 "
        "(verify the audit log's chain and its anchors outside the database; exit 1 if broken)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--no-seal", action="store_true", help="不先封存待入链记录 (do not seal pending rows first)."
        )

    def handle(self, *args: Any, no_seal: bool = False, **options: Any) -> None:
        if not no_seal:
            sealed = seal_audit_log().sealed
            if sealed:
                self.stdout.write(f"先封存了 {sealed} 条待入链记录 (sealed {sealed} pending rows first)")
        report = verify_audit_chain()
        # No signed-in person runs the command: the row's actor is "system", its origin says where it was run.
        record_audit_read(
            None, selectors.VERIFY_ACTION, ok=report.ok, checked=report.checked, origin=selectors.ORIGIN_CLI
        )
        if report.unsealed:
            self.stdout.write(
                f"另有 {report.unsealed} 条记录尚未封存，未参与校验"
                f" ({report.unsealed} rows not yet sealed, not checked)"
            )
        if report.anchors:
            self.stdout.write(
                f"已与 {report.anchors} 个库外锚点核对，最近锚定至序号 {report.anchored_seq}（{report.anchored_at}）"
                f" (checked against {report.anchors} anchors in {report.anchor_path}; last anchored seq "
                f"{report.anchored_seq} at {report.anchored_at})"
            )
        elif report.last_seq:
            self.stdout.write(f"尚无库外锚点 (no anchors yet in {report.anchor_path})")
        if report.ok:
            self.stdout.write(
                self.style.SUCCESS(
                    f"审计日志哈希链完整：已校验 {report.checked} 条记录，链尾序号 {report.last_seq}"
                    f" (audit chain intact: {report.checked} rows checked, last seq {report.last_seq})"
                )
            )
            if report.legacy_rows:
                self.stdout.write(
                    f"其中 {report.legacy_rows} 条是启用审计密钥之前封存的旧式记录（无密钥 SM3）"
                    f" ({report.legacy_rows} rows were sealed before the chain was keyed: unkeyed SM3)"
                )
            if report.last_hash:
                self.stdout.write(f"链尾 SM3 哈希 (last hash): {report.last_hash}")
            if anchor_head():
                self.stdout.write(f"已将链尾写入库外锚点 (head anchored in {report.anchor_path})")
            return
        for problem in report.problems:
            self.stderr.write(f"{problem.message} ({problem.message_en})")
        first = report.first_problem
        assert first is not None
        raise CommandError(
            f"审计日志哈希链已断开，共 {len(report.problems)} 处；第一处：{first.message}"
            f" (audit chain broken at {len(report.problems)} place(s); first: {first.message_en})",
            returncode=1,
        )
