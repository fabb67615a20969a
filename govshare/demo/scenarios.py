"""Demo information systems and application scenarios: the consumer departments' systems (等保 level, hosting,
credentials: one in its rotation overlap, one revoked, one system stopped, one never used, for the inventory) and
scenarios in every state — 市医保局's 医保参保人员身份核验 approved, one waiting for the coordinator, one rejected
with its reason, a draft, and 市人社局's one approved and one retired — through the real services (history, audit
rows and notifications as real use would leave them)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from govshare.accounts.models import Department, User
from govshare.identity import services as identity_services
from govshare.identity.choices import Hosting, ProtectionLevel
from govshare.identity.models import InformationSystem
from govshare.sharing import scenarios


@dataclass(frozen=True)
class DemoSystem:
    department_key: str
    code: str
    name: str
    purpose: str
    level: str
    hosting: str
    contact: tuple[str, str]
    credentials: int = 1


SYSTEMS = (
    DemoSystem(
        "ybj",
        "ybj-jbxt",
        "医保经办业务系统",
        "参保登记、待遇核定、异地就医备案等医保经办业务",
        ProtectionLevel.LEVEL_3,
        Hosting.GOV_CLOUD,
        ("张伟", "0838-2501234"),
        2,
    ),
    DemoSystem(
        "ybj",
        "ybj-ydfw",
        "医保移动服务平台",
        "群众在手机上办理医保业务的前端",
        ProtectionLevel.LEVEL_2,
        Hosting.SELF_HOSTED,
        ("李娜", "13908101234"),
    ),
    DemoSystem(
        "rsj",
        "rsj-sbjb",
        "社会保险经办系统",
        "养老、工伤、失业保险的参保和待遇发放",
        ProtectionLevel.LEVEL_3,
        Hosting.GOV_CLOUD,
        ("王强", "0838-2205678"),
    ),
    DemoSystem(
        "rsj",
        "rsj-jydj",
        "就业登记系统（旧版）",
        "就业失业登记，已由省集中系统取代",
        ProtectionLevel.UNRATED,
        Hosting.SELF_HOSTED,
        ("赵敏", "13990201234"),
        0,
    ),
    DemoSystem(
        "mzj",
        "mzj-jzxt",
        "社会救助信息系统",
        "低保、特困等救助对象的认定和动态管理",
        ProtectionLevel.LEVEL_2,
        Hosting.GOV_CLOUD,
        ("刘洋", "0838-2309876"),
    ),
)

STOPPED = {"rsj-jydj": "已由四川省就业信息系统取代，停止使用"}
REVOKED = {"mzj-jzxt"}  # its only credential was revoked (a leaked secret, say): the system has none working


@dataclass(frozen=True)
class DemoScenario:
    department_key: str
    author: str  # demo account
    name: str
    description: str
    legal_basis: str
    systems: tuple[str, ...]
    items: tuple[str, ...]
    state: str  # draft / submitted / approved / rejected / retired
    reason: str = ""


SCENARIOS = (
    DemoScenario(
        "ybj",
        "ybj_user",
        "医保参保人员身份核验",
        "办理城乡居民医保参保登记时，核验参保人员的公民身份号码、姓名和户籍信息，群众不再提交户口簿复印件。",
        "《中华人民共和国社会保险法》第五十八条；《政务数据共享条例》第十三条；国家医保局《医疗保障经办政务服务事项清单》",
        ("ybj-jbxt", "ybj-ydfw"),
        ("公民身份号码", "姓名", "性别", "出生日期", "户籍地址"),
        "approved",
        "依据明确，所需信息项与参保登记业务相符。",
    ),
    DemoScenario(
        "ybj",
        "ybj_user",
        "异地就医备案人员户籍核验",
        "参保人员申请异地长期居住就医备案时，核验其户籍所在地和居住证信息。",
        "国家医保局 财政部《关于进一步做好基本医疗保险跨省异地就医直接结算工作的通知》（医保发〔2022〕22号）",
        ("ybj-jbxt",),
        ("公民身份号码", "姓名", "户籍地址", "居住证号码"),
        "submitted",
    ),
    DemoScenario(
        "ybj",
        "ybj_user",
        "医疗救助对象身份认定",
        "认定医疗救助对象时核对其低保、特困身份。",
        "相关文件",
        ("ybj-jbxt",),
        ("公民身份号码", "姓名", "救助类别"),
        "rejected",
        "依据只写了“相关文件”：请写明文件名称、文号和条款（如《社会救助暂行办法》第二十八条），并说明为何需要救助类别。",
    ),
    DemoScenario(
        "ybj",
        "ybj_user",
        "生育津贴发放婚姻状况核验",
        "发放生育津贴前核验申领人的婚姻登记状况。",
        "",
        ("ybj-jbxt",),
        ("公民身份号码", "婚姻状况"),
        "draft",
    ),
    DemoScenario(
        "rsj",
        "rsj_admin",
        "社会保险待遇领取资格认证",
        "每年对养老保险待遇领取人员进行资格认证，比对死亡、服刑等信息，防止冒领。",
        "《人力资源社会保障部关于全面取消社会保险待遇领取资格集中认证的通知》（人社厅发〔2018〕107号）",
        ("rsj-sbjb",),
        ("公民身份号码", "姓名", "死亡日期"),
        "approved",
    ),
    DemoScenario(
        "rsj",
        "rsj_admin",
        "灵活就业人员参保登记核验",
        "灵活就业人员参加职工养老保险时核验身份和就业登记。",
        "《四川省灵活就业人员参加基本养老保险办法》",
        ("rsj-sbjb",),
        ("公民身份号码", "姓名", "就业登记状态"),
        "retired",
        "业务已并入省集中经办系统，本地不再办理。",
    ),
)


def _systems(departments: dict[str, Department], users: dict[str, User], admin: User) -> dict[str, InformationSystem]:
    made: dict[str, InformationSystem] = {}
    for demo in SYSTEMS:
        department = departments.get(demo.department_key)
        if department is None:
            continue  # a reduced demo without this department
        # The department's catalogue administrator registers it; the big-data bureau does for a department without
        # one in the demo (市医保局).
        actor = next(
            (u for u in users.values() if u.department_id == department.pk and u.has_role("catalog_admin")), admin
        )
        system = identity_services.register_information_system(
            identity_services.SystemInput(
                code=demo.code,
                name=demo.name,
                department=department,
                purpose=demo.purpose,
                contact_name=demo.contact[0],
                contact_phone=demo.contact[1],
                protection_level=demo.level,
                hosting=demo.hosting,
            ),
            actor=actor,
        )
        issued = [identity_services.issue_system_credential(system, actor=actor)[0] for _ in range(demo.credentials)]
        if len(issued) > 1:
            # The first credential is being rotated out: both work for a week.
            identity_services.revoke_system_credential(issued[1], actor=actor)
            identity_services.rotate_system_credential(issued[0], actor=actor, overlap=dt.timedelta(days=7))
        if demo.code in REVOKED:
            identity_services.revoke_system_credential(issued[0], actor=actor)
        made[demo.code] = system
    return made


def _scenarios(
    departments: dict[str, Department], users: dict[str, User], systems: dict[str, InformationSystem]
) -> int:
    coordinator = users.get("coordinator")
    made = 0
    for demo in SCENARIOS:
        department, author = departments.get(demo.department_key), users.get(demo.author)
        if department is None or author is None or coordinator is None:
            continue
        scenario = scenarios.register_scenario(
            scenarios.ScenarioInput(
                department=department,
                name=demo.name,
                description=demo.description,
                legal_basis=demo.legal_basis,
                system_ids=[systems[code].pk for code in demo.systems if code in systems],
                needed_items=list(demo.items),
            ),
            actor=author,
        )
        made += 1
        if demo.state == "draft":
            continue
        scenarios.submit_scenario(scenario, actor=author)
        if demo.state == "rejected":
            scenarios.reject_scenario(scenario, actor=coordinator, reason=demo.reason)
        elif demo.state in ("approved", "retired"):
            note = demo.reason if demo.state == "approved" else ""
            scenarios.approve_scenario(scenario, actor=coordinator, note=note)
            if demo.state == "retired":
                scenarios.retire_scenario(scenario, actor=author, reason=demo.reason)
    return made


def load_demo_scenarios(departments: dict[str, Department], users: dict[str, User], admin: User) -> tuple[int, int]:
    """Write the demo's systems and scenarios (inside the demo's transaction); (systems, scenarios) made."""
    systems = _systems(departments, users, admin)
    for code, reason in STOPPED.items():
        if code in systems:
            identity_services.deactivate_information_system(systems[code], actor=admin, reason=reason)
    return len(systems), _scenarios(departments, users, systems)
