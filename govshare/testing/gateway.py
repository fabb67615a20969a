"""The gateway in tests: a consumer system with a real client-credentials token (from the platform's own token
endpoint), a provider's resource with real data and its key index, a grant issued through the service, and a client
that calls the gateway's WSGI application as a server would (method, path, headers, body)."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from wsgiref.util import setup_testing_defaults

from django.test import Client

from govshare import testing
from govshare.accounts.choices import Role
from govshare.accounts.models import Department
from govshare.catalog.models import Resource
from govshare.datasets import serving
from govshare.datasets.models import Dataset
from govshare.gateway import callers, services
from govshare.gateway.handler import gateway_app
from govshare.identity import services as identity_services
from govshare.identity.models import InformationSystem, SystemCredential
from govshare.sharing.models import Scenario
from govshare.testing.share_requests import scenario_with_system
from govshare.testing.sharing import loaded_resource


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict[str, Any]:
        value = json.loads(self.body)
        assert isinstance(value, dict)
        return value

    @property
    def code(self) -> str:
        return str(self.json.get("error", {}).get("code", "OK"))


@dataclass
class GatewayClient:
    token: str = ""
    headers: dict[str, str] = field(default_factory=dict)

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        raw: bytes | None = None,
        remote_addr: str = "",
        query: dict[str, str] | None = None,
        **headers: str,
    ) -> Answer:
        data = raw if raw is not None else (b"" if body is None else json.dumps(body, ensure_ascii=False).encode())
        environ: dict[str, Any] = {
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "CONTENT_LENGTH": str(len(data)),
            "CONTENT_TYPE": "application/json",
            "wsgi.input": io.BytesIO(data),
            "QUERY_STRING": urlencode(query or {}),
        }
        setup_testing_defaults(environ)
        environ["REMOTE_ADDR"] = remote_addr or "127.0.0.1"
        if self.token:
            environ["HTTP_AUTHORIZATION"] = f"Bearer {self.token}"
        for name, value in {**self.headers, **headers}.items():
            environ["HTTP_" + name.upper().replace("-", "_")] = value
        started: dict[str, Any] = {}

        def start_response(status: str, response_headers: list[tuple[str, str]]) -> None:
            started["status"] = int(status.split()[0])
            started["headers"] = dict(response_headers)

        chunks = gateway_app(environ, start_response)
        return Answer(started["status"], started["headers"], b"".join(chunks))

    def post(self, path: str, body: Any = None, **kwargs: Any) -> Answer:
        return self.call("POST", path, body, **kwargs)

    def lookup(self, resource: Resource | int, body: dict[str, Any]) -> Answer:
        pk = resource if isinstance(resource, int) else resource.pk
        return self.post(f"/gateway/v1/resources/{pk}/lookup", body)

    def verify(self, resource: Resource | int, body: dict[str, Any]) -> Answer:
        pk = resource if isinstance(resource, int) else resource.pk
        return self.post(f"/gateway/v1/resources/{pk}/verify", body)


def system_token(credential: SystemCredential, secret: str) -> str:
    """An access token from the platform's token endpoint, by the client-credentials grant."""
    answer = Client().post(
        "/o/token/",
        {"grant_type": "client_credentials", "client_id": credential.application.client_id, "client_secret": secret},
    )
    assert answer.status_code == 200, answer.content
    return str(answer.json()["access_token"])


def credential_of(system: InformationSystem) -> tuple[SystemCredential, str]:
    admin = testing.make_user(Role.CATALOG_ADMIN, department=system.department)
    return identity_services.issue_system_credential(system, actor=admin)


def served_resource(provider: Department, tmp_path: Path, **kwargs: Any) -> Resource:
    """A provider's resource with PEOPLE_ROWS loaded and its key index built."""
    resource = loaded_resource(provider, tmp_path, **kwargs)
    serving.build_serving_index(Dataset.objects.get(resource=resource))
    return resource


@dataclass
class Consumer:
    scenario: Scenario
    system: InformationSystem
    credential: SystemCredential
    client: GatewayClient


def consumer_system(department: Department, *, name: str = "医保参保资格核验") -> Consumer:
    """A consumer department's approved scenario, the system serving it, a credential and a client holding a token."""
    scenario, system = scenario_with_system(department, name=name)
    credential, secret = credential_of(system)
    return Consumer(scenario, system, credential, GatewayClient(token=system_token(credential, secret)))


def forget_caches() -> None:
    """Each test starts without what an earlier one's calls cached in this process."""
    callers.forget_all()
    services.forget_cached()
    serving.forget_served()
