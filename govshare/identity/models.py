from __future__ import annotations

import datetime as dt
from ipaddress import IPv4Network, IPv6Network, ip_network
from typing import TYPE_CHECKING, ClassVar

from django.conf import settings
from django.db import models
from django_otp.models import Device, ThrottlingMixin, TimestampMixin
from django_otp.plugins.otp_totp import models as otp_totp

from govshare.core.authz import SubjectKind
from govshare.core.fields import EncryptedTextField
from govshare.identity.choices import CredentialState, Hosting, ProtectionLevel


class PasswordChangeRequired(models.Model):
    """The user's password was set by an administrator (a temporary password): it must be changed at next login."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name="用户",
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="password_change_required",
    )
    set_at = models.DateTimeField("设置时间", auto_now_add=True)
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="设置人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = "待修改的临时密码"
        verbose_name_plural = "待修改的临时密码"

    def __str__(self) -> str:
        return str(self.user)


class TOTPDevice(TimestampMixin, ThrottlingMixin, Device):  # type: ignore[misc]
    """A user's authenticator app (TOTP, RFC 6238), django-otp's `TOTPDevice` with its shared secret encrypted at
    rest: `key` (hex, as django-otp generates it) is an EncryptedTextField, so the database holds only SM4-GCM
    ciphertext and `govshare rotate_keys` re-encrypts it like every other encrypted field.

    django-otp's own model is concrete (its `key` a plain CharField), so it cannot be subclassed without keeping
    that column: the fields are declared again here, on django-otp's abstract `Device`, `ThrottlingMixin` and
    `TimestampMixin`, and the behaviour is django-otp's own methods, taken over unchanged (verification through
    django_otp.oath.TOTP with tolerance, drift, `last_t` replay protection and throttling; the otpauth:// URL).
    """

    # Device's `user` again, with a related name: django-otp's model (still installed, see settings) keeps the
    # default one.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="用户",
        on_delete=models.CASCADE,
        related_name="totp_devices",
        help_text="The user that this device belongs to.",
    )
    key = EncryptedTextField(
        "密钥",
        default=otp_totp.default_key,
        validators=[otp_totp.key_validator],
        help_text="A hex-encoded secret key of up to 40 bytes, stored encrypted (SM4-GCM).",
    )
    step = models.PositiveSmallIntegerField(default=30, help_text="The time step in seconds.")
    t0 = models.BigIntegerField(default=0, help_text="The Unix time at which to begin counting steps.")
    digits = models.PositiveSmallIntegerField(
        choices=[(6, 6), (8, 8)], default=6, help_text="The number of digits to expect in a token."
    )
    tolerance = models.PositiveSmallIntegerField(
        default=1, help_text="The number of time steps in the past or future to allow."
    )
    drift = models.SmallIntegerField(
        default=0, help_text="The number of time steps the prover is known to deviate from our clock."
    )
    last_t = models.BigIntegerField(
        default=-1,
        help_text="The t value of the latest verified token. The next token must be at a higher time step.",
    )

    if TYPE_CHECKING:  # django-otp is untyped: its manager (Device.objects) is given to the type checker here
        _default_manager: ClassVar[models.Manager[TOTPDevice]]

    # django-otp's implementation, unchanged (they read only the fields above and the mixins' methods).
    bin_key = otp_totp.TOTPDevice.bin_key
    verify_token = otp_totp.TOTPDevice.verify_token
    get_throttle_factor = otp_totp.TOTPDevice.get_throttle_factor
    config_url = otp_totp.TOTPDevice.config_url
    _read_str_from_settings = otp_totp.TOTPDevice._read_str_from_settings

    class Meta:
        verbose_name = "TOTP 验证器"
        verbose_name_plural = "TOTP 验证器"


class InformationSystem(models.Model):
    """A consumer department's information system (接入系统): the technical identity that calls the platform for the
    data its department was granted. Never a person: it holds no staff role, signs in with OAuth2 client
    credentials (`SystemCredential`), and its calls are its department's, bound to that department's grants."""

    code = models.CharField("系统编码", max_length=40, unique=True, help_text="字母、数字、连字符，如 ybj-jsxt")
    name = models.CharField("系统名称", max_length=100)
    department = models.ForeignKey(
        "accounts.Department",
        verbose_name="所属部门",
        on_delete=models.PROTECT,
        related_name="information_systems",
    )
    purpose = models.TextField("用途说明", blank=True)
    contact_name = models.CharField("技术联系人", max_length=50, blank=True)
    contact_phone = models.CharField("联系电话", max_length=20, blank=True)
    protection_level = models.CharField(
        "等保级别", max_length=8, choices=ProtectionLevel.choices, default=ProtectionLevel.UNRATED
    )
    hosting = models.CharField("部署方式", max_length=16, choices=Hosting.choices, default=Hosting.UNKNOWN)
    # The addresses the system calls the gateway from (the government network's), one IPv4/IPv6 address or CIDR
    # block per line; empty: any address.
    allowed_networks = models.TextField(
        "调用来源地址", blank=True, help_text="每行一个 IP 地址或网段（CIDR），留空表示不限"
    )
    is_active = models.BooleanField("启用", default=True)
    deactivated_at = models.DateTimeField("停用时间", null=True, blank=True)
    deactivate_reason = models.CharField("停用原因", max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="登记人", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField("登记时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    # govshare.core.authz.Subject: a machine client, never a person.
    subject_kind = SubjectKind.SYSTEM

    class Meta:
        verbose_name = "接入系统"
        verbose_name_plural = "接入系统"
        ordering = ["department_id", "code"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(code__regex=r"^[A-Za-z0-9][A-Za-z0-9-]{1,39}$"),
                name="identity_system_code_form",
                violation_error_message="系统编码应为 2–40 位字母、数字或连字符，且以字母或数字开头",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"

    def has_role(self, *roles: str) -> bool:
        return False  # staff roles are people's; a system's reach is its department's grants

    def networks(self) -> list[IPv4Network | IPv6Network]:
        """The allow-list as networks (the services check every line when it is saved)."""
        return [ip_network(line.strip(), strict=False) for line in self.allowed_networks.splitlines() if line.strip()]

    @property
    def audit_name(self) -> str:
        """How the audit trail names the system as the actor of its calls."""
        return f"system:{self.code}"


class SystemCredential(models.Model):
    """One OAuth2 client-credentials application of an information system. Revoking it replaces the client secret
    with one nobody knows and deletes its tokens; the row stays for the audit trail.

    Rotation issues a successor and gives this one an `expires_at`: until then both work (the system switches
    without downtime), from then on neither a new token nor an old one is accepted for it (checked at token issue
    and at each use, whatever ran or not), and `end_expired_credentials` revokes it for good."""

    system = models.ForeignKey(
        InformationSystem, verbose_name="接入系统", on_delete=models.PROTECT, related_name="credentials"
    )
    application = models.OneToOneField(
        "oauth2_provider.Application",
        verbose_name="OAuth2 客户端",
        on_delete=models.PROTECT,
        related_name="system_credential",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="签发人", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField("签发时间", auto_now_add=True)
    revoked_at = models.DateTimeField("吊销时间", null=True, blank=True)
    expires_at = models.DateTimeField("过期时间", null=True, blank=True, help_text="轮换后旧凭证的过渡期截止时间")
    replaced_by = models.OneToOneField(
        "self",
        verbose_name="轮换后的新凭证",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="replaces",
    )
    # The latest token issued to it or call made with one (at most once a minute written): the inventory's signal
    # of a zombie system.
    last_used_at = models.DateTimeField("最近使用时间", null=True, blank=True)

    class Meta:
        verbose_name = "接入系统凭证"
        verbose_name_plural = "接入系统凭证"
        ordering = ["system_id", "-created_at"]

    def __str__(self) -> str:
        return f"{self.system} · {self.application_id}"

    def state_at(self, now: dt.datetime) -> CredentialState:
        if self.revoked_at is not None:
            return CredentialState.REVOKED
        if self.expires_at is not None:
            return CredentialState.EXPIRED if self.expires_at <= now else CredentialState.ROTATING
        return CredentialState.ACTIVE

    def usable_at(self, now: dt.datetime) -> bool:
        return self.state_at(now) in (CredentialState.ACTIVE, CredentialState.ROTATING)
