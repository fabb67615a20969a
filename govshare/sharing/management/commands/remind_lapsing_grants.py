"""`govshare remind_lapsing_grants`: tell the parties of each grant whose access review or validity ends within 30
days (once per review cycle). Run daily (cron or a django-q schedule)."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from govshare.sharing import grants


class Command(BaseCommand):
    help = "提醒即将到期或逾期未复核的共享授权（每个复核周期每项授权提醒一次）。"

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--within", type=int, default=grants.REMIND_WITHIN_DAYS, help="提前天数（默认 30）")

    def handle(self, *args: Any, **options: Any) -> None:
        sent = grants.remind_lapsing(within=options["within"])
        self.stdout.write(f"已提醒 {sent} 项共享授权。")
