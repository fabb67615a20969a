"""The platform as an OpenID Connect provider: which claims an ID token carries, which grants are allowed,
and the audit row of every sign-in through it (the token endpoint's rows are written in signals.py)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from oauth2_provider.oauth2_validators import OAuth2Validator

from govshare.audit.services import record_action
from govshare.identity.selectors import credential_accepts_tokens

# Authorisation code (with PKCE) for people, client credentials for consumer systems; refresh keeps a session.
# The password and implicit grants would bypass the login page (second factor, lockout): never accepted.
ALLOWED_GRANT_TYPES = frozenset({"authorization_code", "refresh_token", "client_credentials"})
PLATFORM_CLAIMS = ("sub", "name", "preferred_username", "department", "roles")


class PlatformValidator(OAuth2Validator):
    oidc_claim_scope = {
        **OAuth2Validator.oidc_claim_scope,
        "department": "department",
        "roles": "roles",
    }

    def get_additional_claims(self, request: Any) -> dict[str, Any]:
        user = request.user
        department = user.department
        return {
            "name": user.full_name or user.username,
            "preferred_username": user.username,
            "department": {"code": department.code, "name": department.name} if department else None,
            "roles": sorted(user.role_set()),
        }

    def get_discovery_claims(self, request: Any) -> list[str]:
        return list(PLATFORM_CLAIMS)

    def authenticate_client(self, request: Any, *args: Any, **kwargs: Any) -> bool:
        """The client's secret, and for an information system's credential: not revoked, not past its rotation's
        overlap, of an active system (the check does not wait for `end_expired_credentials` to run)."""
        if not super().authenticate_client(request, *args, **kwargs):
            return False
        client = getattr(request, "client", None)
        return client is None or credential_accepts_tokens(client.pk)

    def validate_grant_type(
        self, client_id: str, grant_type: str, client: Any, request: Any, *args: Any, **kwargs: Any
    ) -> bool:
        if grant_type not in ALLOWED_GRANT_TYPES:
            return False
        return bool(super().validate_grant_type(client_id, grant_type, client, request, *args, **kwargs))

    def save_authorization_code(
        self, client_id: str, code: dict[str, Any], request: Any, *args: Any, **kwargs: Any
    ) -> None:
        """A user signs in to a relying party: the grant and its audit row commit together."""
        with transaction.atomic():
            super().save_authorization_code(client_id, code, request, *args, **kwargs)
            record_action(
                request.user,
                "identity.oidc.authorize",
                request.client,
                client_id=client_id,
                scopes=sorted(request.scopes or []),
                redirect_uri=request.redirect_uri,
            )
