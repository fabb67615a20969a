from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from govshare.api import api

admin.site.site_header = "govshare 后台管理"
admin.site.site_title = "govshare"

urlpatterns = [
    path("api/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("login/", auth_views.LoginView.as_view(template_name="registration/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("catalog/", include("govshare.catalog.urls")),
    path("account/", include("govshare.accounts.urls")),
    path("audit/", include("govshare.audit.urls")),
    path("", RedirectView.as_view(pattern_name="catalog:browse", permanent=False), name="home"),
]
