from django.db import models


class Service(models.TextChoices):
    LOOKUP = "lookup", "按键查询"
    VERIFY = "verify", "核验"
    QUERY = "query", "分页查询"
    BATCH_SUBMIT = "batch_submit", "提交数据比对"
    BATCH_RUN = "batch_run", "执行数据比对"
    BATCH_STATUS = "batch_status", "查询比对进度"
    BATCH_DOWNLOAD = "batch_download", "下载比对结果"
    CALL = "call", "代理调用提供部门接口"


class BatchStatus(models.TextChoices):
    """A batch comparison's course: queued at upload, running in a job, done (its result kept until it expires) or
    failed (with its error); expired once its files are deleted."""

    QUEUED = "queued", "排队中"
    RUNNING = "running", "比对中"
    DONE = "done", "已完成"
    FAILED = "failed", "失败"
    EXPIRED = "expired", "已过期"


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


class ProviderAuth(models.TextChoices):
    """How the gateway authenticates to a provider's own API."""

    NONE = "none", "无需认证"
    HEADER = "header", "请求头密钥"
    BASIC = "basic", "HTTP 基本认证"


class Breaker(models.TextChoices):
    """A provider service's circuit breaker, as one gateway process sees it."""

    CLOSED = "closed", "正常"
    OPEN = "open", "已熔断（冷却中）"
    HALF_OPEN = "half_open", "半开（放行一次试探调用）"


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
