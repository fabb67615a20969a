from django.urls import path

from govshare.identity import views_systems as views

app_name = "systems"

urlpatterns = [
    path("", views.system_list, name="system_list"),
    path("new/", views.system_create, name="system_create"),
    path("<int:system_id>/", views.system_detail, name="system_detail"),
    path("<int:system_id>/edit/", views.system_edit, name="system_edit"),
    path("<int:system_id>/deactivate/", views.system_deactivate, name="system_deactivate"),
    path("<int:system_id>/credentials/", views.credential_issue, name="credential_issue"),
    path("<int:system_id>/credentials/<int:credential_id>/rotate/", views.credential_rotate, name="credential_rotate"),
    path("<int:system_id>/credentials/<int:credential_id>/revoke/", views.credential_revoke, name="credential_revoke"),
]
