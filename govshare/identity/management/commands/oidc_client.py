"""`govshare oidc_client`: register a relying party (the platform administrator's job, run by the operator)."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from oauth2_provider.models import Application

from govshare.accounts.models import User
from govshare.core.errors import DomainError
from govshare.identity.services import ClientInput, register_client


class Command(BaseCommand):
    help = "登记接入系统（OIDC 依赖方）：授权码方式需回调地址；客户端凭证方式可指定系统账号。客户端密钥只显示一次。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True, help="接入系统名称，如“医保局业务系统”")
        parser.add_argument(
            "--redirect-uri", action="append", default=[], dest="redirect_uris", help="回调地址（可多次给出）"
        )
        parser.add_argument(
            "--client-credentials", action="store_true", help="客户端凭证方式（系统对接），而不是用户单点登录"
        )
        parser.add_argument("--owner", default="", help="客户端凭证方式下代表该系统的平台账号")
        parser.add_argument("--json", action="store_true", help="以 JSON 输出 client_id 和 client_secret")

    def handle(self, *args: Any, **options: Any) -> None:
        owner = None
        if options["owner"]:
            owner = User.objects.filter(username=options["owner"]).first()
            if owner is None:
                raise CommandError(f"账号“{options['owner']}”不存在")
        grant = (
            Application.GRANT_CLIENT_CREDENTIALS
            if options["client_credentials"]
            else Application.GRANT_AUTHORIZATION_CODE
        )
        data = ClientInput(name=options["name"], grant_type=grant, redirect_uris=options["redirect_uris"], owner=owner)
        try:
            client, secret = register_client(data, actor=None)
        except DomainError as exc:
            details = "；".join(p.message for p in exc.problems) or exc.message
            raise CommandError(details) from exc
        if options["json"]:
            self.stdout.write(json.dumps({"client_id": client.client_id, "client_secret": secret}))
            return
        self.stdout.write(f"已登记接入系统“{client.name}”")
        self.stdout.write(f"client_id: {client.client_id}")
        self.stdout.write(f"client_secret: {secret}")
        self.stdout.write("客户端密钥只显示这一次，平台只保存其摘要。")
