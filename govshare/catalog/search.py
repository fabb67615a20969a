"""Chinese full-text search of the catalogue with facets, sorting and paging.

The index holds jieba tokens (govshare.catalog.search_text): an FTS5 table on SQLite, a GIN index on
to_tsvector('simple', search_tokens) on PostgreSQL (migration 0004). A query is segmented with the same
dictionary and every token is required, except that an everyday word of a synonym group (社保) is satisfied by any
word of its group (社保 | 社会保险): govshare.catalog.synonyms plans the query, this module turns the plan into an
FTS5 expression or a tsquery. Results are scoped exactly like the rest of the catalogue
(govshare.catalog.access.visible_resources_filter; the browse page may narrow a consumer to published entries), and
each facet is counted over the query, the user's scope and every filter except its own, in one SQL statement.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from django.db import connection
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import BooleanField, Case, CharField, F, FloatField, Q, QuerySet, Value, When
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext, gettext_noop

from govshare.accounts.models import Department, User
from govshare.catalog import access, selectors
from govshare.catalog.choices import OpenType, ResourceFormat, ReviewStatus, ShareType, UpdateCycle
from govshare.catalog.models import Category, Resource
from govshare.catalog.synonyms import Clause, QueryPlan, active_synonyms, plan_query
from govshare.core.errors import FieldProblem, ValidationFailed
from govshare.core.pagination import clamp_paging
from govshare.core.text import join_names

__all__ = [
    "SORTS",
    "Facet",
    "FacetOption",
    "SearchResult",
    "catalogues",
    "ensure_search_index",
    "matching_resources",
    "plan",
    "search_resource_ids",
    "search_resources",
]

SORTS: dict[str, str] = {
    "relevance": gettext_noop("相关度"),
    "name": gettext_noop("名称"),
    "-updated_at": gettext_noop("最近更新"),
    "-published_on": gettext_noop("最近发布"),
    "code": gettext_noop("资源代码"),
}
DEFAULT_SORT_WITH_QUERY = "relevance"
DEFAULT_SORT_WITHOUT_QUERY = "code"

FTS_TABLE = "catalog_resource_fts"
_PG_VECTOR = """to_tsvector('simple', "catalog_resource"."search_tokens")"""
_PG_TOKENS = "plainto_tsquery('simple', %s)"
_FTS5_MATCH = '"catalog_resource"."id" IN (SELECT rowid FROM catalog_resource_fts WHERE catalog_resource_fts MATCH %s)'


@dataclass(frozen=True)
class FacetOption:
    value: str
    label: str
    count: int


@dataclass(frozen=True)
class Facet:
    """Counts of one attribute; `param` is the filter a client sets to narrow by an option's value."""

    key: str
    label: str
    param: str
    options: list[FacetOption]


@dataclass(frozen=True)
class SearchResult:
    items: list[Resource]
    total: int
    page: int
    page_size: int
    facets: list[Facet]
    q: str = ""
    sort: str = DEFAULT_SORT_WITHOUT_QUERY
    tokens: list[str] = field(default_factory=list)
    # The words a row highlights: the query's own and their synonyms.
    words: list[str] = field(default_factory=list)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def has_previous(self) -> bool:
        return self.page > 1


# ---------------------------------------------------------------------------------------------- text matching


def plan(q: str) -> QueryPlan:
    """The query's clauses under the active synonym groups."""
    return plan_query(q.strip(), active_synonyms())


def _quoted(token: str) -> str:
    return '"' + token.replace('"', '""') + '"'


def _fts5_expression(clauses: tuple[Clause, ...]) -> str:
    """An FTS5 query requiring every clause, each token quoted as a string (tokens hold word characters only)."""

    def alternative(tokens: tuple[str, ...]) -> str:
        return "(" + " AND ".join(_quoted(token) for token in tokens) + ")"

    return " AND ".join("(" + " OR ".join(alternative(a) for a in clause) + ")" for clause in clauses)


