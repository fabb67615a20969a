"""`govshare oidc_client`: register a relying party (the platform administrator's job, run by the operator).

A client-credentials client has no person behind it: its tokens act as nobody, so the platform API refuses them
until machine clients get their own subject. `--owner` (which used to make its tokens act as an account) is
refused with that explanation rather than silently ignored."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from oauth2_provider.models import Application

from govshare.core.errors import DomainError
from govshare.identity.services import ClientInput, register_client


class Command(BaseCommand):
    help = (
        "登记接入系统（OIDC 依赖方）：授权码方式需回调地址，令牌代表登录的本人；客户端凭证方式的令牌背后没有具体的人，"
        "不能以任何账号的身份调用平台 API。客户端密钥只显示一次。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True, help="接入系统名称，如“医保局业务系统”")
        parser.add_argument(
            "--redirect-uri", action="append", default=[], dest="redirect_uris", help="回调地址（可多次给出）"
        )
        parser.add_argument(
            "--client-credentials", action="store_true", help="客户端凭证方式（系统对接），而不是用户单点登录"
        )
        parser.add_argument("--owner", default="", help="已不再支持：客户端凭证方式的接入系统不代表任何账号")
        parser.add_argument("--json", action="store_true", help="以 JSON 输出 client_id 和 client_secret")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["owner"]:
            raise CommandError(
                "--owner 已不再支持：客户端凭证方式签发的令牌背后没有具体的人，不能以账号"
                f"“{options['owner']}”的身份调用平台 API（机器客户端将在后续版本获得自己的身份）。"
                "请去掉 --owner 后重新运行"
            )
        grant = (
            Application.GRANT_CLIENT_CREDENTIALS
            if options["client_credentials"]
            else Application.GRANT_AUTHORIZATION_CODE
        )
        data = ClientInput(name=options["name"], grant_type=grant, redirect_uris=options["redirect_uris"])
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
        if grant == Application.GRANT_CLIENT_CREDENTIALS:
            self.stdout.write("客户端凭证方式的令牌不代表任何人：在机器客户端获得自己的身份之前，平台 API 不接受它。")
