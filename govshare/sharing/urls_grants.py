from django.urls import path

from govshare.sharing import views_grants

urlpatterns = [
    path("grants/", views_grants.grant_list, name="grants"),
    path("grants/<int:grant_id>/", views_grants.grant_detail, name="grant_detail"),
    path("grants/<int:grant_id>/revoke/", views_grants.grant_revoke, name="grant_revoke"),
    path("grants/<int:grant_id>/confirm/", views_grants.grant_confirm, name="grant_confirm"),
]
