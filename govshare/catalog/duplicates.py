"""Near-duplicate detection across departments (seed 002, 目录管理: 重复目录处理).

Two entries are near-duplicates when their names are similar and their information items overlap. A few new
entries are each scanned against every name with rapidfuzz (C speed); an import of thousands blocks on shared
character bigrams first. Candidates are scored on the normalised names and Jaccard on the item names:

    score = 0.6 × name similarity + 0.4 × item overlap

so that one call serves a single new entry or a 20,000-row import without comparing every pair.

Place names are discounted (govshare.catalog.places): the names are compared without the places at their front
(a shared 德阳市 makes two names no more alike), and two entries about different places (城北街道… and 雒城街道…)
have their name similarity scaled by PLACE_FACTOR, so that one subject catalogued per street or district is not
listed as near-duplicates even with the same items. So are names of different scopes: a named place on one side
only (广汉市实有人口信息 and 实有人口信息), or the whole jurisdiction (全市…) against a named place (see
`scope_factor`). Pairs a reviewer marked 不是重复 (NotDuplicate) are not recorded again.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from operator import itemgetter

from django.conf import settings
from django.db.models import Q
from rapidfuzz import fuzz, process

from govshare.catalog.choices import ReviewStatus
from govshare.catalog.models import DuplicateCandidate, Item, NotDuplicate, Resource
from govshare.catalog.places import different_places, split_places, whole_jurisdiction
from govshare.core import bulk

NAME_WEIGHT = 0.6
ITEM_WEIGHT = 0.4
# Names about different places: 0.6 × 0.25 + 0.4 × full item overlap = 0.55, below the default threshold (0.6).
PLACE_FACTOR = 0.25
# In a name's places, the whole jurisdiction named by a prefix (全市, 本县 …): a scope, like a place, but none of
# the region names (no region is called this).
WHOLE_JURISDICTION = "〈全域〉"
_NOISE = re.compile(r"[\s\W_]+", re.UNICODE)
_GENERIC_SUFFIX = re.compile(r"(基本)?(信息|数据|资料|情况)(表|库)?$")
# A block word shared by more entries than this is too common to find duplicates with.
_MAX_POSTING = 5000
_CANDIDATES_PER_ENTRY = 200
# Up to this many entries each is scanned against every name; above it, bigram blocking is cheaper.
_SCAN_LIMIT = 50


def normalise_name(name: str) -> str:
    compact = _NOISE.sub("", name)
    return _GENERIC_SUFFIX.sub("", compact) or compact


@lru_cache(maxsize=65536)
def name_key(name: str) -> tuple[str, frozenset[str]]:
    """What a name is compared by: its normalised form without the places (and the 全市-like prefix) at its front,
    and its scope: those places, with WHOLE_JURISDICTION for the prefix. Cached: every scoring reads every entry's
    name, and names repeat."""
    found = split_places(_NOISE.sub("", name))
    whole, rest = whole_jurisdiction(found.rest)
    return normalise_name(rest), found.places | {WHOLE_JURISDICTION} if whole else found.places


def scope_factor(a: frozenset[str], b: frozenset[str], *, same_rest: bool, same_department: bool) -> float:
    """How much of the name similarity counts, given the two names' scopes (places, WHOLE_JURISDICTION).

    - No scope on either side, or one narrowing the other (德阳市城北街道… and 城北街道…): the same scope, 1.
    - Different places (城北街道… and 雒城街道…), or the whole jurisdiction against a named place (全市… and
      广汉市…, where 全市 covers 广汉 and more): different scopes, PLACE_FACTOR.
    - A named place on one side only (广汉市实有人口信息 and 实有人口信息): likely different scopes too, one district's
      data and a whole jurisdiction's (a department catalogues its own area without naming it), so PLACE_FACTOR;
      except when the rest of the names is identical and the department is the same, where it is the same entry
      written once with its place and once without. 全市… against a name without scope is the same scope (both
      the whole jurisdiction), 1.
    """
    if different_places(a, b):
        return PLACE_FACTOR
    if bool(a) == bool(b) or (a | b) == {WHOLE_JURISDICTION}:
        return 1.0
    return 1.0 if same_rest and same_department else PLACE_FACTOR


def _place_scaled(
    score: float, a: tuple[str, frozenset[str]], b: tuple[str, frozenset[str]], *, same_department: bool
) -> float:
    return score * scope_factor(a[1], b[1], same_rest=a[0] == b[0], same_department=same_department)


@lru_cache(maxsize=8192)
def _item_key(name: str) -> str:
    return _NOISE.sub("", name).lower()


def item_overlap(a: set[str], b: set[str]) -> float:
    if not a or not b:
        return 0.0
    common = len(a & b)
    return common / (len(a) + len(b) - common)


def name_similarity(a: str, b: str, *, same_department: bool = False) -> float:
    key_a, key_b = name_key(a), name_key(b)
    return _place_scaled(fuzz.ratio(key_a[0], key_b[0]) / 100.0, key_a, key_b, same_department=same_department)


@dataclass(frozen=True)
class Match:
    resource_id: int
    similar_id: int
    score: float
    name_score: float
    item_score: float


def _items_by_resource(ids: Iterable[int]) -> dict[int, set[str]]:
    found: dict[int, set[str]] = defaultdict(set)
    id_list = list(ids)
    for start in range(0, len(id_list), 5000):
        for resource_id, name in Item.objects.filter(resource_id__in=id_list[start : start + 5000]).values_list(
            "resource_id", "name"
        ):
            found[resource_id].add(_item_key(name))
    return found


def _min_name_score(threshold: float) -> float:
    """The name similarity below which even full item overlap cannot reach the threshold."""
    return max(0.0, (threshold - ITEM_WEIGHT) / NAME_WEIGHT)


def _bigrams(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1)} or {text}


def _candidates_by_scan(
    pk: int, norm: dict[int, str], departments: dict[int, int], cutoff: float
) -> list[tuple[int, float]]:
    """Score one entry's name against every other name (rapidfuzz, C speed): right for a few entries."""
    found = process.extract(
        norm[pk], norm, scorer=fuzz.ratio, score_cutoff=cutoff * 100, limit=_CANDIDATES_PER_ENTRY + 50
    )
    return [(other, score / 100.0) for _, score, other in found if departments[other] != departments[pk]]


