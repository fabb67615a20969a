"""Sharing's pages; each part of sharing keeps its routes in its own module, joined here."""

from govshare.sharing import urls_scenarios

app_name = "sharing"

urlpatterns = [
    *urls_scenarios.urlpatterns,
]
