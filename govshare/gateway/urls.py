"""The gateway's pages, mounted at /gateway/ (never under /gateway/v1/: the gateway's handler serves that path)."""

from django.urls import path

from govshare.gateway import views

app_name = "gateway"

urlpatterns = [
    path("apis/", views.api_list, name="apis"),
    path("apis/<int:grant_id>/", views.api_detail, name="api_detail"),
    path("calls/", views.call_list, name="calls"),
    path("key-search/", views.key_search, name="key_search"),
    path("providers/", views.provider_list, name="providers"),
    path("providers/new/", views.provider_create, name="provider_create"),
    path("providers/<int:service_id>/", views.provider_detail, name="provider_detail"),
    path("deliveries/", views.delivery_list, name="deliveries"),
    path("deliveries/<int:delivery_id>/", views.delivery_detail, name="delivery_detail"),
    path("deliveries/<int:delivery_id>/run/", views.delivery_run, name="delivery_run"),
]
