"""Synonyms of the catalogue search: what a query asks for once the everyday words in it are expanded.

A query is read left to right for the words of the active synonym groups (longest first: 居民身份证 before 身份证).
Each such word becomes a clause that any word of its group satisfies (身份证 → 身份证 | 公民 身份 号码 | …), and the
text between them is segmented as before (every token required). The index is untouched: expansion happens at
query time only, so an administrator's edit applies to the next search, on SQLite and PostgreSQL alike.

The groups are cached per process and reloaded when this process saves one, or at most CACHE_SECONDS after another
process did (the web server runs several).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from django.db import transaction
from django.db.models.signals import post_delete, post_save

from govshare.accounts.models import User
from govshare.audit.services import record_action
from govshare.catalog.models import SynonymGroup
from govshare.catalog.search_text import MAX_QUERY_CHARS, MAX_QUERY_TOKENS, query_tokens
from govshare.core.errors import FieldProblem, ValidationFailed

__all__ = [
    "CACHE_SECONDS",
    "QueryPlan",
    "Synonyms",
    "active_synonyms",
    "forget",
    "parse_terms",
    "plan_query",
    "save_group",
]

CACHE_SECONDS = 60.0
MAX_TERM_CHARS = 30
MAX_TERMS = 12
# Alternatives kept per clause: a group of many words must not make one query a long OR chain.
MAX_ALTERNATIVES = 8
_SEPARATORS = re.compile(r"[/／,，、;；|\s]+")
_WORD = re.compile(r"\w+")

Alternative = tuple[str, ...]  # tokens, all required
Clause = tuple[Alternative, ...]  # any one alternative satisfies the clause


@dataclass(frozen=True)
class Synonyms:
    """term → every word of the groups holding it (the term included); `longest` bounds the scan."""

    words: dict[str, tuple[str, ...]]
    longest: int

    @classmethod
    def of(cls, groups: Iterable[Sequence[str]]) -> Synonyms:
        words: dict[str, list[str]] = {}
        for group in groups:
            terms = [term.lower() for term in group if term]
            for term in terms:
                known = words.setdefault(term, [term])
                known.extend(other for other in terms if other not in known)
        return cls({term: tuple(found) for term, found in words.items()}, max(map(len, words), default=0))


@dataclass(frozen=True)
class QueryPlan:
    """Clauses all required; `words` are what a result row highlights (the query's tokens and its synonyms)."""

    clauses: tuple[Clause, ...]
    words: tuple[str, ...]

    @property
    def tokens(self) -> list[str]:
        seen: dict[str, None] = {}
        for clause in self.clauses:
            for alternative in clause:
                seen.update(dict.fromkeys(alternative))
        return list(seen)


def _pieces(text: str, synonyms: Synonyms) -> list[tuple[str, tuple[str, ...]]]:
    """The query as (plain text, ()) and (synonym word, its group's words) pieces, left to right, longest first."""
    pieces: list[tuple[str, tuple[str, ...]]] = []
    plain_from = i = 0
    lowered = text.lower()
    while i < len(lowered) and synonyms.longest:
        for size in range(min(synonyms.longest, len(lowered) - i), 0, -1):
            group = synonyms.words.get(lowered[i : i + size])
            if group is not None:
                if plain_from < i:
                    pieces.append((text[plain_from:i], ()))
                pieces.append((lowered[i : i + size], group))
                i = plain_from = i + size
                break
        else:
            i += 1
    if plain_from < len(text):
        pieces.append((text[plain_from:], ()))
    return pieces


def _without_redundant(alternatives: list[Alternative]) -> Clause:
    """Drop an alternative that requires everything another one does and more (A | A∧B is A)."""
    return tuple(a for a in alternatives if not any(set(b) < set(a) for b in alternatives))


def plan_query(text: str, synonyms: Synonyms) -> QueryPlan:
    """The clauses of a query: at most MAX_QUERY_TOKENS of them, every token made of word characters only."""
    clauses: list[Clause] = []
    words: list[str] = []
    for piece, group in _pieces(text[:MAX_QUERY_CHARS], synonyms):
        if not group:
            for token in query_tokens(piece):
                if ((token,),) not in clauses:
                    clauses.append(((token,),))
                    words.append(token)
            continue
        alternatives: list[Alternative] = []
        for term in group[:MAX_ALTERNATIVES]:
            tokens = tuple(query_tokens(term))
            if tokens and tokens not in alternatives:
                alternatives.append(tokens)
                words.append(term)
        clause = _without_redundant(alternatives)
        if clause and clause not in clauses:
            clauses.append(clause)
    return QueryPlan(tuple(clauses[:MAX_QUERY_TOKENS]), tuple(dict.fromkeys(w for w in words if w)))


# ---------------------------------------------------------------------------------------------- the cache


class _Cache:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.lock = threading.Lock()
        self.value: Synonyms | None = None
        self.loaded_at = 0.0

    def get(self) -> Synonyms:
        with self.lock:
            if self.value is None or self.clock() - self.loaded_at > CACHE_SECONDS:
                groups = SynonymGroup.objects.filter(is_active=True).values_list("terms", flat=True)
                self.value = Synonyms.of(parse_terms(terms) for terms in groups)
                self.loaded_at = self.clock()
            return self.value

    def clear(self) -> None:
        with self.lock:
            self.value = None


_cache = _Cache()


def active_synonyms() -> Synonyms:
    """The active groups (cached, see the module's docstring)."""
    return _cache.get()


def forget() -> None:
    """Reload the groups on the next search (after a change in this process)."""
    _cache.clear()


def _changed(**kwargs: object) -> None:
    # Cleared now and again after the commit: a search between the two would otherwise cache the old rows.
    forget()
    transaction.on_commit(forget)


post_save.connect(_changed, sender=SynonymGroup, dispatch_uid="catalog_synonyms_saved")
post_delete.connect(_changed, sender=SynonymGroup, dispatch_uid="catalog_synonyms_deleted")


# ---------------------------------------------------------------------------------------------- editing


def parse_terms(text: str) -> list[str]:
    """The distinct words of a group as typed (separated by /, commas, 、 or spaces), lower-cased."""
    return list(dict.fromkeys(term.lower() for term in _SEPARATORS.split(text.strip()) if term))


def _checked(text: str) -> list[str]:
    terms = parse_terms(text)
    problems: list[str] = []
    for term in terms:
        if not _WORD.fullmatch(term):
            problems.append(f"“{term[:MAX_TERM_CHARS]}”含有标点或符号，同义词只能由文字、字母和数字组成")
        elif len(term) > MAX_TERM_CHARS:
            problems.append(f"“{term[:MAX_TERM_CHARS]}…”超过 {MAX_TERM_CHARS} 个字")
    if len(terms) < 2:
        problems.append("一组同义词至少要有两个不同的词，以“/”分隔，如：社保/社会保险")
    elif len(terms) > MAX_TERMS:
        problems.append(f"一组同义词至多 {MAX_TERMS} 个词（现有 {len(terms)} 个），请拆成几组")
    if problems:
        raise ValidationFailed([FieldProblem("terms", "；".join(problems))])
    return terms


@transaction.atomic
def save_group(
    group: SynonymGroup | None, *, terms: str, note: str = "", is_active: bool = True, actor: User
) -> SynonymGroup:
    """Create (group None) or change a synonym group, audited; the next search uses it."""
    words = _checked(terms)
    before = group.terms if group is not None else ""
    if group is None:
        group = SynonymGroup()
    group.terms, group.note, group.is_active = "/".join(words), note.strip()[:200], is_active
    group.save()
    action = "catalog.synonym.update" if before else "catalog.synonym.create"
    record_action(actor, action, group, terms=group.terms, before=before, is_active=is_active)
    return group
