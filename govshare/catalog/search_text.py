"""Chinese word segmentation for the catalogue's full-text index (jieba, search mode)."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from functools import lru_cache

import jieba

jieba.setLogLevel(logging.WARNING)

_SPLIT = re.compile(r"[^\w]+", re.UNICODE)


@lru_cache(maxsize=1)
def _initialised() -> bool:
    jieba.initialize()
    return True


def segment(text: str) -> list[str]:
    """Lower-cased search tokens of `text`: jieba's search-mode words, punctuation dropped."""
    _initialised()
    tokens: list[str] = []
    for word in jieba.cut_for_search(text, HMM=False):
        word = word.strip().lower()
        if word and not _SPLIT.fullmatch(word):
            tokens.extend(part for part in _SPLIT.split(word) if part)
    return tokens


def document_tokens(name: str, summary: str, item_names: Iterable[str]) -> str:
    """The space-separated token string indexed for one resource."""
    return " ".join(segment(" ".join([name, summary, *item_names])))
