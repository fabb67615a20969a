"""Permission-scoped reads of information systems, and the system an access token speaks for."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from django.db.models import Max, Q, QuerySet
from django.utils import timezone
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


USE_RECORDED_EVERY = dt.timedelta(minutes=1)


def usable_credentials(now: dt.datetime) -> Q:
    """Credentials that may obtain and use tokens at `now`: not revoked, not past a rotation's overlap, of an
    active system."""
    return Q(revoked_at__isnull=True, system__is_active=True) & (Q(expires_at__isnull=True) | Q(expires_at__gt=now))


def credential_accepts_tokens(application_id: int, *, now: dt.datetime | None = None) -> bool:
    """May this OAuth application obtain a token now? True for an application that is no system's credential (a
    relying party: its own rules apply)."""
    credential = SystemCredential.objects.filter(application_id=application_id)
    if not credential.exists():
        return True
    return credential.filter(usable_credentials(now or timezone.now())).exists()


def note_credential_use(application_id: int, now: dt.datetime) -> None:
    """Remember when a credential was last used (one UPDATE, at most once a minute per credential)."""
    SystemCredential.objects.filter(application_id=application_id).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - USE_RECORDED_EVERY)
    ).update(last_used_at=now)


@dataclass(frozen=True)
class SystemToken:
    """A valid client-credentials access token of an information system: the system, the credential's OAuth
    application and when the token expires (a cache of it must not outlive that)."""

    system: InformationSystem
    application_id: int
    expires: dt.datetime


def system_token(raw_token: str, *, now: dt.datetime | None = None) -> SystemToken | None:
    """The token's system, application and expiry; None for an unknown or expired token, a person's token, a
    revoked credential, one past its rotation overlap, a stopped system."""
    moment = now or timezone.now()
    checksum = hashlib.sha256(raw_token.encode()).hexdigest()
    token = AccessToken.objects.select_related("application").filter(token_checksum=checksum).first()
    if token is None or token.expires <= moment or token.application is None:
        return None
    if token.application.authorization_grant_type != Application.GRANT_CLIENT_CREDENTIALS:
        return None
    credential = (
        SystemCredential.objects.select_related("system")
        .filter(usable_credentials(moment), application=token.application)
        .first()
    )
    if credential is None:
        return None
    note_credential_use(token.application_id, moment)
    return SystemToken(system=credential.system, application_id=token.application_id, expires=token.expires)


def system_for_access_token(raw_token: str, *, now: dt.datetime | None = None) -> InformationSystem | None:
    """The active information system a valid client-credentials access token was issued to (None otherwise)."""
    token = system_token(raw_token, now=now)
    return None if token is None else token.system


def system_register(
    subject: Subject, *, search: str = "", department_id: int | None = None, active: str = ""
) -> QuerySet[InformationSystem]:
    """The information-system inventory (信息系统清单) as the subject may see it: the platform administrator and the
    coordinator every department's, anyone else their department's; with the latest use of any credential."""
    systems = information_systems_for(subject).annotate(last_used_at=Max("credentials__last_used_at"))
    if search:
        systems = systems.filter(Q(name__contains=search) | Q(code__icontains=search))
    if department_id is not None:
        systems = systems.filter(department_id=department_id)
    if active in ("1", "0"):
        systems = systems.filter(is_active=active == "1")
    return systems.order_by("department__code", "code")