def _pg_tsquery(clauses: tuple[Clause, ...]) -> tuple[str, list[str]]:
    """A tsquery requiring every clause: constant SQL (plainto_tsquery per alternative joined by || and &&) with
    the tokens as parameters."""
    parts = ["(" + " || ".join([_PG_TOKENS] * len(clause)) + ")" for clause in clauses]
    return "(" + " && ".join(parts) + ")", [" ".join(a) for clause in clauses for a in clause]


def _text_filter(queryset: QuerySet[Resource], clauses: tuple[Clause, ...]) -> QuerySet[Resource]:
    if connection.vendor == "postgresql":
        tsquery, params = _pg_tsquery(clauses)
        condition = RawSQL(f"{_PG_VECTOR} @@ {tsquery}", params, BooleanField())  # noqa: S611 (constant SQL)
    else:
        condition = RawSQL(_FTS5_MATCH, [_fts5_expression(clauses)], BooleanField())  # noqa: S611 (constant SQL)
    return queryset.filter(condition)


catalogues = access.catalogues  # the browse page's scope: see access.catalogues


def _scope(user: User, published_only: bool) -> QuerySet[Resource]:
    visible = selectors.visible_resources(user)
    return visible.filter(status=ReviewStatus.PUBLISHED) if published_only else visible


def _clean(filters: selectors.ResourceFilters) -> selectors.ResourceFilters:
    """Filter values as the database can take them (a NUL byte would make PostgreSQL fail)."""
    values = {name: getattr(filters, name).replace("\x00", "").strip()[:100] for name in filters.__dataclass_fields__}
    return selectors.ResourceFilters(**values)


def matching_resources(
    user: User, *, q: str = "", filters: selectors.ResourceFilters | None = None, published_only: bool = False
) -> QuerySet[Resource]:
    """Every resource the user may see that matches the query and the filters (unordered: the caller orders).
    Used by the list export so that it exports exactly what the search shows."""
    queryset = selectors.apply_filters(_scope(user, published_only), _clean(filters or selectors.ResourceFilters()))
    if not q.strip():
        return queryset
    clauses = plan(q).clauses
    return _text_filter(queryset, clauses) if clauses else queryset.none()


def search_resource_ids(
    user: User, q: str, filters: selectors.ResourceFilters | None = None, *, published_only: bool = False
) -> QuerySet[Any]:
    """The ids of `matching_resources` as a subquery-ready queryset."""
    return (
        matching_resources(user, q=q, filters=filters, published_only=published_only)
        .order_by()
        .values_list("pk", flat=True)
    )


# ---------------------------------------------------------------------------------------------- facets

# Facet key, title, filter parameter, the column of the match set it groups by.
_FACETS: list[tuple[str, str, str, str]] = [
    ("department", gettext_noop("提供方"), "department_code", "r_dept"),
    ("category_class", gettext_noop("类"), "category_code", "substr(r_cat, 1, 1)"),
    ("category_item", gettext_noop("项"), "category_code", "substr(r_cat, 1, 3)"),
    ("share_type", gettext_noop("共享属性"), "share_type", "r_share"),
    ("open_type", gettext_noop("开放属性"), "open_type", "r_open"),
    ("format", gettext_noop("资源格式"), "format", "r_fmt"),
    ("update_cycle", gettext_noop("更新周期"), "update_cycle", "r_cycle"),
    ("status", gettext_noop("审核状态"), "status", "r_status"),
]
_ENUM_LABELS: dict[str, dict[str, str]] = {
    "share_type": dict(ShareType.choices),
    "open_type": dict(OpenType.choices),
    "format": dict(ResourceFormat.choices),
    "update_cycle": dict(UpdateCycle.choices),
    "status": {**dict(ReviewStatus.choices), selectors.REJECTED: selectors.REJECTED_LABEL},
}

# The review state the status facet groups by: a draft the reviewer sent back shows as 已驳回 until resubmitted.
_REVIEW_STATE = Case(
    When(Q(status=ReviewStatus.DRAFT) & ~Q(rejection_reason=""), then=Value(selectors.REJECTED)),
    default=F("status"),
    output_field=CharField(),
)


