from django.urls import include, path

app_name = "sharing"

urlpatterns = [
    path("", include("govshare.sharing.urls_grants")),
]
