"""The browse/search page's query string: read it leniently and build the links that change one part of it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from urllib.parse import urlencode

from django.http import QueryDict

from govshare.catalog import search
from govshare.catalog.selectors import ResourceFilters

FILTER_PARAMS: tuple[str, ...] = tuple(f.name for f in fields(ResourceFilters))
# Options shown per facet on the page (the API returns them all); a selected option is always shown.
FACET_OPTIONS_SHOWN = 15


@dataclass(frozen=True)
class FacetLink:
    value: str
    label: str
    count: int
    url: str
    selected: bool


@dataclass(frozen=True)
class FacetBlock:
    key: str
    label: str
    links: list[FacetLink]
    hidden: int

    @property
    def names(self) -> bool:
        """Whether the options are names kept in the database (departments, categories): content in Chinese, shown
        as it is, unlike the translated labels of the other facets."""
        return self.key == "department" or self.key.startswith("category_")


@dataclass(frozen=True)
class SortChoice:
    value: str
    label: str
    selected: bool


@dataclass(frozen=True)
class BrowseQuery:
    """What the page was asked for. Unknown sorts and bad page numbers fall back to the defaults: a hand-edited
    address shows the catalogue, never an error."""

    q: str
    filters: ResourceFilters
    sort: str
    page: int

    @classmethod
    def from_querydict(cls, data: QueryDict) -> BrowseQuery:
        q = data.get("q", "").strip()
        filters = ResourceFilters(**{name: data.get(name, "").strip() for name in FILTER_PARAMS})
        sort = data.get("sort", "")
        if sort not in search.SORTS or (sort == "relevance" and not q):
            sort = ""
        try:
            page = max(1, min(int(data.get("page", "1")), 10_000))
        except ValueError:
            page = 1
        return cls(q, filters, sort, page)

    def params(self, changes: Mapping[str, str] | None = None, *, page: int | None = None) -> list[tuple[str, str]]:
        values = {"q": self.q, **{name: getattr(self.filters, name) for name in FILTER_PARAMS}, "sort": self.sort}
        values.update(changes or {})
        pairs = [(name, value) for name, value in values.items() if value]
        if page and page > 1:
            pairs.append(("page", str(page)))
        return pairs

    def url(self, changes: Mapping[str, str] | None = None, *, page: int | None = None) -> str:
        """The page's address with `changes` applied; a changed filter or query starts again at page 1."""
        return "?" + urlencode(self.params(changes, page=page))

    def export_query(self, file_format: str) -> str:
        """The query string of the export of exactly this list (all pages)."""
        return urlencode([("format", file_format), *self.params()])

    @property
    def has_filters(self) -> bool:
        return any(getattr(self.filters, name) for name in FILTER_PARAMS)

    def facet_blocks(self, facets: list[search.Facet]) -> list[FacetBlock]:
        blocks: list[FacetBlock] = []
        for facet in facets:
            current = getattr(self.filters, facet.param)
            links = [
                FacetLink(
                    option.value,
                    option.label,
                    option.count,
                    self.url({facet.param: "" if option.value == current else option.value}),
                    option.value == current,
                )
                for option in facet.options
            ]
            shown = [link for index, link in enumerate(links) if index < FACET_OPTIONS_SHOWN or link.selected]
            if shown:
                blocks.append(FacetBlock(facet.key, facet.label, shown, len(links) - len(shown)))
        return blocks

    def sort_choices(self) -> list[SortChoice]:
        effective = self.sort or (search.DEFAULT_SORT_WITH_QUERY if self.q else search.DEFAULT_SORT_WITHOUT_QUERY)
        return [
            SortChoice(value, label, value == effective)
            for value, label in search.SORTS.items()
            if value != "relevance" or self.q
        ]

    def page_links(self, result: search.SearchResult, spread: int = 3) -> list[tuple[int, str, bool]]:
        """(number, url, current) for the pages around the current one, with the first and last."""
        numbers = {1, result.pages, *range(max(1, result.page - spread), min(result.pages, result.page + spread) + 1)}
        return [(n, self.url(page=n), n == result.page) for n in sorted(numbers)]
