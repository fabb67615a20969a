from django.urls import path

from govshare.datasets import views

app_name = "datasets"

urlpatterns = [
    path("resources/<int:resource_id>/", views.resource_data, name="resource_data"),
    path("resources/<int:resource_id>/sources/new/<slug:kind>/", views.source_create, name="source_create"),
    path("resources/<int:resource_id>/preview/", views.data_preview, name="preview"),
    path("resources/<int:resource_id>/download/", views.data_download, name="download"),
    path("sources/<int:source_id>/mapping/", views.source_mapping, name="source_mapping"),
    path("sources/<int:source_id>/upload/", views.source_upload, name="source_upload"),
    path("sources/<int:source_id>/load/", views.source_load, name="source_load"),
    path("sources/<int:source_id>/load-sample/", views.source_load_sample, name="source_load_sample"),
    path("loads/<int:load_id>/", views.load_detail, name="load_detail"),
    path("loads/<int:load_id>/retry/", views.load_retry, name="load_retry"),
    path("loads/<int:load_id>/rejects/", views.load_rejects, name="load_rejects"),
]
