"""`govshare demo_accounts --url URL`: where the platform runs and how to sign in as each demo role."""

from __future__ import annotations

import json
import unicodedata
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from govshare.accounts.choices import Role
from govshare.accounts.models import User
from govshare.demo.accounts import DEMO_ACCOUNTS, DEMO_PASSWORD
from govshare.demo.gateway import read_sandbox


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


class Command(BaseCommand):
    help = "列出平台地址和各角色的演示账号（账号、角色、部门、密码）。"

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--url", default="http://127.0.0.1:8000/", help="平台地址")

    def handle(self, *args: Any, **options: Any) -> None:
        url: str = options["url"]
        usernames = [a.username for a in DEMO_ACCOUNTS]
        users = {u.username: u for u in User.objects.filter(username__in=usernames).select_related("department")}
        self.stdout.write(f"govshare 政务数据共享交换平台: {url}")
        self.stdout.write(f"API 文档: {url.rstrip('/')}/api/docs    后台: {url.rstrip('/')}/admin/")
        if not users:
            self.stdout.write("尚未装入演示账号：先运行 govshare load_demo_data")
            return
        rows = [("账号", "角色", "部门", "密码", "可以试试")]
        for account in DEMO_ACCOUNTS:
            user = users.get(account.username)
            if user is None:
                continue
            roles = "、".join(str(Role(r).label) for r in account.roles)
            department = user.department.name if user.department else ""
            rows.append((account.username, roles, department, DEMO_PASSWORD, account.note))
        widths = [max(_width(row[i]) for row in rows) for i in range(len(rows[0]))]
        for index, row in enumerate(rows):
            self.stdout.write("  ".join(_pad(cell, widths[i]) for i, cell in enumerate(row)).rstrip())
            if index == 0:
                self.stdout.write("  ".join("-" * w for w in widths))
        sandbox = read_sandbox()
        if sandbox is not None:
            base = url.rstrip("/")
            self.stdout.write(
                f"数据共享网关联调沙箱（演示数据）: client_id={sandbox['client_id']} "
                f"client_secret={sandbox['client_secret']}\n"
                f"  令牌: POST {base}/o/token/ (grant_type=client_credentials)；"
                f"查询: POST {base}/gateway/v1/resources/{sandbox['resource']}/lookup "
                f'{{"scenario": {sandbox["scenario"]}, "key": {json.dumps(sandbox["sample_keys"][:1] and sandbox["sample_keys"][0], ensure_ascii=False)}}}'
            )
