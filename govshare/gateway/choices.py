from django.db import models


class Service(models.TextChoices):
    LOOKUP = "lookup", "按键查询"
    VERIFY = "verify", "核验"
    QUERY = "query", "分页查询"


class Verdict(models.TextChoices):
    """A verification's answer per item (never the value)."""

    MATCH = "match", "一致"
    MISMATCH = "mismatch", "不一致"
    NO_RECORD = "no_record", "无记录"


class AlertKind(models.TextChoices):
    """Unusual use of the gateway by a system, which the security officer is told of."""

    RATE = "rate", "调用量远超平常"
    KEYS = "keys", "查询键过多"
    OFF_HOURS = "off_hours", "非工作时间调用"
    REFUSALS = "refusals", "反复被拒绝"


class DeliveryKind(models.TextChoices):
    """How a delivery hands the granted extract over (the grant's 交付方式)."""

    TABLE = "table", "库表对接"
    FILE = "file", "文件传输"


class DeliverySchedule(models.TextChoices):
    """When a delivery runs: by the resource's update cycle, at a fixed interval, or only when asked."""

    UPDATE_CYCLE = "update_cycle", "按资源更新周期"
    HOURLY = "hourly", "每小时"
    DAILY = "daily", "每日"
    WEEKLY = "weekly", "每周"
    MONTHLY = "monthly", "每月"
    MANUAL = "manual", "仅手动执行"


class DeliveryStatus(models.TextChoices):
    ACTIVE = "active", "运行中"
    STOPPED = "stopped", "已停止"


class RunStatus(models.TextChoices):
    RUNNING = "running", "执行中"
    SUCCEEDED = "succeeded", "成功"
    FAILED = "failed", "失败"
    REFUSED = "refused", "已拒绝"


class RunMode(models.TextChoices):
    FULL = "full", "全量"
    INCREMENTAL = "incremental", "增量"
