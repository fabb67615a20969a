"""A grant's API documentation, generated from the grant itself: the endpoints, the keys its resource can be
looked up by, request and response examples built from the granted items, and copy-paste examples in curl and
Python (requests) for the token, a lookup and a verification (and in curl a batch comparison).

Every value in an example is a placeholder naming the item (`<姓名>`), never data: the documentation is the same
whatever the resource holds.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from govshare.core.masking import MaskRule

TOKEN_PATH = "/o/token/"  # noqa: S105 - a path, not a secret
SERVICE_PATH = "/gateway/v1/resources/{resource}/{service}"
ERRORS_PATH = "/gateway/v1/errors"

RULE_LABELS: dict[str, Any] = {
    MaskRule.ID_NUMBER: gettext_lazy("证件号（保留前 6 后 4 位）"),
    MaskRule.MOBILE: gettext_lazy("手机号（保留前 3 后 4 位）"),
    MaskRule.NAME: gettext_lazy("姓名（保留姓）"),
    MaskRule.ADDRESS: gettext_lazy("地址（保留到区县）"),
    MaskRule.BANK_CARD: gettext_lazy("银行卡号（保留后 4 位）"),
    MaskRule.TEXT: gettext_lazy("文本（保留首尾字）"),
    MaskRule.WITHHOLD: gettext_lazy("不提供"),
}


@dataclass(frozen=True)
class ApiDocs:
    token_url: str
    lookup_url: str
    verify_url: str
    errors_url: str
    keys: list[tuple[str, ...]]  # the lookup keys within the grant's items
    lookup_request: str
    lookup_response: str
    verify_request: str
    verify_response: str
    curl: str
    python: str


def placeholder(item: str) -> str:
    return f"<{item}>"


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2)


def _masked_placeholder(item: str, rule: str | None) -> str | None:
    if rule == MaskRule.WITHHOLD:
        return None
    if rule is None:
        return placeholder(item)
    return "<" + _("%(item)s（脱敏：%(rule)s）") % {"item": item, "rule": RULE_LABELS.get(rule, rule)} + ">"


def build_docs(
    *,
    base_url: str,
    resource_id: int,
    scenario_id: int,
    grant_id: int,
    items: list[str],
    masking: dict[str, str],
    keys: list[tuple[str, ...]],
) -> ApiDocs:
    """The documentation of one grant. `base_url`: the site as the reader reached it (scheme and host); `items`: the
    granted items in the grant's order; `masking`: the rule each item is read with; `keys`: the lookup keys within
    the items (the first one is used in the examples; without any, the first granted item stands in)."""
    base = base_url.rstrip("/")
    token_url = base + TOKEN_PATH
    lookup_url = base + SERVICE_PATH.format(resource=resource_id, service="lookup")
    verify_url = base + SERVICE_PATH.format(resource=resource_id, service="verify")
    batch_url = base + SERVICE_PATH.format(resource=resource_id, service="batches")
    key_items = keys[0] if keys else tuple(items[:1])
    key = {name: placeholder(name) for name in key_items}
    asked = [name for name in items if name not in key_items] or list(items)
    lookup_body = {"scenario": scenario_id, "key": key, "items": asked}
    row = {name: _masked_placeholder(name, masking.get(name)) for name in asked}
    lookup_answer = {
        "request_id": "<" + _("请求编号") + ">",
        "resource": resource_id,
        "scenario": scenario_id,
        "grant": grant_id,
        "version": "<" + _("数据版本") + ">",
        "count": 1,
        "truncated": False,
        "rows": [row],
    }
    claimed = [name for name in items if name not in key_items][:2] or list(key_items)
    verify_body = {"scenario": scenario_id, "key": key, "values": {name: placeholder(name) for name in claimed}}
    verify_answer = {
        "request_id": "<" + _("请求编号") + ">",
        "resource": resource_id,
        "scenario": scenario_id,
        "grant": grant_id,
        "version": "<" + _("数据版本") + ">",
        "result": "match",
        "items": dict.fromkeys(claimed, "match"),
    }
    lookup_json = json.dumps(lookup_body, ensure_ascii=False)
    verify_json = json.dumps(verify_body, ensure_ascii=False)
    curl = "\n".join(
        [
            "# " + _("1. 以接入系统的客户端凭证获取访问令牌"),
            f"curl -s -X POST '{token_url}' \\",
            "  -d grant_type=client_credentials \\",
            '  -d client_id="$CLIENT_ID" \\',
            '  -d client_secret="$CLIENT_SECRET"',
            "# " + _("答复中的 access_token 记为 TOKEN"),
            "",
            "# " + _("2. 按键查询"),
            f"curl -s -X POST '{lookup_url}' \\",
            '  -H "Authorization: Bearer $TOKEN" \\',
            "  -H 'Content-Type: application/json' \\",
            f"  -d '{lookup_json}'",
            "",
            "# " + _("3. 核验"),
            f"curl -s -X POST '{verify_url}' \\",
            '  -H "Authorization: Bearer $TOKEN" \\',
            "  -H 'Content-Type: application/json' \\",
            f"  -d '{verify_json}'",
            "",
            "# " + _("4. 数据比对：请求体为 CSV 文件本身（首行为信息项名称），答复中的 batch 为批次编号"),
            f"curl -s -X POST '{batch_url}?scenario={scenario_id}' \\",
            '  -H "Authorization: Bearer $TOKEN" \\',
            "  -H 'Content-Type: text/csv' --data-binary @keys.csv",
            "# " + _("查询进度；完成后下载结果"),
            f"curl -s '{base}/gateway/v1/batches/$BATCH' -H \"Authorization: Bearer $TOKEN\"",
            f"curl -s -o result.csv '{base}/gateway/v1/batches/$BATCH/result' -H \"Authorization: Bearer $TOKEN\"",
        ]
    )
    python = "\n".join(
        [
            "import os",
            "",
            "import requests",
            "",
            "# " + _("1. 以接入系统的客户端凭证获取访问令牌"),
            "token = requests.post(",
            f"    {token_url!r},",
            "    data={",
            '        "grant_type": "client_credentials",',
            '        "client_id": os.environ["CLIENT_ID"],',
            '        "client_secret": os.environ["CLIENT_SECRET"],',
            "    },",
            "    timeout=10,",
            ').json()["access_token"]',
            'headers = {"Authorization": f"Bearer {token}"}',
            "",
            "# " + _("2. 按键查询"),
            f"answer = requests.post({lookup_url!r}, json={_python(lookup_body)}, headers=headers, timeout=10)",
            "answer.raise_for_status()",
            'rows = answer.json()["rows"]',
            "",
            "# " + _("3. 核验"),
            f"answer = requests.post({verify_url!r}, json={_python(verify_body)}, headers=headers, timeout=10)",
            "answer.raise_for_status()",
            'result = answer.json()["result"]  # ' + _("match、mismatch 或 no_record"),
        ]
    )
    return ApiDocs(
        token_url=token_url,
        lookup_url=lookup_url,
        verify_url=verify_url,
        errors_url=base + ERRORS_PATH,
        keys=list(keys),
        lookup_request=_json(lookup_body),
        lookup_response=_json(lookup_answer),
        verify_request=_json(verify_body),
        verify_response=_json(verify_answer),
        curl=curl,
        python=python,
    )


@dataclass(frozen=True)
class ProxiedDocs:
    """How to call a resource served by its provider's own API (`POST .../call`), one operation per key."""

    call_url: str
    operations: list[tuple[str, tuple[str, ...]]]  # (name, key items), within the grant's items
    request: str
    response: str
    curl: str
    python: str


