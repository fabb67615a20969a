from django.urls import path

from govshare.audit import views

app_name = "audit"

urlpatterns = [
    path("", views.log_list, name="log_list"),
    path("export.csv", views.log_export, name="export"),
    path("verify/", views.verify, name="verify"),
]
