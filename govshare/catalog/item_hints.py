"""Suggestions shown next to an item while cataloguing: from its name, the sensitivity level it should have and how
its values are masked for other departments. They follow the masking rules (`govshare.core.masking`), so that the
suggestion says what the platform will do: an item named like personal data is masked only at L2 and L3, and an
item left at L1 goes out as it is. Only a suggestion: the cataloguer decides and the rules do not change."""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.utils.translation import gettext as _

from govshare.catalog.choices import LEVEL_STRICTNESS, DataLevel
from govshare.core.masking import MaskingPolicy, MaskRule, masking_policy

__all__ = ["ItemHint", "hint_for_item", "hints_for_script"]

# Identity and account numbers are 较敏感 (L3); the other personal data the masking rules know is 低敏感 (L2), the
# lowest level that is still masked.
_LEVEL_BY_RULE: dict[str, DataLevel] = {
    MaskRule.ID_NUMBER: DataLevel.L3,
    MaskRule.BANK_CARD: DataLevel.L3,
    MaskRule.MOBILE: DataLevel.L2,
    MaskRule.NAME: DataLevel.L2,
    MaskRule.ADDRESS: DataLevel.L2,
}


@dataclass(frozen=True)
class ItemHint:
    rule: str
    data_level: DataLevel
    text: str

    def is_looser(self, data_level: str) -> bool:
        """Whether a chosen level is below the suggested one (L1 leaves the values unmasked)."""
        chosen = LEVEL_STRICTNESS.get(DataLevel(data_level)) if data_level in DataLevel.values else None
        return chosen is not None and chosen < LEVEL_STRICTNESS[self.data_level]


def _masking_words(rule: str, policy: MaskingPolicy) -> str:
    first, last = policy.keep.get(rule, (0, 0))
    if rule == MaskRule.NAME:
        return _("只保留姓氏")
    if rule == MaskRule.ADDRESS:
        return _("只保留到区县")
    if first and last:
        return _("保留前 %(first)d 位和后 %(last)d 位") % {"first": first, "last": last}
    return _("只保留后 %(last)d 位") % {"last": last}


def _hint(rule: str, policy: MaskingPolicy) -> ItemHint:
    level = _LEVEL_BY_RULE[rule]
    text = _("建议敏感级别 %(level)s 或更高；向其他部门提供时脱敏，%(how)s（L1 不脱敏）") % {
        "level": level.value,
        "how": _masking_words(rule, policy),
    }
    return ItemHint(rule=rule, data_level=level, text=text)


def hint_for_item(name: str, policy: MaskingPolicy | None = None) -> ItemHint | None:
    """The suggestion for an item of this name, or None when its name says nothing about personal data. The first
    rule whose keyword the name contains wins, in the masking rules' order (联系人电话 is a phone)."""
    policy = policy or masking_policy()
    name = name.strip()
    if not name:
        return None
    for rule, words in policy.keywords:
        if rule in _LEVEL_BY_RULE and any(word in name for word in words):
            return _hint(rule, policy)
    return None


def hints_for_script(policy: MaskingPolicy | None = None) -> str:
    """The same suggestions as JSON for the form's static script ([{"words": [...], "text": ...}], in rule order),
    so that a row typed in the browser gets its suggestion before the page is sent."""
    policy = policy or masking_policy()
    rows = [
        {"words": list(words), "text": _hint(rule, policy).text, "level": _LEVEL_BY_RULE[rule].value}
        for rule, words in policy.keywords
        if rule in _LEVEL_BY_RULE
    ]
    return json.dumps(rows, ensure_ascii=False)
