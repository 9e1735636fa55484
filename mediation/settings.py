"""Settings for Permanence.

Everything that differs between a laptop and a server comes from environment variables, with
defaults that are safe for local use: an SQLite file, the ORM broker for django-q2, e-mails printed
on the console.
"""

import os
import sys
from pathlib import Path

import dj_database_url
import xstatic.pkg.bootstrap as xstatic_bootstrap
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("PERMANENCE_VAR_DIR", BASE_DIR / "var"))
# Local state (SQLite files, cache, mail outbox, backups) lives here; it must exist before
# anything runs. It holds personal data: every file this process creates is readable by its own
# account only (0600, directories 0700), whatever umask the shell or service manager gave it
# (issue 17: the database and backups were 0644). `manage.py check` warns about anything in
# var/ that the group or others can read (mediation/checks.py).
os.umask(0o077)
VAR_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    """An integer setting; unset or empty means the default."""
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def env_str(name: str, default: str) -> str:
    """A text setting; unset or empty means the default."""
    return os.environ.get(name, "").strip() or default


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)
# Under pytest the settings module is imported after pytest itself.
TESTING = env_bool("PERMANENCE_TESTING", "pytest" in sys.modules)

_DEV_SECRET_KEY = "django-insecure-permanence-local-development-only-do-not-use-in-production"
SECRET_KEY = env_str("SECRET_KEY", _DEV_SECRET_KEY if DEBUG else "")
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is false.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "mediation",
    "bookings",
    "cases",
    "reports",
    "api",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_q",
    "simple_history",
    "phonenumber_field",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    "axes",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "mediation.language.PublicLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Sets request.user.otp_device (and is_verified()) from the session.
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "mediation.middleware.SessionTimeoutMiddleware",
    # After the timeouts: an expired session is ended before it is asked for a code.
    "mediation.middleware.TwoFactorMiddleware",
    "mediation.middleware.NoStoreMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its lockout page.
    "axes.middleware.AxesMiddleware",
]

if not DEBUG:
    # Serves the collected static files in production (runserver does it in development).
    MIDDLEWARE.insert(1, "whitenoise.middleware.WhiteNoiseMiddleware")

ROOT_URLCONF = "mediation.urls"
WSGI_APPLICATION = "mediation.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "mediation.context_processors.navigation",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'permanence.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server and the task cluster write at once: WAL lets readers go on while one
    # writes, IMMEDIATE takes the write lock at BEGIN (so a transaction never fails half-way
    # on upgrade from read to write), and the timeout makes a writer wait instead of failing.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "init_command": (
            "PRAGMA journal_mode=WAL;"
            "PRAGMA synchronous=NORMAL;"
            "PRAGMA busy_timeout=20000;"
            "PRAGMA foreign_keys=ON;"
            # Freed space is zeroed: an erased name does not stay in a page's free space
            # (some builds have it on by default, not all). See mediation.privacy.erasure_flush.
            "PRAGMA secure_delete=ON;"
            # Fresh statistics for the query planner (cheap when nothing changed).
            "PRAGMA optimize=0x10002;"
        ),
    }
    # One file per test run: several runs side by side (developers, CI) never share it.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env_int("CONN_MAX_AGE", 60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ----------------------------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
elif TESTING:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
else:
    # Shared by the web server and the task cluster (rate limits must be seen by both).
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

