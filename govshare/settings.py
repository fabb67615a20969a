"""Django settings, computed from the typed `govshare.config` settings (the only place values come from)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import dj_database_url

from govshare.config import load_settings
from govshare.core.datadir import secure_data_dir
from govshare.identity.keys import read_signing_key

GOVSHARE = load_settings()

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = GOVSHARE.data_dir
# Before anything is written: umask 077 for this process and its children, the data directory 0700 (and its content
# owner-only if it was open), so that no file of the platform is readable by another account of the machine.
secure_data_dir(DATA_DIR)

SECRET_KEY = GOVSHARE.secret_key
DEBUG = GOVSHARE.debug
ALLOWED_HOSTS = GOVSHARE.allowed_hosts
CSRF_TRUSTED_ORIGINS = GOVSHARE.csrf_trusted_origins

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "ninja",
    "axes",
    "django_otp",
    # Devices are identity.TOTPDevice (key encrypted at rest). django-otp's own TOTPDevice (key in plain text) stays
    # installed only for migration identity.0003, which reads its old rows, moves them and deletes them.
    "django_otp.plugins.otp_totp",
    "govshare.core",
    "govshare.accounts",
    "govshare.audit",
    "govshare.jobs",
    "govshare.catalog",
    "govshare.sources",
    "govshare.datasets",
    "govshare.grading",
    "govshare.keys",
    "govshare.demo",
    "govshare.notifications",
    "govshare.sharing",
    "govshare.gateway",
    # Before oauth2_provider: its consent page template is overridden here.
    "govshare.identity",
    # django-oauth-toolkit under the name the admin shows (接入系统).
    "govshare.identity.provider_app.OAuthProviderConfig",
    "django_q",
    "csp",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy (django-csp) and Permissions-Policy on every answer, static files included.
    "csp.middleware.CSPMiddleware",
    "govshare.core.security.PermissionsPolicyMiddleware",
    # Cache-Control: no-store on every attachment; data views (previews, lookups, samples, the audit log) are marked.
    "govshare.core.nostore.NoStoreMiddleware",
    # Wrong client secrets and access tokens at /o/token/, /o/userinfo/ … are limited per address like API tokens.
    "govshare.core.security.OAuthEndpointGuardMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # A user whose password an administrator set must choose a new one before anything else.
    "govshare.identity.middleware.PasswordChangeRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Refused reads of data (403/404 on /datasets/, /api/datasets/) are audited, at most one row a minute per kind.
    "govshare.audit.refusals.RefusedDataAccessMiddleware",
    # Last, as django-axes requires: turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "govshare.urls"
WSGI_APPLICATION = "govshare.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "govshare.core.context_processors.platform",
                "govshare.notifications.context_processors.unread_notifications",
            ],
        },
    },
]

DATABASES = {"default": dj_database_url.parse(GOVSHARE.effective_database_url, conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A web server and a worker share the file: WAL and immediate write transactions avoid "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
SESSION_COOKIE_AGE = GOVSHARE.session_age_seconds
# A shared workstation: closing the browser signs the user out; the session also ends after SESSION_COOKIE_AGE.
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# Brute-force protection (django-axes): N failures for one username, or from one address, lock it (independently).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = GOVSHARE.login_failure_limit
AXES_COOLOFF_TIME = timedelta(minutes=GOVSHARE.login_lockout_minutes)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
# Attempts refused during a lockout do not extend it: it ends login_lockout_minutes after the last counted failure.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "govshare.accounts.lockout.lockout_response"
# Addresses come from REMOTE_ADDR only (a client-supplied X-Forwarded-For must not pick the counter it hits).
AXES_CLIENT_IP_CALLABLE = "govshare.accounts.lockout.client_address"
AXES_VERBOSE = False

# API rate limits (django-ninja throttling), read per request so that tests may change them.
API_RATE_ANONYMOUS = GOVSHARE.api_rate_anonymous
API_RATE_USER = GOVSHARE.api_rate_user
# Throttling counts per REMOTE_ADDR, never per a client-supplied X-Forwarded-For.
NINJA_NUM_PROXIES = 0
# Security headers. Django sets nosniff, Referrer-Policy, X-Frame-Options and Cross-Origin-Opener-Policy;
# django-csp the Content-Security-Policy; govshare.core.security the Permissions-Policy.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Scripts and styles only from the platform's own static files: no inline <script>, <style>, style="" or on…=
# handlers (page behaviour is govshare/static/govshare/app.js). img data: is for the admin's and Swagger UI's
# icons. No form-action: the OIDC consent form redirects to the relying party, which Chromium checks against it.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# No script reads the CSRF cookie (forms carry the token; the API docs page takes it from the page).
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
if GOVSHARE.proxy_ssl_header:
    # Behind a TLS-terminating proxy that sets this header (and strips it from clients): the request was HTTPS.
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + GOVSHARE.proxy_ssl_header.upper().replace("-", "_"), "https")
# HSTS preload is not set: a preload entry covers the whole registered domain (every host under it) and is the
# domain owner's decision, not one platform's; `check --deploy` would otherwise warn about it.
SILENCED_SYSTEM_CHECKS = ["security.W021"]
if GOVSHARE.production:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = GOVSHARE.ssl_redirect
    SECURE_HSTS_SECONDS = GOVSHARE.hsts_seconds
    SECURE_HSTS_INCLUDE_SUBDOMAINS = GOVSHARE.hsts_seconds > 0
    SECURE_HSTS_PRELOAD = False

# One cache for all processes (gunicorn workers, the job worker): API rate limits and wrong-token counters must be
# counted once for the platform, not once per process. Default: the metadata database (`migrate` creates the table).
CACHES = {"default": GOVSHARE.django_cache}

# E-mail (notifications, govshare.notifications): printed on the server's output (console) unless email_url names an
# SMTP server; notifications are e-mailed only when email_notifications is on. Tests use Django's in-memory outbox.
_EMAIL = GOVSHARE.django_email
EMAIL_BACKEND = _EMAIL["EMAIL_BACKEND"]
EMAIL_HOST = _EMAIL["EMAIL_HOST"]
EMAIL_PORT = _EMAIL["EMAIL_PORT"]
EMAIL_HOST_USER = _EMAIL["EMAIL_HOST_USER"]
EMAIL_HOST_PASSWORD = _EMAIL["EMAIL_HOST_PASSWORD"]
EMAIL_USE_TLS = _EMAIL["EMAIL_USE_TLS"]
EMAIL_USE_SSL = _EMAIL["EMAIL_USE_SSL"]
EMAIL_TIMEOUT = _EMAIL["EMAIL_TIMEOUT"]
DEFAULT_FROM_EMAIL = _EMAIL["DEFAULT_FROM_EMAIL"]
SERVER_EMAIL = _EMAIL["SERVER_EMAIL"]

LANGUAGE_CODE = GOVSHARE.language_code
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = GOVSHARE.time_zone
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]

# Uploads are streamed to disk above 2.5 MB, into the data directory (large data files would fill a small /tmp);
# the size limits (import_max_bytes, load_upload_max_bytes) are checked before anything is parsed or kept.
# A request body that is not a file (form fields, JSON) may hold at most 5 MB.
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_TEMP_DIR = DATA_DIR / "tmp"
FILE_UPLOAD_TEMP_DIR.mkdir(parents=True, exist_ok=True)
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # A safety net behind the log calls themselves: ID numbers, mobile numbers, URL passwords and key=value
    # secrets are replaced in every record (govshare.core.security; records are also redacted when made).
    "filters": {
        "redact": {"()": "govshare.core.security.RedactingFilter"},
        # A refused request (403) is one line (status, path, user id), not a traceback (govshare.core.refusal_log).
        "one_line_refusals": {"()": "govshare.core.refusal_log.OneLineRefusals"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]}},
    "root": {"handlers": ["console"], "level": "INFO"},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "jieba": {"level": "WARNING"},
        "django.request": {"filters": ["one_line_refusals"]},
        "django.security.csrf": {"filters": ["one_line_refusals"]},
    },
}

NINJA_PAGINATION_PER_PAGE = GOVSHARE.page_size

# Background jobs (django-q2, ORM broker on the metadata database). The platform's Load row is the truth users
# see; django-q re-delivers a task whose worker vanished after `retry` seconds, and loads are idempotent.
Q_CLUSTER = {
    "name": "govshare",
    "orm": "default",
    "workers": GOVSHARE.job_workers,
    "timeout": GOVSHARE.job_timeout_seconds,
    "retry": GOVSHARE.job_timeout_seconds + 60,
    "max_attempts": GOVSHARE.load_max_attempts,
    "ack_failures": True,
    "catch_up": False,
    "save_limit": 1000,
    "poll": 1,
    "label": "后台任务",
}

# The platform as an OpenID Connect provider (django-oauth-toolkit). The ID-token signing key comes from a setting
# or <data_dir>/oidc/signing-key.pem (`govshare oidc_key`); never from the database.
# Named so that models referring to it (identity.SystemCredential) get django-oauth-toolkit's swappable dependency.
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"
OAUTH2_PROVIDER = {
    "OIDC_ENABLED": True,
    "OIDC_RSA_PRIVATE_KEY": read_signing_key(DATA_DIR, GOVSHARE.oidc_private_key),
    "OIDC_ISS_ENDPOINT": GOVSHARE.oidc_issuer,
    "OAUTH2_VALIDATOR_CLASS": "govshare.identity.oidc.PlatformValidator",
    "SCOPES": {
        "openid": "确认您的身份（账号标识）",
        "profile": "您的姓名和账号",
        "department": "您所属的部门（代码和名称）",
        "roles": "您在平台上的角色",
        "api": "以您的身份调用平台 API（权限不超过您的角色）",
    },
    "DEFAULT_SCOPES": ["openid"],
    "PKCE_REQUIRED": True,
    "ACCESS_TOKEN_EXPIRE_SECONDS": GOVSHARE.oidc_token_seconds,
    "ID_TOKEN_EXPIRE_SECONDS": GOVSHARE.oidc_token_seconds,
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": 60,
    "REQUEST_APPROVAL_PROMPT": "force",
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https"] if GOVSHARE.production else ["http", "https"],
    # OAuth 2.0 Security BCP (RFC 9700): no implicit or password grant, PKCE S256 only, access tokens only in the
    # Authorization header, `iss` in the authorization response, tokens stored hashed, a replayed refresh token
    # revokes its family (`check --deploy` is clean).
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
}

# Second factor (django-otp TOTP). Wrong codes are counted by django-axes like wrong passwords, so the device's
# own growing delay is off (it would refuse a right code typed soon after a wrong one).
OTP_TOTP_ISSUER = "govshare 政务数据共享交换平台"
OTP_TOTP_THROTTLE_FACTOR = 0
