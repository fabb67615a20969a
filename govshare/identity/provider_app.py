"""django-oauth-toolkit's app under the name the admin shows. A module of its own: a second AppConfig in apps.py
would stop Django from picking IdentityConfig for govshare.identity."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from oauth2_provider.apps import DOTConfig


class OAuthProviderConfig(DOTConfig):
    """The OIDC provider's relying parties are the information systems that sign their users in through the
    platform: the admin's group reads 接入系统, not "Django OAuth Toolkit"."""

    verbose_name = _("接入系统")

    def ready(self) -> None:
        super().ready()
        # The library's Application has no verbose name (the admin reads "Applications" in every language). Named
        # here rather than by a proxy model (which would list it under another app) or a fork. Only the display
        # names change: the migration autodetector reads Meta's original attributes, so no migration follows.
        application = self.get_model("Application")
        application._meta.verbose_name = _("OAuth2 客户端")
        application._meta.verbose_name_plural = pgettext_lazy("复数", "OAuth2 客户端")