def _conditions(filters: selectors.ResourceFilters, department_id: int | None) -> dict[str, tuple[str, list[Any]]]:
    """SQL conditions on the match set, keyed by filter parameter (same meaning as selectors.apply_filters)."""
    conditions: dict[str, tuple[str, list[Any]]] = {}
    if filters.department_code:
        conditions["department_code"] = ("r_dept = %s", [department_id if department_id is not None else -1])
    if filters.category_code:
        conditions["category_code"] = ("substr(r_cat, 1, %s) = %s", [len(filters.category_code), filters.category_code])
    for param, column in (
        ("share_type", "r_share"),
        ("open_type", "r_open"),
        ("format", "r_fmt"),
        ("update_cycle", "r_cycle"),
        ("status", "r_status"),
    ):
        if value := getattr(filters, param):
            conditions[param] = (f"{column} = %s", [value])
    return conditions


def _where(conditions: dict[str, tuple[str, list[Any]]], skip: str | None) -> tuple[str, list[Any]]:
    parts = [(sql, params) for param, (sql, params) in conditions.items() if param != skip]
    if not parts:
        return "1 = 1", []
    return " AND ".join(sql for sql, _ in parts), [p for _, params in parts for p in params]


def _match_set(
    user: User, clauses: tuple[Clause, ...], sort: str, published_only: bool
) -> tuple[QuerySet[Any], list[str], str]:
    """The visible resources matching the clauses as narrow rows (columns named in the returned list) and the
    SQL ordering of the page over those columns."""
    # r_state is annotated first so that it comes right after the fields in the SELECT (before r_sort).
    base: QuerySet[Any] = _scope(user, published_only).order_by().annotate(r_state=_REVIEW_STATE)
    columns = ["r_id", "r_code", "r_dept", "r_cat", "r_share", "r_open", "r_fmt", "r_cycle", "r_status"]
    fields = ["pk", "code", "department_id", "category__code", "share_type", "open_type", "format", "update_cycle"]
    fields.append("r_state")
    if sort == "relevance" and clauses and connection.vendor == "sqlite":
        # bm25 needs a join with the FTS5 table; Django puts an extra() column first in the SELECT.
        ranked = base.extra(  # noqa: S610 (constant SQL, the expression is a parameter)
            tables=[FTS_TABLE],
            where=[f'{FTS_TABLE}.rowid = "catalog_resource"."id"', f"{FTS_TABLE} MATCH %s"],
            params=[_fts5_expression(clauses)],
            select={"r_sort": f"{FTS_TABLE}.rank"},
        )
        return ranked.values_list("r_sort", *fields), ["r_sort", *columns], "r_sort ASC"
    if clauses:
        base = _text_filter(base, clauses)
    key: F | RawSQL
    if sort == "relevance" and clauses:
        tsquery, params = _pg_tsquery(clauses)
        rank = RawSQL(f"ts_rank({_PG_VECTOR}, {tsquery})", params, FloatField())  # noqa: S611 (constant SQL)
        key, order = rank, "r_sort DESC"
    elif sort in ("-updated_at", "-published_on"):
        key, order = F(sort[1:]), "r_sort DESC NULLS LAST"
    elif sort == "name":
        key, order = F("name"), "r_sort ASC"
    else:
        key, order = F("code"), "r_sort ASC"
    # Annotations come after the fields in the SELECT.
    return base.annotate(r_sort=key).values_list(*fields, "r_sort"), [*columns, "r_sort"], order


def _materialized() -> str:
    """SQLite before 3.35 has no MATERIALIZED keyword: it then evaluates the match set once per use (slower, same
    answer). Debian 12's SQLite is 3.40."""
    if connection.vendor == "sqlite" and connection.Database.sqlite_version_info < (3, 35):  # type: ignore[attr-defined]
        return ""
    return "MATERIALIZED "


