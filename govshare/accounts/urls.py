from django.urls import path

from govshare.accounts import views

app_name = "accounts"

urlpatterns = [
    path("tokens/", views.tokens, name="tokens"),
    path("tokens/<int:token_id>/revoke/", views.revoke_token, name="revoke_token"),
    path("role-grants/", views.role_grants, name="role_grants"),
    path("role-grants/<int:grant_id>/decide/", views.decide_role_grant, name="decide_role_grant"),
]
