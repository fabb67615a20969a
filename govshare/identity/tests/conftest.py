from __future__ import annotations

import base64
import hashlib
import secrets
from pathlib import Path

import pytest
from oauth2_provider.models import Application

from govshare.identity import services
from govshare.identity.keys import generate_signing_key

REDIRECT_URI = "https://ybj.example.gov.cn/oidc/callback"


@pytest.fixture(scope="session")
def signing_key_pem(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = Path(tmp_path_factory.mktemp("oidc")) / "signing-key.pem"
    generate_signing_key(path)
    return path.read_text()


@pytest.fixture(autouse=True)
def _signing_key(settings, signing_key_pem: str) -> None:  # type: ignore[no-untyped-def]
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "OIDC_RSA_PRIVATE_KEY": signing_key_pem}


@pytest.fixture
def client_app(db) -> tuple[Application, str]:  # type: ignore[no-untyped-def]
    return services.register_client(
        services.ClientInput(name="医保局业务系统", redirect_uris=[REDIRECT_URI]), actor=None
    )


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    return verifier, challenge