def _run(
    user: User,
    clauses: tuple[Clause, ...],
    filters: selectors.ResourceFilters,
    sort: str,
    start: int,
    size: int,
    published_only: bool,
) -> tuple[int, dict[str, dict[str, int]], list[int]]:
    """Total, facet counts and the page's ids in one statement: the match set (query + scope) is materialised
    once; each facet groups it under every filter but its own; the page is the top rows under all filters."""
    department_id = None
    if filters.department_code:
        department_id = Department.objects.filter(code=filters.department_code).values_list("pk", flat=True).first()
    match_set, columns, order = _match_set(user, clauses, sort, published_only)
    inner_sql, inner_params = match_set.query.sql_with_params()
    conditions = _conditions(filters, department_id)
    selects: list[str] = []
    params: list[Any] = list(inner_params)
    where, where_params = _where(conditions, None)
    # Only constant fragments of this module are composed into the SQL; every value is a parameter.
    selects.append(f"SELECT 'total', '', COUNT(*) FROM m WHERE {where}")  # noqa: S608
    params.extend(where_params)
    selects.append(
        f"SELECT 'page', CAST(r_id AS TEXT), ROW_NUMBER() OVER (ORDER BY {order}, r_code) FROM ("  # noqa: S608
        f"SELECT r_id, r_sort, r_code FROM m WHERE {where} ORDER BY {order}, r_code LIMIT %s OFFSET %s) p"
    )
    params.extend([*where_params, size, start])
    for key, _, param, column in _FACETS:
        where, where_params = _where(conditions, param)
        extra = " AND length(r_cat) >= 3" if key == "category_item" else ""
        selects.append(
            f"SELECT '{key}', CAST({column} AS TEXT), COUNT(*) FROM m WHERE {where}{extra} GROUP BY {column}"  # noqa: S608
        )
        params.extend(where_params)
    sql = f"WITH m({', '.join(columns)}) AS {_materialized()}({inner_sql}) " + " UNION ALL ".join(selects)
    total = 0
    counts: dict[str, dict[str, int]] = {key: {} for key, *_ in _FACETS}
    page: list[tuple[int, int]] = []
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for key, value, count in cursor.fetchall():
            if key == "total":
                total = count
            elif key == "page":
                page.append((count, int(value)))
            elif value is not None:
                counts[key][value] = count
    return total, counts, [pk for _, pk in sorted(page)]


def _facets(counts: dict[str, dict[str, int]], published_only: bool = False) -> list[Facet]:
    departments = {
        str(pk): (code, name)
        for pk, code, name in Department.objects.filter(pk__in=[int(v) for v in counts["department"]]).values_list(
            "pk", "code", "name"
        )
    }
    category_codes = set(counts["category_class"]) | set(counts["category_item"])
    category_names = dict(Category.objects.filter(code__in=category_codes).values_list("code", "name"))
    facets: list[Facet] = []
    for key, label, param, _ in _FACETS:
        if key == "status" and published_only:
            continue  # one value only: the published catalogue has no review states to choose from
        found = counts[key]
        if key == "department":
            options = [
                FacetOption(departments[value][0], departments[value][1], count)
                for value, count in found.items()
                if value in departments
            ]
            options.sort(key=lambda o: (-o.count, o.value))
        elif key.startswith("category_"):
            options = [
                FacetOption(code, category_names.get(code, code), count) for code, count in sorted(found.items())
            ]
        else:
            labels = _ENUM_LABELS[key]
            options = [FacetOption(value, text, found[value]) for value, text in labels.items() if value in found]
        facets.append(Facet(key, label, param, options))
    return facets


# ---------------------------------------------------------------------------------------------- search


