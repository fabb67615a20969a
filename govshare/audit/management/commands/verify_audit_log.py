"""`govshare verify_audit_log`: seal pending rows, then walk the SM3 chain; exit code 1 names the first broken link."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from govshare.audit.chain import seal_audit_log, verify_audit_chain


class Command(BaseCommand):
    help = "校验审计日志哈希链，报告第一处断链 (verify the audit log's SM3 hash chain; exit 1 if broken)."

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
        if report.unsealed:
            self.stdout.write(
                f"另有 {report.unsealed} 条记录尚未封存，未参与校验"
                f" ({report.unsealed} rows not yet sealed, not checked)"
            )
        if report.ok:
            self.stdout.write(
                self.style.SUCCESS(
                    f"审计日志哈希链完整：已校验 {report.checked} 条记录，链尾序号 {report.last_seq}"
                    f" (audit chain intact: {report.checked} rows checked, last seq {report.last_seq})"
                )
            )
            if report.last_hash:
                # Written down elsewhere (a ticket, a signed mail), this hash later proves the log was not rewritten.
                self.stdout.write(f"链尾 SM3 哈希 (last hash): {report.last_hash}")
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