def build_proxied_docs(
    *,
    base_url: str,
    resource_id: int,
    scenario_id: int,
    grant_id: int,
    items: list[str],
    masking: dict[str, str],
    operations: list[tuple[str, tuple[str, ...]]],
) -> ProxiedDocs:
    """The documentation of a proxied call under one grant: `operations` are the provider's (name, key items); those
    whose key is outside `items` cannot be called under the grant and are left out."""
    base = base_url.rstrip("/")
    call_url = base + SERVICE_PATH.format(resource=resource_id, service="call")
    usable = [(name, key) for name, key in operations if set(key) <= set(items)]
    name, key_items = usable[0] if usable else ("<" + _("操作名称") + ">", tuple(items[:1]))
    body: dict[str, Any] = {"scenario": scenario_id, "operation": name, "key": {k: placeholder(k) for k in key_items}}
    asked = [item for item in items if item not in key_items] or list(items)
    body["items"] = asked
    answer = {
        "request_id": "<" + _("请求编号") + ">",
        "resource": resource_id,
        "scenario": scenario_id,
        "grant": grant_id,
        "operation": name,
        "count": 1,
        "truncated": False,
        "rows": [{item: _masked_placeholder(item, masking.get(item)) for item in asked}],
    }
    body_json = json.dumps(body, ensure_ascii=False)
    curl = "\n".join(
        [
            "# " + _("以访问令牌代理调用提供部门的接口（令牌的获取见上）"),
            f"curl -s -X POST '{call_url}' \\",
            '  -H "Authorization: Bearer $TOKEN" \\',
            "  -H 'Content-Type: application/json' \\",
            f"  -d '{body_json}'",
        ]
    )
    python = "\n".join(
        [
            "# " + _("以访问令牌代理调用提供部门的接口（令牌的获取见上）"),
            f"answer = requests.post({call_url!r}, json={_python(body)}, headers=headers, timeout=35)",
            "# " + _("502、503、504：提供部门的接口不可用、熔断或超时，稍后重试"),
            "answer.raise_for_status()",
            'rows = answer.json()["rows"]',
        ]
    )
    return ProxiedDocs(
        call_url=call_url,
        operations=usable,
        request=_json(body),
        response=_json(answer),
        curl=curl,
        python=python,
    )


def _python(value: Any) -> str:
    """A literal Python reads as the same value (JSON's false/null spelled the Python way)."""
    return repr(value)


__all__ = ["RULE_LABELS", "ApiDocs", "ProxiedDocs", "build_docs", "build_proxied_docs", "placeholder"]