# --- Background tasks (django-q2) -----------------------------------------------------------
Q_CLUSTER = {
    "name": "permanence",
    "workers": env_int("Q_WORKERS", 2),
    "timeout": 120,
    "retry": 300,
    "max_attempts": 5,
    "queue_limit": 50,
    "bulk": 10,
    "catch_up": False,
    "label": "Tâches",
    "sync": TESTING,
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"
    Q_CLUSTER["poll"] = 1

# --- Authentication -------------------------------------------------------------------------
AUTH_USER_MODEL = "mediation.User"
AUTHENTICATION_BACKENDS = [
    # An address that failed too many logins, whatever the accounts (mediation/ratelimit.py).
    "mediation.ratelimit.LoginAddressBackend",
    # Brute-force protection first: it refuses a locked-out account and IP before any check.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("AXES_COOLOFF_MINUTES", 15) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "username"
# One spelling per account (trimmed, case folded): `Chloe@…` and `CHLOE@…` share their tries.
# Cut to the 255 characters axes stores: a longer one failed its insert on PostgreSQL (500).
AXES_USERNAME_CALLABLE = "mediation.ratelimit.axes_username"
# Lockout log lines name the account and address by a keyed pseudonym (mediation/logs.py).
AXES_CLIENT_STR_CALLABLE = "mediation.logs.axes_client_str"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_IPWARE_PROXY_COUNT = 1 if env_bool("BEHIND_TLS_PROXY", False) else 0
# Failed logins from one address across every account: past this many in the window, every
# login from the address is refused until the window ends (mediation.ratelimit).
LOGIN_FAILURES_PER_ADDRESS = env_int("LOGIN_FAILURES_PER_ADDRESS", 20)
LOGIN_ADDRESS_WINDOW_MINUTES = env_int("LOGIN_ADDRESS_WINDOW_MINUTES", 15)
# Staff sessions: 30 minutes idle, 10 hours at most (a desk computer left open).
SESSION_IDLE_TIMEOUT = env_int("SESSION_IDLE_MINUTES", 30) * 60
SESSION_ABSOLUTE_TIMEOUT = env_int("SESSION_ABSOLUTE_HOURS", 10) * 3600
# Privacy (mediation/privacy.py): residents without contact for this many days are anonymised,
# appointments and messages older than that deleted; the access log is kept a year.
PRIVACY_RETENTION_DAYS = env_int("PRIVACY_RETENTION_DAYS", 730)
# A waiting-list entry ends this many days after it was made (bookings.tasks.waitlist_expire).
WAITLIST_DAYS = env_int("WAITLIST_DAYS", 30)
ACCESS_LOG_RETENTION_DAYS = env_int("ACCESS_LOG_RETENTION_DAYS", 365)
# An anonymised resident keeps their commune's INSEE code only if at least this many residents
# of the structure share it (otherwise the code could single them out).
PRIVACY_COMMUNE_MIN_RESIDENTS = env_int("PRIVACY_COMMUNE_MIN_RESIDENTS", 10)
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
PASSWORD_RESET_TIMEOUT = 3 * 24 * 3600
# Two-factor authentication (django-otp, see mediation/two_factor.py): the name shown in the
# authenticator app, and the operators' admin never shows the devices' secrets.
OTP_TOTP_ISSUER = "Permanence"
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", "Français"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True
PHONENUMBER_DEFAULT_REGION = "FR"
PHONENUMBER_DEFAULT_FORMAT = "E164"

# --- Static files ---------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
# Bootstrap comes from the xstatic-bootstrap package: no CDN, the desk works offline.
STATICFILES_DIRS = [("bootstrap", xstatic_bootstrap.BASE_DIR)]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- E-mail ---------------------------------------------------------------------------------
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
if not DEBUG and EMAIL_BACKEND == "django.core.mail.backends.console.EmailBackend":
    # In production the console is a service's journal: no address, no body there.
    EMAIL_BACKEND = "mediation.logs.MaskedConsoleEmailBackend"
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))
# Absolute links in e-mails and SMS sent by background tasks (no request to build them from).
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
# The sender of e-mails: by default on the site's own domain (never "localhost" once SITE_URL
# names the site); residents' e-mails show the structure's name before this address.
_SITE_HOST = (SITE_URL.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]) or "localhost"
_SITE_HOST = "localhost" if _SITE_HOST.replace(".", "").isdigit() else _SITE_HOST
DEFAULT_FROM_EMAIL = os.environ.get(
    "DEFAULT_FROM_EMAIL", f"Permanence <ne-pas-repondre@{_SITE_HOST}>"
)
SERVER_EMAIL = os.environ.get("SERVER_EMAIL", DEFAULT_FROM_EMAIL)