def _candidates_by_blocking(
    wanted: Sequence[int], norm: dict[int, str], departments: dict[int, int], cutoff: float
) -> dict[int, list[tuple[int, float]]]:
    """For many entries (an import): only names sharing a character bigram are compared.

    Each entry's candidates are the (at most _CANDIDATES_PER_ENTRY) entries sharing the most bigrams with its
    name, those of its own department and below the name-score cutoff dropped. Everything before the department
    check depends on the normalised name only, and an import repeats names (区县 copies, one subject per
    district), so the counting, ranking and scoring run once per distinct name, on names rather than entries.
    """
    entries_by_name: dict[str, list[int]] = defaultdict(list)
    for pk, name in norm.items():
        entries_by_name[name].append(pk)
    # bigram → the distinct names holding it, and how many entries hold it (a too common bigram is skipped).
    names_by_gram: dict[str, list[str]] = defaultdict(list)
    entries_by_gram: Counter[str] = Counter()
    for name, pks in entries_by_name.items():
        for gram in _bigrams(name):
            names_by_gram[gram].append(name)
            entries_by_gram[gram] += len(pks)
    candidates_by_name: dict[str, list[tuple[int, int, float]]] = {}
    # The entries of its own department (the entry itself among them) are dropped, so entries with the same
    # name and department have the same candidates: one list, shared (the caller only reads it).
    found_by_name_and_department: dict[tuple[str, int], list[tuple[int, float]]] = {}
    result: dict[int, list[tuple[int, float]]] = {}
    for pk in wanted:
        key = (norm[pk], departments[pk])
        found = found_by_name_and_department.get(key)
        if found is None:
            name, department = key
            candidates = candidates_by_name.get(name)
            if candidates is None:
                candidates = candidates_by_name[name] = _name_candidates(
                    name, names_by_gram, entries_by_gram, entries_by_name, departments, cutoff
                )
            found = found_by_name_and_department[key] = [
                (other, score) for other, other_department, score in candidates if other_department != department
            ]
        result[pk] = found
    return result


def _name_candidates(
    name: str,
    names_by_gram: dict[str, list[str]],
    entries_by_gram: Counter[str],
    entries_by_name: dict[str, list[int]],
    departments: dict[int, int],
    cutoff: float,
) -> list[tuple[int, int, float]]:
    """(entry, its department, name score) for the entries ranked highest by bigrams shared with `name`."""
    shared: Counter[str] = Counter()
    for gram in _bigrams(name):
        if entries_by_gram[gram] <= _MAX_POSTING:
            shared.update(names_by_gram[gram])
    found: list[tuple[int, int, float]] = []
    room = _CANDIDATES_PER_ENTRY
    # Entries sharing as many bigrams rank in no particular order among themselves (as before: the order of a
    # set); the ranking stops after _CANDIDATES_PER_ENTRY entries.
    for other_name, _ in sorted(shared.items(), key=itemgetter(1), reverse=True):
        pks = entries_by_name[other_name]
        taken = pks[:room]
        room -= len(taken)
        score = fuzz.ratio(name, other_name) / 100.0
        if score >= cutoff:
            found.extend((other, departments[other], score) for other in taken)
        if room <= 0:
            break
    return found


