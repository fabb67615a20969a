from __future__ import annotations

from pathlib import Path

import pytest
from oauth2_provider.models import Application

from govshare.identity import services
from govshare.identity.keys import generate_signing_key
from govshare.testing.oidc import REDIRECT_URI


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
