"""Chinese word segmentation for the catalogue's full-text index (jieba, search mode).

Documents are indexed with jieba's search-mode words plus every distinct CJK character, so that a one-character
query (税, 房) finds the words that contain it. Queries are segmented with the same dictionary: each word of the
precise segmentation becomes a required token, or, when the word's dictionary sub-words cover it entirely
(公积金 → 公积 积金), those sub-words, so that a document segmented slightly differently around the word is still
found. Every token contains word characters only: no user input reaches the index's query language unquoted.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import re
import threading
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import jieba

jieba.setLogLevel(logging.WARNING)

_SPLIT = re.compile(r"[^\w]+", re.UNICODE)
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")

# Longest query considered (characters) and most tokens required: longer input is cut, never refused.
MAX_QUERY_CHARS = 200
MAX_QUERY_TOKENS = 24


# Government words kept whole (公民身份号码, 住房公积金): jieba user words, added once with the dictionary.
DOMAIN_WORDS = Path(__file__).resolve().parent / "data" / "domain_words.txt"


def domain_words() -> list[str]:
    lines = DOMAIN_WORDS.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


@lru_cache(maxsize=1)
def _initialised() -> bool:
    jieba.initialize()
    for word in domain_words():
        jieba.add_word(word)
    return True


def load_dictionary() -> None:
    """Load jieba's dictionary now (about 0.6 s) rather than on the first search or import: the web server
    calls this when it starts (govshare/wsgi.py)."""
    _initialised()


def _parts(word: str) -> list[str]:
    word = word.strip().lower()
    if not word or _SPLIT.fullmatch(word):
        return []
    return [part for part in _SPLIT.split(word) if part]


def segment(text: str) -> list[str]:
    """Lower-cased search tokens of `text`: jieba's search-mode words, punctuation dropped."""
    _initialised()
    tokens: list[str] = []
    for block in _BLOCKS.split(text):
        if block:
            tokens.extend(_segment_block(block) if len(block) <= _REMEMBERED_CHARS else _segment_text(block))
    return tokens


def _segment_text(text: str) -> list[str]:
    tokens: list[str] = []
    for word in jieba.cut_for_search(text, HMM=False):
        tokens.extend(_parts(word))
    return tokens


# jieba first splits a text into blocks of word characters (and the separators between them) and segments each
# block on its own, so segmenting block by block gives the same tokens. Blocks repeat across a catalogue (item
# names, department names, the phrases of summaries): short ones are segmented once and remembered. The cache is
# bounded (at most ~16 MB); a block seen once only costs its slot.
_BLOCKS = jieba.re_han_default
_REMEMBERED_CHARS = 32


@lru_cache(maxsize=16384)
def _segment_block(block: str) -> tuple[str, ...]:
    return tuple(_segment_text(block))


def document_tokens(name: str, summary: str, item_names: Iterable[str]) -> str:
    """The space-separated token string indexed for one resource: words, then each distinct CJK character
    that is not already a token of its own."""
    parts = [name, summary, *item_names]
    text = " ".join(parts)
    # jieba never joins words across the spaces between the parts, so segmenting each part on its own gives
    # the same tokens.
    tokens = [token for part in parts for token in segment(part)]
    present = set(tokens)
    characters: list[str] = []
    for character in _CJK.findall(text):
        if character not in present:
            present.add(character)
            characters.append(character)
    return " ".join(tokens + characters)


Document = tuple[str, str, Sequence[str]]  # name, summary, item names

# Below this many documents a batch is segmented here; above it, in worker processes as well.
PARALLEL_FROM = 2000


def _documents_tokens(documents: Sequence[Document]) -> list[str]:
    return [document_tokens(name, summary, items) for name, summary, items in documents]


# The batch being segmented, set before the workers are forked (they inherit it) and cleared afterwards.
_batch: tuple[Sequence[Document], Any, int] | None = None
_batch_lock = threading.Lock()


def _claim_and_segment() -> list[tuple[int, list[str]]]:
    """Segment chunks of the batch, each claimed from the shared counter, until none is left."""
    assert _batch is not None
    documents, counter, size = _batch
    done: list[tuple[int, list[str]]] = []
    while True:
        with counter.get_lock():
            start = counter.value
            counter.value = start + size
        if start >= len(documents):
            return done
        done.append((start, _documents_tokens(documents[start : start + size])))


def documents_tokens(
    documents: Sequence[Document], *, meanwhile: Callable[[], None] | None = None, parallel_from: int = PARALLEL_FROM
) -> list[str]:
    """`document_tokens` of many documents, in order (an import), and `meanwhile()` run in this process.

    Segmentation is CPU-bound Python: for a large batch, forked workers (one per further CPU, sharing the
    dictionary already loaded here, copy-on-write) segment chunks while this process runs `meanwhile`, then
    this process joins them on the chunks left. Serial for a small batch, on one CPU or where fork is
    unavailable."""
    global _batch  # read by the forked workers
    _initialised()
    extra = min((os.cpu_count() or 1), 4) - 1
    parallel = len(documents) >= parallel_from and extra >= 1 and "fork" in multiprocessing.get_all_start_methods()
    # One parallel batch at a time per process (another thread's batch is segmented serially).
    if not (parallel and _batch_lock.acquire(blocking=False)):
        if meanwhile is not None:
            meanwhile()
        return _documents_tokens(documents)
    context = multiprocessing.get_context("fork")
    _batch = (documents, context.Value("q", 0), max(100, len(documents) // 40))
    try:
        with context.Pool(extra) as pool:
            pending = [pool.apply_async(_claim_and_segment) for _ in range(extra)]
            if meanwhile is not None:
                meanwhile()
            chunks = _claim_and_segment()
            for result in pending:
                chunks.extend(result.get())
    finally:
        _batch = None
        _batch_lock.release()
    chunks.sort(key=lambda chunk: chunk[0])
    return [tokens for _, chunk in chunks for tokens in chunk]


def _sub_words(word: str) -> list[tuple[int, str]]:
    """The dictionary 2- and 3-character words inside `word` with their offsets (as jieba's search mode)."""
    frequencies = jieba.dt.FREQ
    found: list[tuple[int, str]] = []
    for size in (2, 3):
        if len(word) > size:
            found.extend(
                (i, word[i : i + size]) for i in range(len(word) - size + 1) if frequencies.get(word[i : i + size])
            )
    return found


def query_tokens(text: str) -> list[str]:
    """The tokens a document must all contain to match the query `text` (at most MAX_QUERY_TOKENS)."""
    _initialised()
    tokens: list[str] = []
    for word in jieba.cut(text[:MAX_QUERY_CHARS], HMM=False):
        for part in _parts(word):
            subs = _sub_words(part)
            covered = {i + offset for i, sub in subs for offset in range(len(sub))}
            chosen = [sub for _, sub in subs] if len(covered) == len(part) else [part]
            tokens.extend(token for token in chosen if token not in tokens)
    return tokens[:MAX_QUERY_TOKENS]
