"""One settings module for every environment.

Everything is read from environment variables (django-environ). The defaults are the
embedded setup that `make demo` runs: SQLite, weights on the local disk, Celery in eager
mode and e-mail printed to the console. Production switches each integration on with an
explicit variable; see docs/configuration.md.
"""

import secrets
from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

from accessgate.beat import beat_schedule
from accessgate.logging_config import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").exists():
    env.read_env(BASE_DIR / ".env")

VAR_DIR = Path(env.str("ACCESSGATE_VAR_DIR", default=str(BASE_DIR / "var")))

# Off unless set: a gate that forgets this variable serves no debug pages. `make demo` and the
# test run (pyproject.toml, [tool.pytest.ini_options] env) set ACCESSGATE_DEBUG=1.
DEBUG = env.bool("ACCESSGATE_DEBUG", default=False)


def _secret_key() -> str:
    key = env.str("ACCESSGATE_SECRET_KEY", default="")
    if key:
        return key
    if not DEBUG:
        raise ImproperlyConfigured("ACCESSGATE_SECRET_KEY must be set when ACCESSGATE_DEBUG is off.")
    # Development only: a random key kept outside the repository, stable across restarts.
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
# The portal's public address: every link in an e-mail and everything `seed_demo` prints.
# `make demo HOST=… PORT=…` sets it to http://HOST:PORT.
SITE_URL = env.str("ACCESSGATE_SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
_SITE_HOST = urlsplit(SITE_URL).hostname or "127.0.0.1"
ALLOWED_HOSTS = env.list(
    "ACCESSGATE_ALLOWED_HOSTS", default=sorted({"127.0.0.1", "localhost", "testserver", _SITE_HOST})
)
CSRF_TRUSTED_ORIGINS = env.list("ACCESSGATE_CSRF_TRUSTED_ORIGINS", default=[])
ACCESSGATE_TRUSTED_PROXY_COUNT = env.int("ACCESSGATE_TRUSTED_PROXY_COUNT", default=0)

INSTALLED_APPS = [
    "accessgate.accounts.admin_config.AccessgateAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.mfa",
    "django_countries",
    "django_celery_beat",
    "accessgate.accounts",
    "accessgate.audit",
    "accessgate.catalog",
    "accessgate.access",
    "accessgate.notifications",
    "accessgate.downloads",
    "accessgate.identity",
    "accessgate.training",
    "accessgate.publishing",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
]

# ORCID sign-in/linking through allauth, switched on by its credentials.
ACCESSGATE_ORCID_CLIENT_ID = env.str("ACCESSGATE_ORCID_CLIENT_ID", default="")
ACCESSGATE_ORCID_SECRET = env.str("ACCESSGATE_ORCID_SECRET", default="")
ACCESSGATE_ORCID_SANDBOX = env.bool("ACCESSGATE_ORCID_SANDBOX", default=False)
if ACCESSGATE_ORCID_CLIENT_ID:
    INSTALLED_APPS.insert(INSTALLED_APPS.index("allauth.mfa"), "allauth.socialaccount.providers.orcid")

MIDDLEWARE = [
    "accessgate.http_guards.RequestIdMiddleware",
    "accessgate.http_guards.SecurityHeadersMiddleware",
    "accessgate.http_guards.OutageMiddleware",
    "accessgate.http_guards.BodyLimitMiddleware",
    "accessgate.http_guards.BadInputMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # After sessions, before CommonMiddleware (Django's documented order).
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "accessgate.middleware.DomainErrorMiddleware",
    "accessgate.accounts.middleware.StaffMFARequiredMiddleware",
    "accessgate.accounts.middleware.AccountTransactionMiddleware",
    "accessgate.accounts.middleware.LoginThrottleStatusMiddleware",
]

ROOT_URLCONF = "accessgate.urls"
WSGI_APPLICATION = "accessgate.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accessgate.accounts.context_processors.roles",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'accessgate.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False  # services own their transactions
# Least privilege on PostgreSQL: the portal connects with DATABASE_URL as a runtime role that
# may only SELECT and INSERT audit events; `manage.py migrate` connects with this URL (same
# database, the owner role) when set. `manage.py db_roles_sql` prints the roles' SQL.
ACCESSGATE_MIGRATE_DATABASE_URL = env.str("ACCESSGATE_MIGRATE_DATABASE_URL", default="")
# Keep connections between requests: opening one costs PostgreSQL a process fork, which
# dominated the resolve endpoint's time in bench/. Health checks drop dead ones first.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("ACCESSGATE_DB_CONN_MAX_AGE", default=60)
# No health check: it costs a `SELECT 1` round trip on every request's first query. A
# connection the server closed fails that request's first query; Django then discards it
# at the end of the request (errors_occurred), and the next request reconnects.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool("ACCESSGATE_DB_CONN_HEALTH_CHECKS", default=False)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The demo database takes concurrent writers: WAL lets readers go on while one writes,
    # IMMEDIATE transactions take the write lock at BEGIN (so two writers queue instead of
    # deadlocking on a lock upgrade, which SQLite answers at once with "database is
    # locked"), and a writer waits up to 20 s for its turn.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://accessgate")}
if "redis" in CACHES["default"]["BACKEND"].lower():
    # A dead cache fails fast (a 503, docs/deploying.md), never hangs a worker.
    CACHES["default"].setdefault("OPTIONS", {}).update({"socket_connect_timeout": 2, "socket_timeout": 2})

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "access:my_access"

# django-allauth: e-mail is the login, and it must be verified before the account is used.
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[accessgate] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if not DEBUG else "http"
ACCOUNT_ADAPTER = "accessgate.accounts.adapters.AccountAdapter"
# allauth's defaults already limit login failures, sign-ups and resets; stated here so
# they are visible and cannot be switched off by accident.
ACCOUNT_RATE_LIMITS: dict[str, str] | bool = {
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/5m/key",
    "signup": "20/m/ip",
    "confirm_email": "1/3m/key",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "change_password": "5/m/user",
}
# allauth keys its per-IP limits on REMOTE_ADDR unless told how many proxies to trust; the
# same number as the portal's own client_ip(), so X-Forwarded-For is ignored by default.
ALLAUTH_TRUSTED_PROXY_COUNT = ACCESSGATE_TRUSTED_PROXY_COUNT
ACCOUNT_RATE_LIMITS_ENABLED = env.bool("ACCESSGATE_RATE_LIMITS", default=True)
if not ACCOUNT_RATE_LIMITS_ENABLED:
    ACCOUNT_RATE_LIMITS = False
SOCIALACCOUNT_PROVIDERS: dict = {}
if ACCESSGATE_ORCID_CLIENT_ID:
    SOCIALACCOUNT_PROVIDERS["orcid"] = {
        "APPS": [{"client_id": ACCESSGATE_ORCID_CLIENT_ID, "secret": ACCESSGATE_ORCID_SECRET}],
        "BASE_DOMAIN": "sandbox.orcid.org" if ACCESSGATE_ORCID_SANDBOX else "orcid.org",
        "MEMBER_API": False,
    }
SOCIALACCOUNT_ADAPTER = "accessgate.accounts.adapters.SocialAccountAdapter"
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False

# Two-factor authentication (allauth.mfa): TOTP apps, recovery codes, security keys/passkeys.
# Staff roles must have it before any staff page opens.
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_TOTP_ISSUER = "accessgate"
# One 30 s step of drift either way (RFC 6238's advice); allauth refuses a code used twice.
MFA_TOTP_TOLERANCE = 1
MFA_PASSKEY_LOGIN_ENABLED = False
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = DEBUG  # WebAuthn on http://localhost in development

LANGUAGE_CODE = "en"
# Templates and messages are marked for translation; a language joins this list together with
# its catalogue under locale/ (docs/translating.md).
LANGUAGES = [("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# English keeps the portal's unambiguous ISO-style dates; other languages use Django's formats.
FORMAT_MODULE_PATH = ["accessgate.core.formats"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# E-mail: printed to the console unless EMAIL_URL says otherwise (smtp+tls://user:pw@host:587).
vars().update(env.email("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("ACCESSGATE_FROM_EMAIL", default="accessgate <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Celery: eager (in-process, after commit) unless a broker is configured.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = env.bool("ACCESSGATE_CELERY_EAGER", default=not CELERY_BROKER_URL)
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_BROKER_CONNECTION_TIMEOUT = 3
CELERY_BROKER_TRANSPORT_OPTIONS = {"max_retries": 1, "interval_start": 0, "interval_step": 0.5}
# A down broker must fail fast: the outbox row stays pending and is queued again later.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE = beat_schedule(
    checkpoint_interval=float(env.int("ACCESSGATE_AUDIT_CHECKPOINT_INTERVAL", default=300))  # no-op when unchanged
)
# Request bodies (accessgate/http_guards.py, accessgate/core/json_body.py): any body, judged by
# its Content-Length before it is read (routes that take more name their own limit); JSON bodies,
# in bytes and in nesting levels, before they are parsed; one uploaded file's declared size.
ACCESSGATE_MAX_REQUEST_BYTES = env.int("ACCESSGATE_MAX_REQUEST_BYTES", default=2_621_440)
ACCESSGATE_JSON_MAX_BYTES = env.int("ACCESSGATE_JSON_MAX_BYTES", default=1_000_000)
ACCESSGATE_JSON_MAX_DEPTH = env.int("ACCESSGATE_JSON_MAX_DEPTH", default=32)
ACCESSGATE_TRAINING_CERTIFICATE_MAX_BYTES = env.int("ACCESSGATE_TRAINING_CERTIFICATE_MAX_BYTES", default=5_000_000)
ACCESSGATE_IDENTITY_REMINDER_DAYS = env.list("ACCESSGATE_IDENTITY_REMINDER_DAYS", cast=int, default=[30, 7])
ACCESSGATE_LICENCE_REMINDER_AFTER_DAYS = env.int("ACCESSGATE_LICENCE_REMINDER_AFTER_DAYS", default=7)

# Security. Production (DEBUG off) is HTTPS only, with HSTS and secure cookies.
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"  # pages that show signed URLs keep same-origin whatever this says (http_guards)
# No inline script or style anywhere: everything comes from our own static files.
ACCESSGATE_CSP = env.str(
    "ACCESSGATE_CSP",
    default=(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    ),
)
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("ACCESSGATE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^health/"]  # load balancers probe over plain HTTP
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("ACCESSGATE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("ACCESSGATE_HSTS_PRELOAD", default=True)

# Where LocalStorage keeps weight files (the embedded default backend).
ACCESSGATE_LOCAL_STORAGE_ROOT = Path(env.str("ACCESSGATE_LOCAL_STORAGE_ROOT", default=str(VAR_DIR / "weights")))
# Where browser uploads wait (local backend only) until their release is imported.
ACCESSGATE_UPLOAD_ROOT = Path(env.str("ACCESSGATE_UPLOAD_ROOT", default=str(VAR_DIR / "uploads")))
# The largest file a browser upload may declare: S3's 10,000 parts of 16 MiB (downloads/models.py).
ACCESSGATE_UPLOAD_MAX_FILE_BYTES = env.int("ACCESSGATE_UPLOAD_MAX_FILE_BYTES", default=10_000 * 16 * 1024 * 1024)
# How /dl/ sends a local file once its token checks out: "python" (the worker streams it;
# the embedded demo), "x-accel" (nginx: `X-Accel-Redirect` to ACCESSGATE_LOCAL_OFFLOAD_PREFIX
# + key, an `internal` location aliased to the storage root) or "x-sendfile" (Apache
# mod_xsendfile, lighttpd: `X-Sendfile` with the absolute path). Offloaded, the web server
# streams and answers Range; no Python worker is busy during the transfer.
ACCESSGATE_LOCAL_OFFLOAD = env.str("ACCESSGATE_LOCAL_OFFLOAD", default="python")
ACCESSGATE_LOCAL_OFFLOAD_PREFIX = env.str("ACCESSGATE_LOCAL_OFFLOAD_PREFIX", default="/_weights/")

# Weight storage: `local` (files under ACCESSGATE_LOCAL_STORAGE_ROOT, served by /dl/) or
# `s3` (any S3-compatible endpoint; presigned GET URLs).
ACCESSGATE_STORAGE_BACKEND = env.str("ACCESSGATE_STORAGE_BACKEND", default="local")
ACCESSGATE_S3 = {
    "bucket": env.str("ACCESSGATE_S3_BUCKET", default=""),
    "endpoint_url": env.str("ACCESSGATE_S3_ENDPOINT_URL", default=""),
    "region": env.str("ACCESSGATE_S3_REGION", default="us-east-1"),
    "access_key_id": env.str("ACCESSGATE_S3_ACCESS_KEY_ID", default=""),
    "secret_access_key": env.str("ACCESSGATE_S3_SECRET_ACCESS_KEY", default=""),
    "addressing_style": env.str("ACCESSGATE_S3_ADDRESSING_STYLE", default="path"),
}
# Per-user limit on download URL issuance (resolve and manifest requests), "count/seconds".
ACCESSGATE_DOWNLOAD_RATE_LIMIT = env.str("ACCESSGATE_DOWNLOAD_RATE_LIMIT", default="120/60")
# Personal access tokens: default and maximum lifetime in days.
ACCESSGATE_TOKEN_DEFAULT_DAYS = env.int("ACCESSGATE_TOKEN_DEFAULT_DAYS", default=90)
ACCESSGATE_TOKEN_MAX_DAYS = env.int("ACCESSGATE_TOKEN_MAX_DAYS", default=365)

# Ed25519 key that signs audit export manifests: PEM text, or a file holding it. Development
# generates one under ACCESSGATE_VAR_DIR; production must set one.
ACCESSGATE_AUDIT_SIGNING_KEY = env.str("ACCESSGATE_AUDIT_SIGNING_KEY", default="")
_audit_key_file = env.str("ACCESSGATE_AUDIT_SIGNING_KEY_FILE", default="")
ACCESSGATE_AUDIT_SIGNING_KEY_FILE = Path(_audit_key_file) if _audit_key_file else None
# Daily export of the previous UTC day's events (JSON Lines + signed manifest) for a SIEM.
# Link audit events into the hash chain right after each recording transaction commits
# (in-process). On by default when Celery runs eagerly (the demo, tests); production runs
# `manage.py audit_chainer` instead (docs/audit.md, "The audit chainer").
ACCESSGATE_AUDIT_CHAIN_ON_COMMIT = env.bool("ACCESSGATE_AUDIT_CHAIN_ON_COMMIT", default=CELERY_TASK_ALWAYS_EAGER)
ACCESSGATE_AUDIT_DAILY_EXPORT = env.bool("ACCESSGATE_AUDIT_DAILY_EXPORT", default=False)
ACCESSGATE_AUDIT_DAILY_EXPORT_PREFIX = env.str("ACCESSGATE_AUDIT_DAILY_EXPORT_PREFIX", default="siem/audit/")
# Signed checkpoints of the chain head (audit/checkpoints.py): where in the storage they go,
# S3 Object Lock retention sent with each one (days; 0 = none; the bucket must have Object
# Lock enabled), and auditors who get each one by e-mail.
ACCESSGATE_AUDIT_CHECKPOINT_PREFIX = env.str("ACCESSGATE_AUDIT_CHECKPOINT_PREFIX", default="audit-checkpoints/")
ACCESSGATE_AUDIT_CHECKPOINT_LOCK_DAYS = env.int("ACCESSGATE_AUDIT_CHECKPOINT_LOCK_DAYS", default=0)
ACCESSGATE_AUDIT_CHECKPOINT_LOCK_MODE = env.str("ACCESSGATE_AUDIT_CHECKPOINT_LOCK_MODE", default="COMPLIANCE")
ACCESSGATE_AUDIT_CHECKPOINT_EMAILS = env.list("ACCESSGATE_AUDIT_CHECKPOINT_EMAILS", default=[])

# Identity verification: `stripe` (Stripe Identity), `dev` (demo buttons; refused with DEBUG
# off) or `none`. Verified identities expire after ACCESSGATE_IDENTITY_VALID_DAYS.
ACCESSGATE_IDENTITY_PROVIDER = env.str("ACCESSGATE_IDENTITY_PROVIDER", default="dev" if DEBUG else "none")
ACCESSGATE_IDENTITY_VALID_DAYS = env.int("ACCESSGATE_IDENTITY_VALID_DAYS", default=365)
ACCESSGATE_STRIPE_SECRET_KEY = env.str("ACCESSGATE_STRIPE_SECRET_KEY", default="")
ACCESSGATE_STRIPE_WEBHOOK_SECRET = env.str("ACCESSGATE_STRIPE_WEBHOOK_SECRET", default="")
ACCESSGATE_STRIPE_API_BASE = env.str("ACCESSGATE_STRIPE_API_BASE", default="")  # tests point it at a local server
ACCESSGATE_IDENTITY_START_RATE_LIMIT = env.str("ACCESSGATE_IDENTITY_START_RATE_LIMIT", default="5/3600")
ACCESSGATE_WEBHOOK_RATE_LIMIT = env.str("ACCESSGATE_WEBHOOK_RATE_LIMIT", default="600/60")

# Outgoing webhooks: secret-encrypting keys, the whole attempt's deadline, plain http
# (development only), internal receivers' networks (docs/configuration.md, webhooks-security.md).
ACCESSGATE_WEBHOOK_SECRET_KEY = env.str("ACCESSGATE_WEBHOOK_SECRET_KEY", default="")
ACCESSGATE_WEBHOOK_TIMEOUT = env.int("ACCESSGATE_WEBHOOK_TIMEOUT", default=5)
ACCESSGATE_WEBHOOK_ALLOW_HTTP = env.bool("ACCESSGATE_WEBHOOK_ALLOW_HTTP", default=DEBUG)
ACCESSGATE_WEBHOOK_ALLOWED_NETWORKS = env.list("ACCESSGATE_WEBHOOK_ALLOWED_NETWORKS", default=[])

# System checks a deployment has decided to accept, e.g. accessgate.W020 (no identity
# provider) for a lab that does not verify identities. `check --deploy` must be clean otherwise.
SILENCED_SYSTEM_CHECKS = env.list("ACCESSGATE_SILENCED_CHECKS", default=[])

# Set by the test suite: a missing PostgreSQL, Redis, S3 endpoint or Chromium fails the
# tests that need it instead of skipping them.
ACCESSGATE_REQUIRE_SERVICES = env.bool("ACCESSGATE_REQUIRE_SERVICES", default=False)

# The REST API at /api/v1/ (accessgate/api/v1): bearer tokens or the session (with CSRF),
# one error shape, cursor pagination, an OpenAPI 3 schema and docs from vendored files.
from accessgate.api_settings import REST_FRAMEWORK, SPECTACULAR_SETTINGS  # noqa: E402,F401

# Logs: plain text by default; ACCESSGATE_LOG_JSON=1 writes one JSON object per line, with
# the request id (also sent as the X-Request-ID response header). Signed /dl/ tokens are
# redacted from the development server's access log (gunicorn: scripts/gunicorn.conf.py).
ACCESSGATE_LOG_JSON = env.bool("ACCESSGATE_LOG_JSON", default=False)
LOGGING = logging_config(json=ACCESSGATE_LOG_JSON, level=env.str("ACCESSGATE_LOG_LEVEL", default="INFO"))

# Optional error reporting: set SENTRY_DSN (and pip install the pinned sentry-sdk, which
# requirements.txt carries). Nothing is sent when it is empty.
SENTRY_DSN = env.str("SENTRY_DSN", default="")
if SENTRY_DSN:
    import sentry_sdk

    sentry_sdk.init(
        dsn=SENTRY_DSN,
        environment=env.str("SENTRY_ENVIRONMENT", default="production"),
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
        send_default_pii=False,
        before_send=lambda event, hint: __import__("accessgate.logs", fromlist=["x"]).scrub_sentry_event(event),
    )
