"""`govshare seal_audit_log`: link every unsealed audit row into the chain (once, or every T seconds) and anchor the
head outside the database."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from govshare.audit.anchors import anchor_head
from govshare.audit.chain import seal_audit_log


class Command(BaseCommand):
    help = (
        "封存审计日志：把尚未入链的记录按顺序链接进哈希链并写入库外锚点 "
        "(seal unsealed audit rows into the chain and anchor it)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--watch",
            action="store_true",
            help="每隔 audit_seal_interval_seconds 秒封存一次，直到被中断 (seal every interval until interrupted).",
        )

    def handle(self, *args: Any, watch: bool = False, **options: Any) -> None:
        while True:
            result = seal_audit_log()
            anchor_head()  # unless the seal's own anchor, or an earlier one, already has the head
            if result.sealed:
                self.stdout.write(
                    f"已封存 {result.sealed} 条审计记录，链尾序号 {result.last_seq}"
                    f" (sealed {result.sealed} audit rows, chain ends at seq {result.last_seq})"
                )
            elif not watch:
                self.stdout.write(
                    f"没有待封存的审计记录，链尾序号 {result.last_seq}"
                    f" (nothing to seal, chain ends at seq {result.last_seq})"
                )
            if not watch:
                return
            time.sleep(settings.GOVSHARE.audit_seal_interval_seconds)
