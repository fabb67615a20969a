"""Catalogue pages: thin views over selectors and services. The resource pages are in views_resource, the
review queue and maintenance in views_review."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse

from govshare.catalog import search
from govshare.catalog.browse_page import FILTER_PARAMS, BrowseQuery


@login_required
def browse(request: HttpRequest) -> HttpResponse:
    """The catalogue with full-text search, facets, sorting, paging and export of the current list."""
    query = BrowseQuery.from_querydict(request.GET)
    result = search.search_resources(
        request.user,  # type: ignore[arg-type]
        q=query.q,
        filters=query.filters,
        sort=query.sort,
        page=query.page,
    )
    try:  # The export page is optional: offer its links only where it is installed.
        export_url = reverse("catalog:export")
    except NoReverseMatch:
        export_url = ""
    return render(
        request,
        "catalog/browse.html",
        {
            "query": query,
            "result": result,
            "facets": query.facet_blocks(result.facets),
            "sorts": query.sort_choices(),
            "page_links": query.page_links(result),
            "previous_url": query.url(page=result.page - 1) if result.has_previous else "",
            "next_url": query.url(page=result.page + 1) if result.has_next else "",
            "clear_url": query.url(dict.fromkeys(FILTER_PARAMS, "")),
            "export_xlsx": f"{export_url}?{query.export_query('xlsx')}" if export_url else "",
            "export_csv": f"{export_url}?{query.export_query('csv')}" if export_url else "",
        },
    )
