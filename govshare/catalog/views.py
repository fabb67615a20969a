"""Catalogue pages: thin views over selectors and services. The resource pages are in views_resource, the
review queue and maintenance in views_review."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse

from govshare.accounts.models import User
from govshare.catalog import search, snippets
from govshare.catalog.browse_page import FILTER_PARAMS, BrowseQuery


@login_required
def browse(request: HttpRequest) -> HttpResponse:
    """The catalogue with full-text search, facets, sorting, paging and export of the current list. People who do
    not catalogue see the published catalogue only (their department's drafts are the cataloguers' work: the API
    keeps the policy's full scope)."""
    query = BrowseQuery.from_querydict(request.GET)
    user: User = request.user  # type: ignore[assignment]
    result = search.search_resources(
        user,
        q=query.q,
        filters=query.filters,
        sort=query.sort,
        page=query.page,
        published_only=not search.catalogues(user),
    )
    matched = snippets.snippets(result.items, result.words)
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
            "rows": [(r, matched.get(r.pk)) for r in result.items],
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
