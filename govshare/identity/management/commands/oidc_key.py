"""`govshare oidc_key`: create the ID-token signing key file under the data directory, once."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from govshare.identity.keys import generate_signing_key, key_file


class Command(BaseCommand):
    help = "生成 OIDC ID 令牌签名密钥（RSA，保存在数据目录下；已存在则不覆盖）"
    requires_system_checks: list[str] = []  # it is what makes the missing-key warning go away

    def handle(self, *args: Any, **options: Any) -> None:
        path = key_file(settings.GOVSHARE.data_dir)
        if settings.GOVSHARE.oidc_private_key.strip():
            self.stdout.write("已通过 GOVSHARE_OIDC_PRIVATE_KEY 配置签名密钥，未生成密钥文件")
        elif generate_signing_key(path):
            self.stdout.write(self.style.SUCCESS(f"已生成签名密钥：{path}（重启服务后生效）"))
        else:
            self.stdout.write(f"签名密钥已存在，未覆盖：{path}")
