"""Attack: the platform administrator registers a client-credentials application "owned" by someone else (the
auditor, the security officer, a department's administrator) and uses its `api` token as that person: the audit
log, grading decisions, the department's data, all recorded under the victim's name.

A client-credentials token has no person behind it, so the API refuses it whoever the application's owner is;
an authorisation-code token acts as the person who signed in and consented, never as the application's owner."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from oauth2_provider.models import Application

from govshare import testing
from govshare.accounts.choices import Role
from govshare.accounts.models import User
from govshare.audit.models import AuditLog
from govshare.grading import services as grading_services
from govshare.identity import services
from govshare.identity.auth import MACHINE_CLIENT_REFUSED
from govshare.testing.api import bearer_header
from govshare.testing.oidc import authorization_code, exchange_code, pkce_pair

pytestmark = pytest.mark.django_db


def _machine_token(owner: User | None, scope: str = "api") -> str:
    """A client-credentials token of an application whose owner column names `owner` (as applications registered
    with `oidc_client --owner` before this release do; the services no longer set it)."""
    app, secret = services.register_client(
        services.ClientInput(name="前置机", grant_type=Application.GRANT_CLIENT_CREDENTIALS), actor=None
    )
    Application.objects.filter(pk=app.pk).update(user=owner)
    answer = Client().post(
        "/o/token/",
        {"grant_type": "client_credentials", "client_id": app.client_id, "client_secret": secret, "scope": scope},
    )
    assert answer.status_code == 200, answer.content
    return str(answer.json()["access_token"])


def test_a_machine_token_of_an_application_owned_by_the_auditor_cannot_read_the_audit_log() -> None:
    auditor = testing.make_user(Role.AUDITOR, username="auditor")
    token = _machine_token(auditor)
    for path in ("/api/audit/logs", "/api/audit/logs/export", "/api/audit/chain", "/api/accounts/me"):
        answer = Client().get(path, headers=bearer_header(token))
        assert answer.status_code == 401, path
        assert answer.json() == {"detail": MACHINE_CLIENT_REFUSED, "errors": []}
    assert "/gateway/v1/" in MACHINE_CLIENT_REFUSED


def test_a_machine_token_owned_by_the_security_officer_cannot_decide_a_grading_change(department) -> None:  # type: ignore[no-untyped-def]
    officer = testing.make_user(Role.SECURITY_OFFICER, username="security")
    author = testing.make_user(Role.CATALOG_ADMIN, department=department)
    resource = testing.make_published_resource(department)
    change = grading_services.propose_grading_change(
        resource, to_grade="important", to_level="L3", reason="含个人信息", actor=author
    )
    token = _machine_token(officer)
    answer = Client().post(
        f"/api/grading/changes/{change.pk}/approve",
        '{"note": "同意"}',
        content_type="application/json",
        headers=bearer_header(token),
    )
    assert answer.status_code == 401
    change.refresh_from_db()
    assert change.status == "pending"
    assert not AuditLog.objects.filter(actor=officer, action__startswith="grading.").exists()


def test_a_machine_token_owned_by_a_department_administrator_reaches_nothing_of_the_department(department) -> None:  # type: ignore[no-untyped-def]
    admin = testing.make_user(Role.CATALOG_ADMIN, department=department, username="gaj_admin")
    token = _machine_token(admin)
    answer = Client().post(f"/api/accounts/departments/{department.code}/maintenance", headers=bearer_header(token))
    assert answer.status_code == 401
    department.refresh_from_db()
    assert department.last_full_maintenance_at is None
    assert Client().get("/api/catalog/resources", headers=bearer_header(token)).status_code == 401


def test_a_machine_token_without_an_owner_is_refused_the_same_way() -> None:
    answer = Client().get("/api/accounts/me", headers=bearer_header(_machine_token(None)))
    assert (answer.status_code, answer.json()["detail"]) == (401, MACHINE_CLIENT_REFUSED)


def test_a_refused_machine_token_is_not_counted_as_a_wrong_token(settings) -> None:  # type: ignore[no-untyped-def]
    settings.GOVSHARE = settings.GOVSHARE.model_copy(update={"api_token_failure_limit": 2})
    token = _machine_token(None)
    for _ in range(3):
        assert Client().get("/api/accounts/me", headers=bearer_header(token)).status_code == 401
    # Genuine but personless: the address is not locked out as if it were guessing.
    assert Client().get("/api/accounts/me", headers=bearer_header(token)).json()["detail"] == MACHINE_CLIENT_REFUSED


def test_an_authorization_code_token_acts_as_the_person_who_consented_not_the_owner(client_app, catalog_admin) -> None:  # type: ignore[no-untyped-def]
    auditor = testing.make_user(Role.AUDITOR, username="auditor")
    app, secret = client_app
    Application.objects.filter(pk=app.pk).update(user=auditor)
    app.refresh_from_db()
    client = Client()
    client.force_login(catalog_admin)
    verifier, challenge = pkce_pair()
    token = exchange_code(
        client, app, secret, authorization_code(client, app, challenge, scope="openid api"), verifier
    ).json()
    me = Client().get("/api/accounts/me", headers=bearer_header(token["access_token"]))
    assert me.json()["username"] == "gaj_admin"
    assert Client().get("/api/audit/logs", headers=bearer_header(token["access_token"])).status_code == 403


def test_the_back_office_cannot_name_an_owner_for_a_client(platform_admin) -> None:  # type: ignore[no-untyped-def]
    auditor = testing.make_user(Role.AUDITOR, username="auditor")
    client = Client()
    client.force_login(platform_admin)
    data = {
        "name": "医保局前置机",
        "authorization_grant_type": Application.GRANT_CLIENT_CREDENTIALS,
        "redirect_uris": "",
        "user": auditor.pk,  # not a field of the form any more: ignored
    }
    page = client.post("/admin/oauth2_provider/application/add/", data, follow=True).content.decode()
    registered = Application.objects.get(name="医保局前置机")
    assert registered.user_id is None
    assert "client_secret" in page
    assert "不代表任何人" in client.get("/admin/oauth2_provider/application/add/").content.decode()


def test_the_command_refuses_an_owner_and_registers_nothing() -> None:
    testing.make_user(Role.AUDITOR, username="auditor")
    with pytest.raises(CommandError, match="--owner 已不再支持"):
        call_command(
            "oidc_client", "--name", "医保局前置机", "--client-credentials", "--owner", "auditor", stdout=io.StringIO()
        )
    assert not Application.objects.exists()


def test_the_command_says_a_client_credentials_client_acts_as_nobody() -> None:
    out = io.StringIO()
    call_command("oidc_client", "--name", "医保局前置机", "--client-credentials", stdout=out)
    assert "不代表任何人" in out.getvalue()
    assert Application.objects.get(name="医保局前置机").user_id is None