def find_matches(
    resource_ids: Sequence[int],
    *,
    threshold: float | None = None,
    item_names: Mapping[int, Iterable[str]] | None = None,
) -> list[Match]:
    """Near-duplicates in other departments for each of `resource_ids`, scored and above the threshold.
    `item_names` may give the item names of entries the caller has just written (they are not read again)."""
    if not resource_ids:
        return []
    threshold = settings.GOVSHARE.duplicate_threshold if threshold is None else threshold
    cutoff = _min_name_score(threshold)
    norm: dict[int, str] = {}
    places: dict[int, frozenset[str]] = {}
    departments: dict[int, int] = {}
    for pk, name, department_id in Resource.objects.exclude(status=ReviewStatus.WITHDRAWN).values_list(
        "id", "name", "department_id"
    ):
        norm[pk], places[pk] = name_key(name)
        departments[pk] = department_id
    wanted = [pk for pk in resource_ids if pk in norm]
    if len(wanted) <= _SCAN_LIMIT:
        candidates = {pk: _candidates_by_scan(pk, norm, departments, cutoff) for pk in wanted}
    else:
        candidates = _candidates_by_blocking(wanted, norm, departments, cutoff)
    dismissed = dismissed_pairs(candidates)
    pairs = [
        (
            pk,
            other,
            _place_scaled(
                score,
                (norm[pk], places[pk]),
                (norm[other], places[other]),
                same_department=departments[pk] == departments[other],
            ),
        )
        for pk, found in candidates.items()
        for other, score in found
        if (min(pk, other), max(pk, other)) not in dismissed
    ]
    if not pairs:
        return []
    known = item_names or {}
    involved = {p for pair in pairs for p in pair[:2]}
    items = _items_by_resource(involved.difference(known))
    for pk in involved.intersection(known):
        items[pk] = {_item_key(name) for name in known[pk]}
    matches: list[Match] = []
    for pk, other, name_score in pairs:
        item_score = item_overlap(items.get(pk, set()), items.get(other, set()))
        score = NAME_WEIGHT * name_score + ITEM_WEIGHT * item_score
        if score >= threshold:
            matches.append(Match(pk, other, round(score, 4), round(name_score, 4), round(item_score, 4)))
    return matches


def dismissed_pairs(candidates: Mapping[int, Iterable[tuple[int, float]]]) -> set[tuple[int, int]]:
    """The pairs (lower id first) among these entries' candidates that a reviewer marked 不是重复."""
    ids = list(candidates)
    found: set[tuple[int, int]] = set()
    for start in range(0, len(ids), 5000):
        chunk = ids[start : start + 5000]
        for first, second in NotDuplicate.objects.filter(Q(first_id__in=chunk) | Q(second_id__in=chunk)).values_list(
            "first_id", "second_id"
        ):
            found.add((first, second))
    return found


def record_duplicates(resource_ids: Sequence[int], *, item_names: Mapping[int, Iterable[str]] | None = None) -> int:
    """Replace the stored near-duplicates of these entries (both directions); returns how many were found.

    Runs inside the caller's transaction (create, update or import), so the reviewer sees them at once.
    """
    matches = find_matches(resource_ids, item_names=item_names)
    DuplicateCandidate.objects.filter(resource_id__in=resource_ids).delete()
    DuplicateCandidate.objects.filter(similar_id__in=resource_ids).delete()
    rows: dict[tuple[int, int], tuple[int, int, float, float, float]] = {}
    for m in matches:
        for a, b in ((m.resource_id, m.similar_id), (m.similar_id, m.resource_id)):
            rows[(a, b)] = (a, b, m.score, m.name_score, m.item_score)
    # Plain INSERTs of tuples (an import finds tens of thousands); `detected_at` is set to now.
    bulk.insert_tuples(
        DuplicateCandidate,
        ("resource_id", "similar_id", "score", "name_score", "item_score"),
        list(rows.values()),
        ignore_conflicts=True,
        batch_size=2000,
    )
    return len(matches)


__all__ = [
    "Match",
    "dismissed_pairs",
    "find_matches",
    "item_overlap",
    "name_key",
    "name_similarity",
    "normalise_name",
    "record_duplicates",
    "scope_factor",
]
