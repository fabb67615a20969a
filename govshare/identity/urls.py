from django.urls import path

from govshare.identity import views

app_name = "identity"

urlpatterns = [
    path("", views.security, name="security"),
    path("totp/start/", views.totp_start, name="totp_start"),
    path("totp/confirm/", views.totp_confirm, name="totp_confirm"),
    path("totp/disable/", views.totp_disable, name="totp_disable"),
    path("password/", views.password_change, name="password_change"),
]
