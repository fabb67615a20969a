"""The demo city's sharing lists: demands in every state (open, answered with a resource, waiting to be catalogued,
closed), duties met and unmet, all made through the services (audit rows included). The negative list needs no rows
of its own: it is the catalogue's published 不予共享 entries the demo already has.

Idempotent: a demand or duty that exists (by its department and name) is left as it is, so loading twice adds
nothing; an account or department missing from a reduced demo (--departments) skips what needs it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction

from govshare.accounts.models import User
from govshare.catalog.choices import ReviewStatus
from govshare.catalog.models import Resource
from govshare.sharing import demands, duties
from govshare.sharing.models import Demand, Duty, Scenario


@dataclass(frozen=True)
class _DemoDemand:
    username: str  # who registers it
    title: str
    description: str
    items: tuple[str, ...]
    provider: str = ""  # the username of an account of the provider department ("" for none)
    outcome: str = "open"  # open / answered / catalogue / closed
    # Words of the provider's published entry that answers it (outcome "answered").
    answer_with: tuple[str, ...] = ()


DEMANDS = (
    _DemoDemand(
        "ybj_user",
        "参保人员户籍信息核验",
        "医保参保登记和异地就医备案时核验参保人的户籍信息，减少群众提交户口簿复印件。",
        ("公民身份号码", "姓名", "户籍地址"),
        provider="gaj_admin",
    ),
    _DemoDemand(
        "rsj_admin",
        "企业登记信息共享",
        "办理单位社保登记时核验企业的登记状态和法定代表人，实现“企业开办一件事”。",
        ("统一社会信用代码", "企业名称", "法定代表人"),
        provider="scjg_admin",
        outcome="answered",
        answer_with=("企业", "登记"),
    ),
    _DemoDemand(
        "jy_gaj_user",
        "最低生活保障对象名单",
        "辖区治安巡防和困难群众走访需要掌握低保对象的基本信息。",
        ("姓名", "公民身份号码", "保障类别"),
        provider="mzj_admin",
        outcome="catalogue",
    ),
    _DemoDemand(
        "ybj_user",
        "不动产登记信息",
        "医疗救助申请的家庭经济状况核对需要不动产登记信息，尚不清楚由哪个部门提供。",
        ("权利人", "不动产单元号", "建筑面积"),
    ),
    _DemoDemand(
        "rsj_admin",
        "死亡人员信息",
        "停发养老金需要及时掌握参保人员死亡信息。",
        ("公民身份号码", "姓名", "死亡日期"),
        provider="gaj_admin",
        outcome="closed",
    ),
)


@dataclass(frozen=True)
class _DemoDuty:
    username: str  # an account of the responsible department
    name: str
    legal_basis: str
    description: str = ""
    met_by: tuple[str, ...] = ()  # words of the department's published entry that fulfils it


DUTIES = (
    _DemoDuty(
        "gaj_admin",
        "人口基础信息",
        "《中华人民共和国户口登记条例》；《国务院关于加强数字政府建设的指导意见》（国发〔2022〕14号）",
        "全市户籍人口和常住人口的基础信息，作为人口基础库的数据来源。",
        met_by=("人口",),
    ),
    _DemoDuty("gaj_admin", "出入境证件信息", "《中华人民共和国出境入境管理法》", "普通护照、往来港澳通行证签发信息。"),
    _DemoDuty(
        "scjg_admin",
        "市场主体登记信息",
        "《中华人民共和国市场主体登记管理条例》第三十五条",
        "企业、个体工商户登记、变更和注销信息，作为法人基础库的数据来源。",
        met_by=("企业", "登记"),
    ),
    _DemoDuty("mzj_admin", "婚姻登记信息", "《婚姻登记条例》", met_by=("婚姻",)),
    _DemoDuty("mzj_admin", "社会救助对象信息", "《社会救助暂行办法》", "最低生活保障、特困人员供养对象信息。"),
    _DemoDuty("rsj_admin", "社会保险参保信息", "《中华人民共和国社会保险法》第七十五条"),
)


def _user(username: str) -> User | None:
    return User.objects.filter(username=username).select_related("department").first()


def _published(department_id: int, words: tuple[str, ...]) -> Resource | None:
    entries = Resource.objects.filter(department_id=department_id, status=ReviewStatus.PUBLISHED).order_by("code")
    for word in words:
        entries = entries.filter(name__contains=word) if entries.filter(name__contains=word).exists() else entries
    return entries.first()


def _demand(spec: _DemoDemand, coordinator: User | None) -> bool:
    author = _user(spec.username)
    provider = _user(spec.provider) if spec.provider else None
    if author is None or author.department_id is None or (spec.provider and provider is None):
        return False
    if Demand.objects.filter(department_id=author.department_id, title=spec.title).exists():
        return False
    scenario = Scenario.objects.filter(department_id=author.department_id).order_by("pk").first()
    demand = demands.create_demand(
        demands.DemandInput(
            title=spec.title,
            description=spec.description,
            needed_items=list(spec.items),
            provider_code=provider.department.code if provider is not None and provider.department else "",
            scenario_id=scenario.pk if scenario is not None else None,
        ),
        actor=author,
    )
    if spec.outcome == "answered" and provider is not None and provider.department_id is not None:
        resource = _published(provider.department_id, spec.answer_with)
        if resource is not None:
            note = "该资源为有条件共享，请在资源页面申请共享并说明应用场景。"
            demands.answer_demand(demand, resource=resource, note=note, actor=provider)
    elif spec.outcome == "catalogue" and coordinator is not None:
        note = "目录中尚无该资源，请于 30 日内编目并发布。"
        demands.ask_to_catalogue(demand, note=note, actor=coordinator)
    elif spec.outcome == "closed":
        demands.close_demand(demand, reason="已通过线下数据交换解决", actor=author)
    return True


def _duty(spec: _DemoDuty, coordinator: User) -> bool:
    holder = _user(spec.username)
    if holder is None or holder.department is None:
        return False
    if Duty.objects.filter(department=holder.department, name=spec.name).exists():
        return False
    resource = _published(holder.department.pk, spec.met_by) if spec.met_by else None
    duties.create_duty(
        duties.DutyInput(
            department_code=holder.department.code,
            name=spec.name,
            legal_basis=spec.legal_basis,
            description=spec.description,
            resource_code=resource.code if resource is not None else "",
        ),
        actor=coordinator,
    )
    return True


def load_demo_lists(say: Callable[[str], None]) -> tuple[int, int]:
    """Create the demo demands and duties that are not there yet; returns how many of each were created."""
    coordinator = _user("coordinator") or _user("admin")
    if coordinator is None:
        return 0, 0
    with transaction.atomic():
        made_demands = sum(_demand(spec, coordinator) for spec in DEMANDS)
        made_duties = sum(_duty(spec, coordinator) for spec in DUTIES)
    say(f"  共享清单：需求 {made_demands} 条，责任 {made_duties} 条")
    return made_demands, made_duties
