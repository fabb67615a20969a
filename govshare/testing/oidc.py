"""The OpenID Connect provider and the TOTP second factor as a client sees them: the relying party's redirect URI,
a PKCE pair, an authorization code through the consent page and its exchange for tokens; TOTP codes computed from
a device's key as an authenticator app does, and an enrolled device."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import time
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from django.test import Client
from django_otp.oath import TOTP
from oauth2_provider.models import Application

from govshare.accounts.models import User
from govshare.identity import services
from govshare.identity.models import TOTPDevice

REDIRECT_URI = "https://ybj.example.gov.cn/oidc/callback"
DEFAULT_SCOPE = "openid profile department roles"


def pkce_pair() -> tuple[str, str]:
    """A PKCE code verifier and its S256 challenge."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    return verifier, challenge


def authorize_query(app: Application, challenge: str, scope: str = DEFAULT_SCOPE, **extra: str) -> str:
    params = {
        "response_type": "code",
        "client_id": app.client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": scope,
        "state": "st-1",
        "nonce": "n-1",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **extra,
    }
    return "/o/authorize/?" + urlencode(params)


def consent(client: Client, url: str) -> Any:
    """Open the consent page at `url` and allow it."""
    page = client.get(url)
    assert page.status_code == 200, page.content.decode()
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page.content.decode()))
    return client.post("/o/authorize/", {**fields, "allow": "同意"})


def authorization_code(client: Client, app: Application, challenge: str, scope: str = DEFAULT_SCOPE) -> str:
    """The code the provider redirects back with once the signed-in `client` consented."""
    answer = consent(client, authorize_query(app, challenge, scope))
    assert answer.status_code == 302
    query = parse_qs(urlsplit(answer["Location"]).query)
    assert query["state"] == ["st-1"]
    return query["code"][0]


def exchange_code(client: Client, app: Application, secret: str, code: str, verifier: str) -> Any:
    """The token endpoint's answer to the authorization code."""
    return client.post(
        "/o/token/",
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "client_id": app.client_id,
            "client_secret": secret,
            "code_verifier": verifier,
        },
    )


def code_for(device: TOTPDevice, steps_ahead: int = 0) -> str:
    """The device's TOTP code now (or `steps_ahead` time steps later)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():0{device.digits}d}"


def wrong_code(device: TOTPDevice) -> str:
    """A six-digit code the device accepts at no time near now."""
    right = {code_for(device, n) for n in (-1, 0, 1, 2)}
    return next(c for c in ("000000", "111111", "222222", "333333", "444444") if c not in right)


def enrol(user: User) -> TOTPDevice:
    """A confirmed TOTP device of the user."""
    device = services.start_totp_enrolment(user)
    services.confirm_totp_enrolment(user, code_for(device))
    device.refresh_from_db()
    return device
