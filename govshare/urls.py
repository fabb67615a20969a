from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from govshare.api import api
from govshare.core import home
from govshare.identity import views as identity_views

admin.site.site_header = "govshare 后台管理"
admin.site.site_title = "govshare"

urlpatterns = [
    path("api/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    # The admin's login with the second-factor step (before admin.site.urls, which it shadows).
    path("admin/login/", identity_views.AdminLoginView.as_view(), name="admin_login"),
    path("admin/", admin.site.urls),
    path("login/", identity_views.LoginView.as_view(), name="login"),
    path("login/code/", identity_views.login_code, name="login_code"),
    path("o/", include("govshare.identity.oidc_urls", namespace="oauth2_provider")),
    path("account/security/", include("govshare.identity.urls")),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("catalog/", include("govshare.catalog.urls")),
    path("account/", include("govshare.accounts.urls")),
    path("audit/", include("govshare.audit.urls")),
    path("grading/", include("govshare.grading.urls")),
    path("datasets/", include("govshare.datasets.urls")),
    path("notifications/", include("govshare.notifications.urls")),
    path("jobs/", include("govshare.jobs.urls")),
    path("systems/", include("govshare.identity.urls_systems")),
    path("sharing/", include("govshare.sharing.urls")),
    # The gateway's pages; /gateway/v1/ itself is served by the gateway's own handler (govshare.gateway.handler).
    path("gateway/", include("govshare.gateway.urls")),
    # Everyone lands on their home (工作台): what needs them, by role (govshare.core.home).
    path("", home.home, name="home"),
    # Asked for by browsers on pages without the base template's icon link (admin, API docs, files): not a 404.
    path("favicon.ico", RedirectView.as_view(url=static("govshare/favicon.ico"), permanent=False), name="favicon"),
]
