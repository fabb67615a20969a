"""`govshare keys init|add|retire <id>|status|generate`: the encryption key ring of the key file.

`status` and `retire` also look at the data plane: every kept version of every dataset (datasets.encryption)."""

from __future__ import annotations

import base64
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from govshare.core import crypto
from govshare.datasets.encryption import dataset_key_usage
from govshare.keys.rotation import add_encryption_key, key_usage, retire_encryption_key


class Command(BaseCommand):
    help = "管理静态加密密钥环（init 生成密钥文件，add 新增并启用密钥，retire 退役不再使用的密钥，status 查看）"
    requires_system_checks: list[str] = []  # `keys init` is what makes the missing-key-ring error go away

    def add_arguments(self, parser: ArgumentParser) -> None:
        commands = parser.add_subparsers(dest="action", required=True)
        commands.add_parser("init", help="生成密钥文件 <data_dir>/keys/keyring.json（已存在则不覆盖）")
        commands.add_parser("add", help="生成新密钥并设为启用密钥（旧密钥保留用于解密，之后运行 rotate_keys）")
        retire = commands.add_parser("retire", help="从密钥文件删除一个已无数据使用的旧密钥")
        retire.add_argument("key_id")
        commands.add_parser("status", help="列出密钥，以及元数据库各加密字段和各数据集保留版本使用每个密钥的值的个数")
        commands.add_parser("generate", help="输出一个新密钥（标识:Base64），用于 GOVSHARE_ENCRYPTION_KEYS")

    def handle(self, *args: Any, **options: Any) -> None:
        data_dir = Path(settings.GOVSHARE.data_dir)
        configured = settings.GOVSHARE.encryption_keys.strip()
        action = options["action"]
        try:
            if action == "generate":
                entry = crypto.generate_key()
                self.stdout.write(f"{entry.key_id}:{base64.b64encode(entry.material).decode('ascii')}")
            elif action == "status":
                self._status()
            elif configured:
                raise CommandError(
                    "密钥由 GOVSHARE_ENCRYPTION_KEYS 配置，未使用密钥文件：请修改该变量（keys generate 生成新密钥，"
                    "放在最前即为启用密钥；rotate_keys 之后再删除旧密钥）"
                )
            elif action == "init":
                path = crypto.key_file(data_dir)
                if crypto.init_key_file(data_dir):
                    self.stdout.write(self.style.SUCCESS(f"已生成密钥文件：{path}"))
                else:
                    self.stdout.write(f"密钥文件已存在，未覆盖：{path}")
            elif action == "add":
                entry = add_encryption_key(data_dir)
                message = f"已新增并启用密钥 {entry.key_id}；运行 govshare rotate_keys 用它重新加密已有数据"
                self.stdout.write(self.style.SUCCESS(message))
            elif action == "retire":
                self._retire(data_dir, options["key_id"])
        except crypto.KeyRingError as exc:
            raise CommandError(str(exc)) from None

    def _retire(self, data_dir: Path, key_id: str) -> None:
        retire_encryption_key(data_dir, key_id, data_usage=dataset_key_usage)
        self.stdout.write(self.style.SUCCESS(f"已退役密钥 {key_id}（已从密钥文件删除）"))

    def _status(self) -> None:
        ring = crypto.current_key_ring()
        source = "GOVSHARE_ENCRYPTION_KEYS" if ring.source == "setting" else ring.source
        self.stdout.write(f"密钥来源：{source}")
        usage = key_usage()
        data = dataset_key_usage()
        for entry in ring.keys:
            marker = "（启用）" if entry is ring.active else ""
            total = sum(counter[entry.key_id] for counter in usage.values())
            versions = sum(1 for counter in data.values() if counter[entry.key_id])
            self.stdout.write(f"  {entry.key_id}{marker}：元数据库 {total} 个值，{versions} 个保留的数据集版本")
        for place, counter in [*sorted(usage.items()), *data.items()]:
            parts = "，".join(f"{key_id} {count}" for key_id, count in sorted(counter.items())) or "无加密值"
            self.stdout.write(f"  {place}：{parts}")
