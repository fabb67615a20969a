"""The demo city's people: one or more accounts per role, all with the documented demo password.

三员分立: the platform administrator, the security officer and the auditor are three different accounts.
"""

from __future__ import annotations

from dataclasses import dataclass

from govshare.accounts.choices import Role

DEMO_PASSWORD = "Demo-2026-govshare"  # noqa: S105 (documented in the README; demo accounts only)


@dataclass(frozen=True)
class DemoAccount:
    username: str
    full_name: str
    department_key: str  # a DemoDepartment key
    roles: tuple[str, ...]
    note: str  # what to try with the account


DEMO_ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount("admin", "周明远", "dsj", (Role.PLATFORM_ADMIN,), "审核发布目录、维护分类、后台 /admin/"),
    DemoAccount("gaj_admin", "李建华", "gaj", (Role.CATALOG_ADMIN,), "市公安局编目、导入、提交审核"),
    DemoAccount("scjg_admin", "王丽娟", "scjg", (Role.CATALOG_ADMIN,), "市市场监管局编目"),
    DemoAccount(
        "rsj_admin", "陈志强", "rsj", (Role.CATALOG_ADMIN, Role.CONSUMER), "市人社局编目，也作为使用方查找资源"
    ),
    DemoAccount("mzj_admin", "刘晓梅", "mzj", (Role.CATALOG_ADMIN,), "市民政局编目（婚姻登记信息有疑似重复）"),
    DemoAccount("jy_mzj_admin", "杨帆", "jy_mzj", (Role.CATALOG_ADMIN,), "旌阳区民政局编目（与市民政局重复的条目）"),
    DemoAccount("gaj_reviewer", "赵国庆", "gaj", (Role.DEPT_REVIEWER,), "审核对市公安局数据的共享申请、复核授权"),
    DemoAccount("mzj_reviewer", "孙婷", "mzj", (Role.DEPT_REVIEWER,), "审核对市民政局数据的共享申请、复核授权"),
    DemoAccount("ybj_user", "黄磊", "ybj", (Role.CONSUMER,), "市医保局使用方：检索、查看已发布目录"),
    DemoAccount("jy_gaj_user", "吴静", "jy_gaj", (Role.CONSUMER,), "旌阳区公安分局使用方"),
    DemoAccount("security", "郑海燕", "dsj", (Role.SECURITY_OFFICER,), "安全管理员（三员分立）"),
    DemoAccount("auditor", "何文博", "dsj", (Role.AUDITOR,), "审计员：查阅审计日志（三员分立）"),
    DemoAccount(
        "coordinator", "徐志远", "dsj", (Role.COORDINATOR,), "共享协调员（共享主管部门）：审核应用场景、裁决共享争议"
    ),
)
