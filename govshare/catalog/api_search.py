"""Catalogue search API: GET /api/catalog/search (full text, facets, sorting, paging)."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from govshare.accounts.acting import acting_user
from govshare.catalog import search
from govshare.catalog.schemas import ResourceBrief, ResourceFiltersIn
from govshare.catalog.selectors import ResourceFilters
from govshare.core.apiauth import STAFF_READ
from govshare.core.schemas import ERRORS, Page

router = Router(tags=["目录检索 catalog search"])


class SearchIn(ResourceFiltersIn):
    q: str = Field(
        "",
        description="检索词：按中文分词，所有词都须出现在名称、摘要或信息项名称中；标点、运算符和表情符号被忽略，"
        "超过 200 字的部分不参与检索",
    )
    sort: str = Field(
        "",
        description="排序：relevance（相关度，有检索词时默认）、name、-updated_at、-published_on、code（无检索词时默认）",
    )

    def to_filters(self) -> ResourceFilters:
        return ResourceFilters(**self.model_dump(exclude={"page", "page_size", "q", "sort"}))


class FacetOptionOut(Schema):
    value: str = Field(..., description="过滤参数取值")
    label: str = Field(..., description="中文名称")
    count: int


class FacetOut(Schema):
    key: str = Field(..., description="department、category_class、category_item、share_type、open_type 等")
    label: str
    param: str = Field(..., description="按此分面过滤时设置的查询参数名")
    options: list[FacetOptionOut]


class SearchPage(Page[ResourceBrief]):
    """One page of search results, with the facets of every match."""

    facets: list[FacetOut]


@router.get(
    "/search",
    response={200: SearchPage, **ERRORS},
    auth=STAFF_READ,
    summary="检索信息资源（全文、分面、排序、分页）",
)
def search_resources(request: HttpRequest, params: Query[SearchIn]) -> search.SearchResult:
    return search.search_resources(
        acting_user(request),
        q=params.q,
        filters=params.to_filters(),
        sort=params.sort,
        page=params.page,
        page_size=params.page_size,
    )
