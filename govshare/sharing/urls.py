"""Sharing's pages; each part of sharing keeps its routes in its own module or block, joined here."""

from django.urls import include, path

from govshare.sharing import urls_requests, urls_scenarios, views_lists

app_name = "sharing"

urlpatterns = [
    path("demands/", views_lists.demand_list, name="demand_list"),
    path("demands/new/", views_lists.demand_create, name="demand_create"),
    path("demands/export/", views_lists.list_export, {"key": "demands"}, name="demand_export"),
    path("demands/import/", views_lists.list_import, {"key": "demands"}, name="demand_import"),
    path("demands/<int:demand_id>/", views_lists.demand_detail, name="demand_detail"),
    path("demands/<int:demand_id>/edit/", views_lists.demand_edit, name="demand_edit"),
    path("demands/<int:demand_id>/answer/", views_lists.demand_action, {"action": "answer"}, name="demand_answer"),
    path(
        "demands/<int:demand_id>/ask-catalogue/",
        views_lists.demand_action,
        {"action": "ask-catalogue"},
        name="demand_ask_catalogue",
    ),
    path("demands/<int:demand_id>/close/", views_lists.demand_action, {"action": "close"}, name="demand_close"),
    path("duties/", views_lists.duty_list, name="duty_list"),
    path("duties/new/", views_lists.duty_create, name="duty_create"),
    path("duties/export/", views_lists.list_export, {"key": "duties"}, name="duty_export"),
    path("duties/import/", views_lists.list_import, {"key": "duties"}, name="duty_import"),
    path("duties/<int:duty_id>/", views_lists.duty_detail, name="duty_detail"),
    path("duties/<int:duty_id>/edit/", views_lists.duty_edit, name="duty_edit"),
    path("duties/<int:duty_id>/fulfil/", views_lists.duty_action, {"action": "fulfil"}, name="duty_fulfil"),
    path("duties/<int:duty_id>/delete/", views_lists.duty_action, {"action": "delete"}, name="duty_delete"),
    path("negative/", views_lists.negative_list, name="negative_list"),
    path("negative/export/", views_lists.list_export, {"key": "negative"}, name="negative_export"),
    path("negative/import/", views_lists.list_import, {"key": "negative"}, name="negative_import"),
    *urls_scenarios.urlpatterns,
    *urls_requests.urlpatterns,
    path("", include("govshare.sharing.urls_grants")),
]
