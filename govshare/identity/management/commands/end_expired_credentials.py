"""`govshare end_expired_credentials`: revoke the system credentials whose rotation overlap has passed (run it from
cron or a schedule; refusal does not wait for it: an expired credential is refused at token issue and use)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from govshare.identity.services import end_expired_credentials


class Command(BaseCommand):
    help = "吊销轮换过渡期已满的接入系统旧凭证（过期凭证在此之前已无法申请和使用令牌）。"

    def handle(self, *args: Any, **options: Any) -> None:
        ended = end_expired_credentials()
        self.stdout.write(f"已吊销 {ended} 个过渡期已满的旧凭证")
