"""`govshare load_demo_data`: load the demo city (德阳市) once; a second run says so and changes nothing."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from govshare.catalog.choices import ReviewStatus
from govshare.core.errors import DomainError
from govshare.demo.datasets import load_demo_datasets
from govshare.demo.gateway import load_demo_sandbox
from govshare.demo.generator import DEFAULT_RESOURCES, STATES, capacity, demo_departments
from govshare.demo.grants import load_demo_grants
from govshare.demo.loader import DemoAlreadyLoaded, load_demo
from govshare.demo.share_requests import load_demo_requests
from govshare.demo.sharing_lists import load_demo_lists

_STATE_LABELS = {**dict(ReviewStatus.choices), "rejected": "驳回（退回草稿）"}


class Command(BaseCommand):
    help = "装入演示城市（德阳市）的部门、账号和政务信息资源目录；已装入时不做任何改动。"

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--resources", type=int, default=DEFAULT_RESOURCES, help=f"目录条数（默认 {DEFAULT_RESOURCES}）"
        )
        parser.add_argument("--departments", type=int, default=None, help="只装入前 N 个部门（默认全部）")

    def handle(self, *args: Any, **options: Any) -> None:
        count: int = options["resources"]
        limit: int | None = options["departments"]
        everything = len(demo_departments())
        if limit is not None and not 1 <= limit <= everything:
            raise CommandError(f"--departments 应在 1 到 {everything} 之间")
        most = capacity(demo_departments(limit))
        if not 1 <= count <= most:
            raise CommandError(f"--resources 应在 1 到 {most} 之间（所选部门最多可生成 {most} 条目录）")
        try:
            summary = load_demo(resources=count, departments=limit, progress=self.stdout.write)
        except DemoAlreadyLoaded:
            self.stdout.write("演示数据已装入，未做任何改动。(demo data already loaded; nothing changed)")
            return
        except DomainError as exc:
            raise CommandError(
                f"未装入演示数据（没有做任何改动）：{exc}。演示数据用于空白平台，请换一个空数据库。"
            ) from exc
        self.stdout.write("归集演示数据集（文件报送）…")
        loads = load_demo_datasets(self.stdout.write)
        self.stdout.write("登记共享清单（需求、责任）…")
        made_demands, made_duties = load_demo_lists(self.stdout.write)
        self.stdout.write("共享授权（有效、已撤销、逾期未复核）…")
        granted = load_demo_grants(self.stdout.write)
        self.stdout.write("共享申请（申请车、审核中、逾期、同意、拒绝、异议、仲裁）…")
        applied = load_demo_requests(self.stdout.write)
        self.stdout.write("数据共享网关联调沙箱…")
        load_demo_sandbox(self.stdout.write)
        states = "，".join(f"{_STATE_LABELS[s]} {summary.entries[s]}" for s in STATES)
        self.stdout.write(
            self.style.SUCCESS(
                f"演示数据已装入（{summary.seconds:.1f} 秒）：{summary.departments} 个部门，{summary.accounts} 个账号，"
                f"{sum(summary.entries.values())} 条目录（{states}），新增分类 {summary.categories} 个，"
                f"疑似重复 {summary.duplicate_pairs} 对，逾期未维护部门 {summary.overdue_departments} 个，"
                f"演示归集 {loads} 次，共享需求 {made_demands} 条、共享责任 {made_duties} 条，共享授权 {granted} 项，"
                f"共享申请 {applied} 件。"
            )
        )