def search_resources(
    user: User,
    *,
    q: str = "",
    filters: selectors.ResourceFilters | None = None,
    sort: str = "",
    page: int | None = 1,
    page_size: int | None = None,
    published_only: bool = False,
) -> SearchResult:
    """One page of the resources the user may see matching `q` and `filters`, with the total and the facets.

    `q` is free text (never refused: segmented, cut at search_text.MAX_QUERY_CHARS, punctuation and operators
    dropped, its everyday words expanded to their synonyms); `sort` is one of SORTS (relevance by default when q
    is given, code otherwise). `published_only` narrows the user's scope to published entries (no status facet,
    the status filter ignored)."""
    number, size = clamp_paging(page, page_size)
    q = q.strip()
    sort = sort or (DEFAULT_SORT_WITH_QUERY if q else DEFAULT_SORT_WITHOUT_QUERY)
    if sort not in SORTS:
        choices = join_names(
            gettext("%(key)s（%(label)s）") % {"key": key, "label": gettext(label)} for key, label in SORTS.items()
        )
        message = gettext("排序方式“%(sort)s”无效，应为：%(choices)s") % {"sort": sort[:50], "choices": choices}
        raise ValidationFailed([FieldProblem("sort", message)])
    filters = _clean(filters or selectors.ResourceFilters())
    if published_only and filters.status:
        filters = replace(filters, status="")
    query = plan(q) if q else QueryPlan((), ())
    if q and not query.clauses:
        # Only punctuation, symbols or emoji: nothing in the catalogue can match.
        empty = _facets({key: {} for key, *_ in _FACETS}, published_only)
        return SearchResult([], 0, number, size, empty, q, sort, [])

    total, counts, ids = _run(user, query.clauses, filters, sort, (number - 1) * size, size, published_only)
    rows = Resource.objects.select_related("department", "category").in_bulk(ids)
    items = [rows[pk] for pk in ids if pk in rows]
    facets = _facets(counts, published_only)
    return SearchResult(items, total, number, size, facets, q, sort, query.tokens, list(query.words))


# ---------------------------------------------------------------------------------------------- index upkeep

_SQLITE_INDEX_DDL = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS catalog_resource_fts USING fts5("
    "search_tokens, content='catalog_resource', content_rowid='id', tokenize='unicode61')",
    "CREATE TRIGGER IF NOT EXISTS catalog_resource_fts_insert AFTER INSERT ON catalog_resource BEGIN "
    "INSERT INTO catalog_resource_fts(rowid, search_tokens) VALUES (new.id, new.search_tokens); END",
    "CREATE TRIGGER IF NOT EXISTS catalog_resource_fts_delete AFTER DELETE ON catalog_resource BEGIN "
    "INSERT INTO catalog_resource_fts(catalog_resource_fts, rowid, search_tokens) "
    "VALUES ('delete', old.id, old.search_tokens); END",
    "CREATE TRIGGER IF NOT EXISTS catalog_resource_fts_update AFTER UPDATE OF search_tokens ON catalog_resource "
    "BEGIN INSERT INTO catalog_resource_fts(catalog_resource_fts, rowid, search_tokens) "
    "VALUES ('delete', old.id, old.search_tokens); "
    "INSERT INTO catalog_resource_fts(rowid, search_tokens) VALUES (new.id, new.search_tokens); END",
    "INSERT INTO catalog_resource_fts(catalog_resource_fts) VALUES ('rebuild')",
]
SQLITE_TRIGGERS = frozenset({f"{FTS_TABLE}_insert", f"{FTS_TABLE}_delete", f"{FTS_TABLE}_update"})


def ensure_search_index(db: BaseDatabaseWrapper = connection) -> bool:
    """Recreate the SQLite index triggers if a table rebuild dropped them, and then rebuild the index.
    Returns whether anything had to be repaired. PostgreSQL's functional index needs no upkeep."""
    if db.vendor != "sqlite":
        return False
    with db.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'trigger')")
        present = {row[0] for row in cursor.fetchall()}
        # Before migration 0004 (or after reversing it) there is no index to keep.
        if FTS_TABLE not in present or present >= SQLITE_TRIGGERS:
            return False
        for statement in _SQLITE_INDEX_DDL:
            cursor.execute(statement)
    return True
