from django.urls import path

from govshare.catalog import views, views_resource, views_review, views_revision, views_transfer

app_name = "catalog"

urlpatterns = [
    path("", views.browse, name="browse"),
    path("resources/<int:resource_id>/", views_resource.resource_detail, name="detail"),
    path("resources/new/", views_resource.resource_create, name="create"),
    path("resources/<int:resource_id>/edit/", views_resource.resource_edit, name="edit"),
    path("resources/<int:resource_id>/revision/", views_revision.revision_detail, name="revision"),
    path("resources/<int:resource_id>/revision/edit/", views_revision.revision_edit, name="revision_edit"),
    path("resources/<int:resource_id>/revision/<slug:action>/", views_revision.revision_action, name="revision_action"),
    path("resources/<int:resource_id>/withdraw/confirm/", views_resource.withdraw_confirm, name="withdraw_confirm"),
    path("resources/<int:resource_id>/<slug:action>/", views_resource.resource_action, name="action"),
    path("review/", views_review.review_queue, name="review_queue"),
    path("review/batch/", views_review.review_batch, name="review_batch"),
    path(
        "resources/<int:resource_id>/duplicates/<int:similar_id>/dismiss/",
        views_review.duplicate_dismiss,
        name="duplicate_dismiss",
    ),
    path(
        "resources/<int:resource_id>/duplicates/<int:similar_id>/restore/",
        views_review.duplicate_restore,
        name="duplicate_restore",
    ),
    path("maintenance/", views_review.maintenance, name="maintenance"),
    path("maintenance/entries/", views_review.maintenance_entries, name="maintenance_entries"),
    path("maintenance/entries/export/", views_review.maintenance_export, name="maintenance_export"),
    path("maintenance/entries/<int:resource_id>/remind/", views_review.maintenance_remind, name="maintenance_remind"),
    path("import/", views_transfer.import_page, name="import"),
    path("import/template/", views_transfer.import_template, name="import_template"),
    path("import/batches/<int:batch_id>/", views_transfer.import_batch, name="import_batch"),
    path("export/", views_transfer.export, name="export"),
]
