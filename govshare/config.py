"""The one typed settings module: every setting, its default and its environment variable.

Values are read from the environment once at start-up; a bad value stops the process with a message
that names the variable and what is wrong with it (fail fast, never a half-configured platform).
"""

from __future__ import annotations

import re
import sys
from email.utils import parseaddr
from ipaddress import ip_network
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import unquote, urlsplit

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict, SettingsError

SOURCE_ROOT = Path(__file__).resolve().parent.parent
_RATE = r"^[1-9][0-9]*/(s|sec|m|min|h|hour|d|day)$"
CACHE_TABLE = "govshare_cache"
INSECURE_DEV_SECRET = "govshare-insecure-development-key-do-not-use-in-production"  # noqa: S105
# A host name of source_allowed_hosts, or *.name for the name's subdomains.
_ALLOWED_SOURCE_HOST = re.compile(r"^(\*\.)?[\w-]+(\.[\w-]+)*\.?$")
_EMAIL_URL = r"^(console://|(smtp|smtp\+tls|smtps)://\S+)$"


class GovshareSettings(BaseSettings):
    """Settings read from `GOVSHARE_*` environment variables (and `DATABASE_URL`)."""

    model_config = SettingsConfigDict(env_prefix="GOVSHARE_", extra="ignore", frozen=True)

    debug: bool = Field(False, description="Django debug mode; never in production.")
    production: bool = Field(False, description="Refuse to start with the default secret key or debug on.")
    secret_key: str = Field(INSECURE_DEV_SECRET, min_length=32, description="Django SECRET_KEY.")
    data_dir: Path = Field(SOURCE_ROOT / "var", description="Where SQLite, datasets and uploads live.")
    database_url: str = Field(
        "",
        validation_alias="DATABASE_URL",
        description="Metadata database; empty means SQLite at <data_dir>/govshare.sqlite3.",
    )
    allowed_hosts: Annotated[list[str], NoDecode] = Field(
        ["localhost", "127.0.0.1", "[::1]"], description="Host names served."
    )
    csrf_trusted_origins: Annotated[list[str], NoDecode] = Field(
        [], description="Origins trusted for CSRF (https://…)."
    )
    language_code: Literal["zh-hans", "en"] = Field("zh-hans", description="Default UI language.")
    time_zone: str = Field("Asia/Shanghai", description="Time zone of dates shown to users.")
    page_size: int = Field(20, ge=1, le=500, description="Default page size of lists and search.")
    max_page_size: int = Field(200, ge=1, le=5000, description="Largest page size a client may ask for.")
    import_max_bytes: int = Field(
        20 * 1024 * 1024, ge=1024, description="Largest catalogue import file accepted (bytes)."
    )
    import_max_rows: int = Field(50_000, ge=1, description="Most resource rows one catalogue import file may hold.")
    xlsx_max_member_bytes: int = Field(
        2 * 1024**3,
        ge=1024**2,
        description="Largest size one member of an uploaded .xlsx (a zip) may expand to; a sheet is read row by row.",
    )
    xlsx_max_part_bytes: int = Field(
        128 * 1024**2,
        ge=1024**2,
        description="Largest expanded size of an .xlsx's shared strings and styles (the strings are kept in memory).",
    )
    xlsx_max_total_bytes: int = Field(
        4 * 1024**3, ge=1024**2, description="Largest size all members of an uploaded .xlsx may expand to together."
    )
    xlsx_max_ratio: int = Field(
        100,
        ge=10,
        le=1000,
        description="Most times a member of an uploaded .xlsx over 1 MiB, or the whole archive, may expand.",
    )
    duplicate_threshold: float = Field(
        0.6, gt=0, le=1, description="Similarity from which two entries are listed as near-duplicates."
    )
    sample_retention_days: int = Field(
        7,
        ge=1,
        le=365,
        description=(
            "Days a sample file kept from a file source's mapping page (personal data) stays if it is not loaded."
        ),
    )
    maintenance_interval_days: int = Field(
        92, ge=1, description="A department whose last full catalogue maintenance is older is overdue."
    )
    session_age_seconds: int = Field(8 * 3600, ge=60, description="Signed-in session lifetime.")
    oidc_private_key: str = Field(
        "",
        description="PEM RSA private key that signs OIDC ID tokens; empty means <data_dir>/oidc/signing-key.pem.",
    )
    oidc_issuer: str = Field(
        "", description="Issuer of ID tokens (https://host/o) behind a proxy; empty means taken from the request."
    )
    oidc_token_seconds: int = Field(
        3600, ge=60, le=86_400, description="Lifetime of the access and ID tokens issued to relying parties."
    )
    encryption_keys: str = Field(
        "",
        description=(
            "Encryption key ring `id:base64,…` (active first; 48-byte keys); empty means <data_dir>/keys/keyring.json."
        ),
    )
    login_failure_limit: int = Field(
        5,
        ge=1,
        le=100,
        description="Failed logins for one account, or from one address, after which it is locked.",
    )
    login_lockout_minutes: int = Field(
        15, ge=1, le=24 * 60, description="Minutes a locked account or address stays locked (also the counting window)."
    )
    api_rate_anonymous: str = Field(
        "60/min", pattern=_RATE, description="API requests allowed per address without signing in (n/s|min|hour|day)."
    )
    api_rate_user: str = Field(
        "1200/min", pattern=_RATE, description="API requests allowed per signed-in user or token (n/s|min|hour|day)."
    )
    api_token_failure_limit: int = Field(
        20,
        ge=1,
        le=10_000,
        description=(
            "Wrong API bearer tokens (or OIDC client secrets/access tokens) from one address after which every "
            "token from it is refused (429)."
        ),
    )
    api_token_failure_minutes: int = Field(
        15, ge=1, le=24 * 60, description="Window of api_token_failure_limit, and how long the refusal lasts."
    )
    api_token_days: int = Field(
        30, ge=1, le=3650, description="Lifetime of a new personal API token when its creator gives no expiry (days)."
    )
    api_token_max_days: int = Field(
        365, ge=1, le=3650, description="Longest lifetime a personal API token may be given (days)."
    )
    cache_url: str = Field(
        "db://",
        pattern=r"^(db://|locmem://|file://.*)$",
        description=(
            "Cache shared by all processes (API rate limits): db:// the metadata database's govshare_cache table, "
            "file:///path a directory (file:// is <data_dir>/cache), locmem:// one process only (tests)."
        ),
    )
    ssl_redirect: bool = Field(
        True, description="In production, redirect plain HTTP to HTTPS (off when a proxy already does)."
    )
    proxy_ssl_header: str = Field(
        "",
        pattern=r"^$|^[A-Za-z][A-Za-z0-9-]*$",
        description="Header by which a TLS-terminating proxy says the request was HTTPS (e.g. X-Forwarded-Proto).",
    )
    hsts_seconds: int = Field(
        31_536_000, ge=0, le=2 * 31_536_000, description="In production, Strict-Transport-Security max-age (0: off)."
    )
    audit_seal_batch_size: int = Field(
        500,
        ge=1,
        le=100_000,
        description="Audit rows recorded (per process) after which they are sealed into the chain.",
    )
    audit_seal_interval_seconds: float = Field(
        10.0, gt=0, le=86_400, description="Seconds after which recorded audit rows are sealed even if fewer."
    )
    audit_keys: str = Field(
        "",
        description=(
            "Audit MAC key ring `id:base64,…` (active first; 32-byte HMAC-SM3 keys); empty means "
            "<data_dir>/keys/audit-keyring.json."
        ),
    )
    audit_anchor_path: str = Field(
        "", description="Append-only file of audit chain anchors; empty means <data_dir>/audit-anchors.log."
    )
    audit_anchor_interval_seconds: int = Field(
        60, ge=1, le=86_400, description="Least seconds between two anchors written after seals."
    )
    email_notifications: bool = Field(
        False, description="Also e-mail notifications (to recipients with an address), through email_url."
    )
    email_url: str = Field(
        "console://",
        pattern=_EMAIL_URL,
        description=(
            "How e-mail leaves: console:// printed on the server's output; smtp://[user:password@]host[:port] "
            "(smtp+tls:// with STARTTLS, smtps:// over TLS)."
        ),
    )
    email_from: str = Field(
        "govshare <noreply@localhost>", min_length=3, max_length=254, description="Sender (From) of e-mails."
    )
    site_url: str = Field(
        "",
        pattern=r"^$|^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$",
        description="Address of the platform (https://host) for links in e-mails; empty: e-mails carry no link.",
    )

    data_engine: Literal["duckdb", "spark"] = Field(
        "duckdb", description="Engine of the data plane: embedded DuckDB, or Apache Spark (pip extra `spark`)."
    )
    spark_master: str = Field("local[2]", description="Spark master URL when data_engine is spark.")
    dataset_storage_uri: str = Field(
        "", description="Where dataset tables live: empty means <data_dir>/datasets; or s3://bucket/prefix."
    )
    s3_endpoint_url: str = Field("", description="S3-compatible endpoint for dataset_storage_uri (MinIO, OSS, COS).")
    s3_access_key_id: str = Field("", description="S3 access key id.")
    s3_secret_access_key: str = Field("", description="S3 secret access key.")
    s3_region: str = Field("us-east-1", description="S3 region name.")
    dataset_keep_versions: int = Field(
        10, ge=1, le=10_000, description="Versions of each dataset kept readable; older ones are vacuumed."
    )
    version_lease_seconds: int = Field(
        3600,
        ge=10,
        le=7 * 86_400,
        description=(
            "How long a version read by a download or a job is kept from vacuum without renewal (a stream renews "
            "it as it goes); a process killed mid-read frees its version after at most this long."
        ),
    )
    load_max_field_chars: int = Field(
        10_000, ge=1, le=10_000_000, description="Longest value one field of a loaded row may hold (characters)."
    )
    load_upload_max_bytes: int = Field(
        2 * 1024**3, ge=1024, description="Largest data file a department may upload (bytes)."
    )
    load_max_attempts: int = Field(3, ge=1, le=20, description="Attempts of a load before it is marked failed.")
    load_retry_backoff_seconds: int = Field(
        30, ge=1, le=86_400, description="Wait before the first retry of a failed load; doubled for each retry."
    )
    load_heartbeat_seconds: float = Field(5.0, gt=0, le=600, description="How often a running load reports.")
    load_stale_seconds: int = Field(
        60, ge=5, le=86_400, description="A running load silent this long is taken as dead and retried."
    )
    load_realtime_minutes: int = Field(
        5, ge=1, le=1440, description="Interval of the scheduled loads of a resource whose update cycle is 实时."
    )
    gateway_batch_keep_hours: int = Field(
        72, ge=1, le=24 * 90, description="How long a batch comparison's result file is kept for download (hours)."
    )
    gateway_batch_max_bytes: int = Field(
        256 * 1024**2, ge=1024, description="Largest file a system may upload for a batch comparison (bytes)."
    )
    job_workers: int = Field(2, ge=1, le=64, description="Worker processes of `govshare qcluster`.")
    job_timeout_seconds: int = Field(
        6 * 3600, ge=10, le=7 * 86_400, description="Longest a background job may run before it is stopped."
    )

    source_allowed_hosts: Annotated[list[str], NoDecode] = Field(
        [],
        description=(
            "Hosts a 前置库 or API source may reach besides public addresses: host names (*.example.gov.cn for its "
            "subdomains), addresses and CIDR ranges, comma-separated; loopback, private, link-local and reserved "
            "addresses are refused unless listed."
        ),
    )
    source_sqlite_dirs: Annotated[list[Path], NoDecode] = Field(
        [],
        description=(
            "Directories (absolute, comma-separated) in which SQLite 前置库 files may be read; never the data "
            "directory or the metadata database. Empty: no SQLite source."
        ),
    )
    source_timeout_max_seconds: float = Field(
        120.0, gt=0, le=3600, description="Largest connect/read timeout a source's own `timeout` may ask for."
    )
    source_preview_seconds: float = Field(
        20.0, gt=0, le=600, description="Longest a source preview (in a web request) may take, connecting included."
    )
    source_http_max_bytes: int = Field(
        64 * 1024**2,
        ge=1024,
        description="Largest response (bytes, decompressed) of one API page, in previews and loads.",
    )

    @field_validator(
        "allowed_hosts", "csrf_trusted_origins", "source_allowed_hosts", "source_sqlite_dirs", mode="before"
    )
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("source_allowed_hosts")
    @classmethod
    def _hosts_or_networks(cls, value: list[str]) -> list[str]:
        for entry in value:
            if not _ALLOWED_SOURCE_HOST.match(entry):
                try:
                    ip_network(entry.strip("[]"), strict=False)
                except ValueError:
                    raise ValueError(f"“{entry}”既不是主机名，也不是 IP 地址或 CIDR 网段") from None
        return value

    @field_validator("source_sqlite_dirs")
    @classmethod
    def _absolute_directories(cls, value: list[Path]) -> list[Path]:
        for entry in value:
            if not entry.is_absolute():
                raise ValueError(f"“{entry}”不是绝对路径")
        return value

    @field_validator("email_url")
    @classmethod
    def _mail_server(cls, value: str) -> str:
        if value != "console://":
            parts = urlsplit(value)
            try:
                port = parts.port
            except ValueError:
                raise ValueError("端口应为 1 到 65535 之间的数字") from None
            if not parts.hostname:
                raise ValueError("缺少邮件服务器主机名")
            if port == 0:
                raise ValueError("端口应为 1 到 65535 之间的数字")
        return value

    @field_validator("email_from")
    @classmethod
    def _sender_address(cls, value: str) -> str:
        _, address = parseaddr(value)
        if "@" not in address or any(c in value for c in "\r\n"):
            raise ValueError("发件人应为邮件地址，如 govshare <noreply@data.example.gov.cn>")
        return value

    @model_validator(mode="after")
    def _token_days_within_the_maximum(self) -> GovshareSettings:
        if self.api_token_days > self.api_token_max_days:
            raise ValueError(
                "GOVSHARE_API_TOKEN_DAYS（令牌默认有效期）不能大于 GOVSHARE_API_TOKEN_MAX_DAYS（令牌最长有效期）"
            )
        return self

    @model_validator(mode="after")
    def _production_is_safe(self) -> GovshareSettings:
        if self.production and (self.debug or self.secret_key == INSECURE_DEV_SECRET):
            raise ValueError("生产模式（GOVSHARE_PRODUCTION=true）下不得开启调试，且必须设置 GOVSHARE_SECRET_KEY")
        return self

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'govshare.sqlite3'}"

    @property
    def django_cache(self) -> dict[str, Any]:
        """Django's CACHES["default"] for cache_url.

        `db://` is Django's database cache in the table govshare_cache of the metadata database (SQLite or
        PostgreSQL: every gunicorn worker, the job worker and other hosts on the same database share it);
        `file://` a directory (one host), `locmem://` the memory of one process (each worker counts alone).
        """
        options = {"MAX_ENTRIES": 100_000, "CULL_FREQUENCY": 4}  # histories of every address and user
        scheme, _, path = self.cache_url.partition("://")
        if scheme == "db":
            return {
                "BACKEND": "django.core.cache.backends.db.DatabaseCache",
                "LOCATION": CACHE_TABLE,
                "OPTIONS": options,
            }
        if scheme == "file":
            location = Path(unquote(path)) if path else self.data_dir / "cache"
            return {
                "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                "LOCATION": str(location),
                "OPTIONS": options,
            }
        return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "govshare"}

    @property
    def django_email(self) -> dict[str, Any]:
        """Django's EMAIL_* settings for email_url: the console backend, or SMTP (plain, STARTTLS or TLS)."""
        console = self.email_url == "console://"
        parts = urlsplit("" if console else self.email_url)
        secure = parts.scheme == "smtps"
        starttls = parts.scheme == "smtp+tls"
        return {
            "EMAIL_BACKEND": f"django.core.mail.backends.{'console' if console else 'smtp'}.EmailBackend",
            "EMAIL_HOST": parts.hostname or "localhost",
            "EMAIL_PORT": parts.port or (465 if secure else 587 if starttls else 25),
            "EMAIL_HOST_USER": unquote(parts.username or ""),
            "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
            "EMAIL_USE_TLS": starttls,
            "EMAIL_USE_SSL": secure,
            # A mail server that does not answer holds up the request or job that sends at most this long.
            "EMAIL_TIMEOUT": 10,
            "DEFAULT_FROM_EMAIL": self.email_from,
            "SERVER_EMAIL": self.email_from,
        }


def load_settings() -> GovshareSettings:
    """Read the settings, or stop with a message naming each bad variable."""
    try:
        return GovshareSettings()
    except ValidationError as exc:
        lines = ["govshare 配置错误 (configuration error):"]
        for error in exc.errors():
            loc = ".".join(str(part) for part in error["loc"])
            variable = "DATABASE_URL" if loc == "DATABASE_URL" else f"GOVSHARE_{loc.upper()}" if loc else "GOVSHARE_*"
            lines.append(f"  {variable}: {error['msg']}")
        sys.stderr.write("\n".join(lines) + "\n")
        raise SystemExit(2) from None
    except SettingsError as exc:
        sys.stderr.write(f"govshare 配置错误 (configuration error): {exc}\n")
        raise SystemExit(2) from None
