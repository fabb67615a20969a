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
    path("maintenance/", views_review.maintenance, name="maintenance"),
    path("import/", views_transfer.import_page, name="import"),
    path("import/template/", views_transfer.import_template, name="import_template"),
    path("import/batches/<int:batch_id>/", views_transfer.import_batch, name="import_batch"),
    path("export/", views_transfer.export, name="export"),
]
