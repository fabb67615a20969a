"""The gateway's error catalogue: every refusal a consumer system can receive, with a stable code, its HTTP status
and its message in Chinese and English. Codes never change meaning; a new refusal gets a new code. The catalogue
is served at /gateway/v1/errors and documented in the README, both from this one table."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ErrorKind:
    code: str
    status: int
    zh: str
    en: str
    # What the consumer's developers should do (the catalogue's third column).
    remedy_zh: str = ""


_KINDS = (
    ErrorKind(
        "INVALID_REQUEST", 400, "请求格式不正确：{detail}", "The request is malformed: {detail}", "按接口文档修正请求"
    ),
    ErrorKind(
        "SCENARIO_REQUIRED",
        400,
        "请在请求中注明应用场景（scenario，场景编号）：网关按接入系统、应用场景和信息资源选择共享授权",
        "Name the scenario (scenario, its number): the gateway chooses the grant by system, scenario and resource",
        "在请求体中加入 scenario",
    ),
    ErrorKind(
        "KEY_NOT_SUPPORTED",
        400,
        "不能按 {detail} 查询本资源；可用的查询键：{keys}",
        "This resource cannot be looked up by {detail}; its keys: {keys}",
        "改用资源支持的查询键",
    ),
    ErrorKind(
        "UNAUTHENTICATED",
        401,
        "缺少有效的访问令牌：请以接入系统的客户端凭证（client credentials）获取令牌，放在 Authorization: Bearer 头中",
        "A valid access token is required: obtain one with the system's client credentials and send it as "
        "Authorization: Bearer",
        "重新获取令牌；凭证被吊销或过期时请联系本部门管理员",
    ),
    ErrorKind(
        "HTTPS_REQUIRED",
        403,
        "生产环境只接受 HTTPS 调用",
        "Calls are accepted over HTTPS only",
        "改用 https:// 地址",
    ),
    ErrorKind(
        "ADDRESS_NOT_ALLOWED",
        403,
        "调用来源地址不在本接入系统登记的地址范围内",
        "The calling address is outside the addresses registered for this system",
        "从登记的地址调用，或请本部门管理员更新地址范围",
    ),
    ErrorKind(
        "NO_GRANT",
        404,
        "信息资源不存在，或本系统在该应用场景下没有有效的共享授权",
        "The resource does not exist, or this system holds no active grant for it under that scenario",
        "核对资源编号和场景编号；授权到期、被撤销或未复核时需重新申请",
    ),
    ErrorKind(
        "ITEM_NOT_GRANTED",
        403,
        "以下信息项不在共享授权范围内：{detail}",
        "These items are outside the grant: {detail}",
        "只请求授权的信息项，或申请扩大授权",
    ),
    ErrorKind("NOT_FOUND", 404, "没有这个接口：{detail}", "No such service: {detail}", "核对接口地址"),
    ErrorKind("METHOD_NOT_ALLOWED", 405, "该接口只接受 {detail} 请求", "This service accepts {detail} only", ""),
    ErrorKind(
        "CURSOR_EXPIRED",
        409,
        "数据已更新到新版本，翻页位置失效，请从第一页重新查询",
        "The data moved to a new version since the first page; start again from the first page",
        "去掉 after 重新查询",
    ),
    ErrorKind(
        "BODY_TOO_LARGE",
        413,
        "请求体超过 {detail} 字节的上限",
        "The request body exceeds the limit of {detail} bytes",
        "批量请求请使用数据比对服务",
    ),
    ErrorKind(
        "INVALID_BATCH_FILE",
        400,
        "比对文件不正确：{detail}",
        "The comparison file is not valid: {detail}",
        "按说明修正文件（表头为信息项名称，每行一个查询键）后重新提交",
    ),
    ErrorKind(
        "BATCH_NOT_FOUND",
        404,
        "没有这个比对批次：{detail}",
        "No such comparison batch: {detail}",
        "核对批次编号；批次只能由提交它的接入系统查看",
    ),
    ErrorKind(
        "BATCH_NOT_READY",
        409,
        "比对尚未完成（{detail}），请稍后再下载",
        "The comparison is not finished yet ({detail}); download it later",
        "查询批次状态，完成后再下载",
    ),
    ErrorKind(
        "BATCH_FAILED",
        409,
        "比对失败，没有结果文件：{detail}",
        "The comparison failed and has no result file: {detail}",
        "按错误说明修正后重新提交",
    ),
    ErrorKind(
        "BATCH_XLSX_TOO_LARGE",
        409,
        "结果超过 Excel 格式 {detail} 行的上限，请下载 CSV 格式",
        "The result exceeds the Excel limit of {detail} rows; download it as CSV",
        "去掉 format=xlsx",
    ),
    ErrorKind(
        "BATCH_EXPIRED",
        410,
        "比对结果已过保留期（保留至 {detail}），文件已删除",
        "The comparison result was kept until {detail} and has been deleted",
        "重新提交比对",
    ),
    ErrorKind(
        "BATCH_FILE_TOO_LARGE",
        413,
        "比对文件超过 {detail} 字节的上限",
        "The comparison file exceeds the limit of {detail} bytes",
        "拆分文件后分批提交",
    ),
    ErrorKind(
        "QUOTA_EXCEEDED",
        429,
        "共享授权今日的调用次数已达上限 {detail} 次，将于 {reset} 重置",
        "The grant's daily quota of {detail} calls is used up; it resets at {reset}",
        "次日再试，或请数据提供部门调整授权的调用上限",
    ),
    ErrorKind(
        "NOT_SERVABLE",
        503,
        "该资源的数据暂不能提供在线查询（尚未归集或正在建立查询索引），请稍后再试",
        "The resource's data cannot be looked up yet (not loaded, or its key index is being built); retry later",
        "稍后重试",
    ),
    ErrorKind(
        "NOT_PROXIED",
        404,
        "该资源没有登记提供部门的接口（或已停用），不能代理调用；请改用按键查询",
        "The resource has no provider API registered (or it is stopped); use lookup instead",
        "改用 lookup、verify 或 query",
    ),
    ErrorKind(
        "PROVIDER_UNAVAILABLE",
        502,
        "提供部门的接口没有给出可用的答复（连接失败、返回错误或格式不正确），未返回数据",
        "The provider's API gave no usable answer (connection failed, an error, or a malformed answer); no data",
        "稍后重试；持续出现请联系数据提供部门",
    ),
    ErrorKind(
        "PROVIDER_TIMEOUT",
        504,
        "提供部门的接口在 {detail} 秒内没有答复，未返回数据",
        "The provider's API did not answer within {detail} seconds; no data",
        "稍后重试；持续出现请联系数据提供部门",
    ),
    ErrorKind(
        "PROVIDER_CIRCUIT_OPEN",
        503,
        "提供部门的接口连续失败，网关暂停调用（熔断），请 {detail} 秒后再试",
        "The provider's API failed repeatedly; the gateway stopped calling it for now (circuit open): retry in "
        "{detail} seconds",
        "等待冷却时间后重试；持续出现请联系数据提供部门",
    ),
    ErrorKind(
        "INTERNAL",
        500,
        "网关内部错误，未返回数据；请将请求编号告知平台运维",
        "Internal gateway error, no data returned; quote the request id to the platform's operators",
        "记录请求编号并联系平台运维",
    ),
    ErrorKind(
        "UNAVAILABLE",
        503,
        "网关暂时无法记录本次调用，未返回数据，请稍后重试",
        "The gateway could not record this call and returned no data; retry later",
        "稍后重试；持续出现请联系平台运维",
    ),
)

ERRORS: dict[str, ErrorKind] = {kind.code: kind for kind in _KINDS}


class GatewayError(Exception):
    """A refusal from the catalogue, with the details its message names."""

    def __init__(self, code: str, **details: str) -> None:
        super().__init__(code)
        self.kind = ERRORS[code]
        self.details = details

    def message(self, language: str = "zh") -> str:
        template = self.kind.en if language == "en" else self.kind.zh
        return template.format_map(_Blank(self.details))


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""


def catalogue() -> list[dict[str, object]]:
    return [
        {"code": kind.code, "status": kind.status, "message": kind.zh, "message_en": kind.en, "remedy": kind.remedy_zh}
        for kind in _KINDS
    ]
