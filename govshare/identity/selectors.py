"""Permission-scoped reads of information systems, and the system an access token speaks for."""

from __future__ import annotations

import hashlib

from django.db.models import QuerySet
from django.utils.translation import gettext_noop
from oauth2_provider.models import AccessToken, Application

from govshare.core.authz import VIEW, Subject, restrict
from govshare.core.errors import NotFound
from govshare.identity.models import InformationSystem, SystemCredential

SYSTEM_NOT_FOUND = gettext_noop("接入系统不存在或无权访问")


def information_systems_for(subject: Subject) -> QuerySet[InformationSystem]:
    return restrict(InformationSystem.objects.select_related("department"), subject, VIEW)


def get_information_system(subject: Subject, pk: int) -> InformationSystem:
    system = information_systems_for(subject).filter(pk=pk).first()
    if system is None:
        raise NotFound(SYSTEM_NOT_FOUND)
    return system


def credentials_of(subject: Subject, system: InformationSystem) -> QuerySet[SystemCredential]:
    get_information_system(subject, system.pk)
    return system.credentials.select_related("application").order_by("-created_at")


def system_for_access_token(raw_token: str) -> InformationSystem | None:
    """The active information system a valid client-credentials access token was issued to (None otherwise: an
    unknown or expired token, a person's token, a revoked credential, a stopped system)."""
    checksum = hashlib.sha256(raw_token.encode()).hexdigest()
    token = AccessToken.objects.select_related("application").filter(token_checksum=checksum).first()
    if token is None or token.is_expired() or token.application is None:
        return None
    if token.application.authorization_grant_type != Application.GRANT_CLIENT_CREDENTIALS:
        return None
    credential = (
        SystemCredential.objects.select_related("system")
        .filter(application=token.application, revoked_at__isnull=True, system__is_active=True)
        .first()
    )
    return credential.system if credential is not None else None
