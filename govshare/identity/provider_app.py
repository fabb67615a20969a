"""django-oauth-toolkit's app under the name the admin shows. A module of its own: a second AppConfig in apps.py
would stop Django from picking IdentityConfig for govshare.identity."""

from django.utils.translation import gettext_lazy as _
from oauth2_provider.apps import DOTConfig


class OAuthProviderConfig(DOTConfig):
    """The OIDC provider's relying parties are the information systems that sign their users in through the
    platform: the admin's group reads 接入系统, not "Django OAuth Toolkit"."""

    verbose_name = _("接入系统")
