"""`govshare audit_keys init|add|status|generate`: the audit MAC key ring (govshare.audit.keys).

There is no `retire`: the rows a key sealed are verified with it for as long as they are kept."""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count

from govshare.audit import keys
from govshare.audit.models import AuditLog


class Command(BaseCommand):
    help = "管理审计日志的 HMAC-SM3 密钥（init 生成密钥文件，add 新增并启用密钥，status 查看，generate 输出新密钥）"
    requires_system_checks: list[str] = []  # `audit_keys init` is what makes the missing-key error go away

    def add_arguments(self, parser: ArgumentParser) -> None:
        commands = parser.add_subparsers(dest="action", required=True)
        commands.add_parser("init", help="生成密钥文件 <data_dir>/keys/audit-keyring.json（已存在则不覆盖）")
        commands.add_parser("add", help="生成新密钥并设为启用密钥（旧密钥保留，用于校验它封存的记录）")
        commands.add_parser("status", help="列出密钥，以及每个密钥封存的审计记录数")
        commands.add_parser("generate", help="输出一个新密钥（标识:Base64），用于 GOVSHARE_AUDIT_KEYS")

    def handle(self, *args: Any, **options: Any) -> None:
        data_dir = Path(settings.GOVSHARE.data_dir)
        action = options["action"]
        try:
            if action == "generate":
                self.stdout.write(keys.encode(keys.generate_key()))
            elif action == "status":
                self._status()
            elif settings.GOVSHARE.audit_keys.strip():
                raise CommandError(
                    "审计密钥由 GOVSHARE_AUDIT_KEYS 配置，未使用密钥文件：请修改该变量"
                    "（audit_keys generate 生成新密钥，放在最前即为启用密钥；旧密钥不可删除）"
                )
            elif action == "init":
                path = keys.key_file(data_dir)
                if keys.init_key_file(data_dir):
                    self.stdout.write(self.style.SUCCESS(f"已生成审计密钥文件：{path}"))
                else:
                    self.stdout.write(f"审计密钥文件已存在，未覆盖：{path}")
            elif action == "add":
                key = keys.add_key(data_dir)
                self.stdout.write(self.style.SUCCESS(f"已新增并启用审计密钥 {key.key_id}；旧密钥保留，用于校验旧记录"))
        except keys.AuditKeyError as exc:
            raise CommandError(str(exc)) from None

    def _status(self) -> None:
        ring = keys.current_audit_keys()
        self.stdout.write(f"审计密钥来源：{keys.SETTING if ring.source == 'setting' else ring.source}")
        sealed = dict(
            AuditLog.objects.filter(seq__isnull=False).values_list("key_id").annotate(n=Count("id")).order_by()
        )
        for key in ring.keys:
            marker = "（启用）" if key is ring.active else ""
            self.stdout.write(f"  {key.key_id}{marker}：封存了 {sealed.pop(key.key_id, 0)} 条记录")
        if sealed.get(""):
            self.stdout.write(f"  启用审计密钥之前封存的旧式记录（无密钥 SM3）：{sealed.pop('')} 条")
        for key_id, count in sorted(sealed.items()):
            self.stdout.write(self.style.ERROR(f"  {key_id}（不在密钥环中，无法校验）：封存了 {count} 条记录"))
