"""Reviewing many entries of the queue at once: batch 发布 and batch 驳回 (one reason for all).

Each entry goes through the workflow table exactly as a single publish or reject does (services.take_action_many:
the reviewer check, the state guard under a row lock, a version and an audit row per entry), all or none. An id
outside the reviewer's queue refuses the whole batch, naming the ids refused: nothing is done silently for part
of a selection.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import transaction
from django.utils.translation import gettext, gettext_noop

from govshare.accounts.models import User
from govshare.catalog import access, selectors, services
from govshare.catalog.choices import VersionAction
from govshare.catalog.models import Resource
from govshare.core.errors import Conflict, FieldProblem, NotFound, ValidationFailed
from govshare.core.text import join_names

BATCH_ACTIONS = (VersionAction.PUBLISH.value, VersionAction.REJECT.value)
# More than a page of the queue at its largest size; a crafted request cannot make one lock thousands of rows.
MAX_BATCH = 500
NOTHING_SELECTED = gettext_noop("请先勾选要审核的资源")


def parse_ids(values: Iterable[str]) -> list[int]:
    """The resource ids of a posted selection, each once, in order; anything else is refused in words."""
    ids: list[int] = []
    bad: list[str] = []
    for value in values:
        text = str(value).strip()
        if text.isascii() and text.isdigit() and 0 < int(text) < 2**63:
            ids.append(int(text))
        else:
            bad.append(text[:20])
    if bad:
        message = gettext("资源编号应为正整数，收到：%(values)s") % {"values": join_names(bad[:5])}
        raise ValidationFailed([FieldProblem("ids", message)])
    ids = list(dict.fromkeys(ids))
    if len(ids) > MAX_BATCH:
        message = gettext("一次最多审核 %(max)d 条资源，本次选择了 %(n)d 条") % {"max": MAX_BATCH, "n": len(ids)}
        raise ValidationFailed([FieldProblem("ids", message)])
    return ids


def check_action(action: str) -> str:
    if action not in BATCH_ACTIONS:
        message = gettext_noop("批量审核的操作应为 publish（发布）或 reject（驳回）")
        raise ValidationFailed([FieldProblem("action", message)])
    return action


def refused_message(refused: Sequence[int]) -> str:
    shown = join_names(str(pk) for pk in refused[:20])
    if len(refused) > 20:
        message = gettext(
            "以下资源不在您的审核队列中（不存在、不是待审核状态或无权审核），本次未做任何操作：%(ids)s 等 %(n)d 条"
        )
        return message % {"ids": shown, "n": len(refused)}
    message = gettext("以下资源不在您的审核队列中（不存在、不是待审核状态或无权审核），本次未做任何操作：%(ids)s")
    return message % {"ids": shown}


@transaction.atomic
def review_many(action: str, ids: Sequence[int], *, actor: User, reason: str = "") -> list[Resource]:
    """Publish or reject (one reason for all) the entries `ids` of the actor's review queue, all or none."""
    if not access.can_review(actor):
        # The review queue exists for the reviewer only (the page answers others 404 too).
        raise NotFound(gettext_noop("页面不存在"))
    check_action(action)
    if not ids:
        raise ValidationFailed([FieldProblem("ids", NOTHING_SELECTED)])
    entries, refused = selectors.review_selection(actor, ids)
    if refused:
        raise Conflict(refused_message(refused))
    return services.take_action_many(action, entries, actor=actor, reason=reason)