# --- Security -------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 10 * 3600
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# A load balancer probes /healthz over plain HTTP: answered, never redirected to HTTPS.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
# /healthz fails when the task cluster's last task run is older than this (a heartbeat task
# runs every minute: mediation/health.py).
HEALTH_CLUSTER_MAX_AGE_SECONDS = env_int("HEALTH_CLUSTER_MAX_AGE_SECONDS", 300)
if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 365 * 24 * 3600)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    if env_bool("BEHIND_TLS_PROXY", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# No inline script or style anywhere: Bootstrap's bundle and every stylesheet are static files.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

# Every handler redacts secrets (private links' tokens, reset and invitation links, bearer
# tokens, secrets in query strings: mediation.logs.RedactSecrets), the development server's
# access log (`django.server`, its own handler in Django's defaults) included; gunicorn's
# loggers get the filter from MediationConfig.ready().
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "mediation.logs.RedactSecrets"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "django.server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]},
        "django.server": {
            "class": "logging.StreamHandler",
            "formatter": "django.server",
            "filters": ["redact"],
        },
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False},
    },
}

# --- Permanence -----------------------------------------------------------------------------
# Shown on the login page and printed by `make run` only when the demo data is loaded.
DEMO_MODE = env_bool("DEMO_MODE", DEBUG)

# --- SMS and messages (bookings) ------------------------------------------------------------
# SMS backend, as EMAIL_BACKEND: bookings.messaging.ConsoleSmsBackend (prints),
# FileOutboxSmsBackend (one JSON line per SMS, readable by staff on the "Messages envoyés" page),
# BrevoSmsBackend (Brevo's transactional SMS API). Tests and demo mode use the outbox file.
import tempfile  # noqa: E402 - kept in this block

SMS_BACKEND = os.environ.get("SMS_BACKEND") or (
    "bookings.messaging.FileOutboxSmsBackend"
    if TESTING or DEMO_MODE
    else "bookings.messaging.ConsoleSmsBackend"
)
SMS_OUTBOX_PATH = Path(
    os.environ.get("SMS_OUTBOX_PATH")
    # Under test, one file per run outside the project: runs side by side never mix.
    or (
        Path(tempfile.gettempdir()) / f"permanence-sms-outbox-{os.getpid()}.jsonl"
        if TESTING
        else VAR_DIR / "sms-outbox.jsonl"
    )
)
# SMS caps per structure (bookings/sms_caps.py), against SMS pumping: past either, only the
# numbers the desk confirmed are still texted (the others get the e-mail only), and the
# structure's admins are told once a day. A busy desk sends about two SMS per appointment.
SMS_CAP_PER_HOUR = env_int("SMS_CAP_PER_HOUR", 60)
SMS_CAP_PER_DAY = env_int("SMS_CAP_PER_DAY", 300)
SMS_SENDER = env_str("SMS_SENDER", "Permanence")[:11]  # at most 11 letters or digits
SMS_TIMEOUT = float(env_str("SMS_TIMEOUT", "10"))
BREVO_API_URL = os.environ.get("BREVO_API_URL", "https://api.brevo.com/v3").rstrip("/")
BREVO_API_KEY = os.environ.get("BREVO_API_KEY", "")
# The secret in the URL of Brevo's SMS webhook (/webhooks/brevo/sms/<secret>/: delivery
# receipts and STOP answers). Empty: the endpoint answers 404.
BREVO_WEBHOOK_SECRET = os.environ.get("BREVO_WEBHOOK_SECRET", "")

# --- Read API (api/) -----------------------------------------------------------------------
# Calls per minute of one API client, and failed authentications per minute of one address.
API_RATE_LIMIT_PER_MINUTE = env_int("API_RATE_LIMIT_PER_MINUTE", 300)
API_AUTH_FAILURES_PER_MINUTE = env_int("API_AUTH_FAILURES_PER_MINUTE", 30)

# --- Reports --------------------------------------------------------------------------------
# Threshold rule of the anonymised reports: a count of people below it is never published
# (11: the French official-statistics practice for data on individuals).
REPORTS_THRESHOLD = env_int("REPORTS_THRESHOLD", 11)
# Days after its end during which a period stays open to late entries: then it is closed, its
# anonymised reports are published once and never change (reports.periods.is_closed).
REPORTS_GRACE_DAYS = env_int("REPORTS_GRACE_DAYS", 5)
