from django.urls import path

from govshare.accounts import calendar_views, views

app_name = "accounts"

urlpatterns = [
    path("tokens/", views.tokens, name="tokens"),
    path("tokens/<int:token_id>/revoke/", views.revoke_token, name="revoke_token"),
    path("role-grants/", views.role_grants, name="role_grants"),
    path("role-grants/<int:grant_id>/decide/", views.decide_role_grant, name="decide_role_grant"),
    path("calendar/", calendar_views.calendar, name="calendar"),
    path("calendar/import/", calendar_views.calendar_import, name="calendar_import"),
    path("calendar/<int:year>/", calendar_views.calendar_year, name="calendar_year"),
    path("calendar/<int:year>/export/", calendar_views.calendar_export, name="calendar_export"),
]
