"""Fangkong settings: one file, driven by the environment (SQLite by default, PostgreSQL by DATABASE_URL)."""

import os
from pathlib import Path

import dj_database_url

from fangkong.lib import env
from fangkong.lib.env import envbool, envint, envjson, envstr

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(envstr("FANGKONG_VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = envbool("DEBUG", False)
SECRET_KEY = envstr("SECRET_KEY", "dev-only-insecure-key-change-me-in-production-0123456789")
# Key for encrypting identity numbers at rest; falls back to SECRET_KEY so development works.
FIELD_ENCRYPTION_KEY = envstr("FIELD_ENCRYPTION_KEY", SECRET_KEY)
ALLOWED_HOSTS = envstr("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")
CSRF_TRUSTED_ORIGINS = [o for o in envstr("CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "ninja",  # its own Swagger UI files (static/ninja/) for /api/v1/docs instead of a CDN
    "huey.contrib.djhuey",
    "fangkong.accounts",
    "fangkong.audit",
    "fangkong.org",
    "fangkong.health",
    "fangkong.reports",
    "fangkong.notify",
    "fangkong.screen",
    "fangkong.notices",
    "fangkong.relief",
    "fangkong.jobs",
    "fangkong.demo",
    # Before allauth, so that a template of ours would take precedence over its own.
    "fangkong.sso",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "fangkong.lib.request_context.RequestContextMiddleware",
    "fangkong.accounts.middleware.ForcePasswordChangeMiddleware",
]

ROOT_URLCONF = "fangkong.urls"
WSGI_APPLICATION = "fangkong.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "fangkong" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "fangkong.org.context_processors.nav",
                "fangkong.relief.context_processors.nav",
            ],
        },
    },
]

# SQLite (WAL, immediate transactions, busy timeout) unless DATABASE_URL says otherwise.
DATABASE_URL = envstr("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        DATABASES["default"].setdefault("OPTIONS", {})
        DATABASES["default"]["TEST"] = {"NAME": envstr("TEST_DATABASE_NAME", "test_fangkong")}
else:
    DATABASES = {
        "default": {
            "ENGINE": "fangkong.lib.sqlite",
            "NAME": VAR_DIR / "fangkong.sqlite3",
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
                ),
            },
        }
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and envbool(
    "DATABASE_POOL", False
):
    # psycopg's pool: connections are reused without CONN_MAX_AGE holding one per thread.
    DATABASES["default"]["OPTIONS"]["pool"] = {
        "min_size": 2,
        "max_size": envint("DATABASE_POOL_SIZE", 8),
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
# Passwords are checked by one backend that also applies the lock-out rules and refuses people
# whose left date has passed (accounts/backends.py); it replaces Django's ModelBackend.
AUTHENTICATION_BACKENDS = ["fangkong.accounts.backends.SignInBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "fangkong.accounts.validators.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "fangkong.accounts.validators.CharacterClassValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

# Sign-in lock-out (accounts/throttle.py; the policy and why are in the README).
SIGNIN_WINDOW_MINUTES = envint("SIGNIN_WINDOW_MINUTES", 15)
SIGNIN_ADDRESS_LIMIT = envint("SIGNIN_ADDRESS_LIMIT", 30)  # failures per address per window
SIGNIN_ACCOUNT_FREE = envint("SIGNIN_ACCOUNT_FREE", 5)  # failures per account before delays
SIGNIN_MAX_DELAY_MINUTES = envint("SIGNIN_MAX_DELAY_MINUTES", 15)
SIGNIN_DEVICE_LIMIT = envint("SIGNIN_DEVICE_LIMIT", 5)  # failures per trusted browser per window
SIGNIN_DEVICE_DAYS = envint("SIGNIN_DEVICE_DAYS", 180)
SIGNIN_UNLOCK_MINUTES = envint("SIGNIN_UNLOCK_MINUTES", 10)  # an SMS unlock code lives this long
SIGNIN_UNLOCK_TRIES = envint("SIGNIN_UNLOCK_TRIES", 5)
SIGNIN_UNLOCK_INTERVAL_SECONDS = envint("SIGNIN_UNLOCK_INTERVAL_SECONDS", 60)  # per account
SIGNIN_UNLOCK_PER_ADDRESS_HOUR = envint("SIGNIN_UNLOCK_PER_ADDRESS_HOUR", 10)

# Accounts from the roster (accounts/provisioning.py).
ACCOUNT_USERNAME_RULE = envstr("ACCOUNT_USERNAME_RULE", "mobile")  # or "staff_number"
ACCOUNT_ACTIVATION_DAYS = envint("ACCOUNT_ACTIVATION_DAYS", 14)
# Key of the HMAC that stores one-time codes; derived from SECRET_KEY when empty.
ACCOUNT_CODE_KEY = envstr("ACCOUNT_CODE_KEY", "")
# Subtrees with at most this many people get their accounts at once; larger ones in the worker.
ACCOUNT_BATCH_INLINE = envint("ACCOUNT_BATCH_INLINE", 300)
ACCOUNT_SLIPS_MAX = envint("ACCOUNT_SLIPS_MAX", 2000)  # slips in one PDF
# The address people type to sign in, printed on slips and sent in SMS.
FANGKONG_SITE_URL = envstr("FANGKONG_SITE_URL", "http://127.0.0.1:8000")

SESSION_COOKIE_AGE = envint("SESSION_COOKIE_AGE", 8 * 3600)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# --- Content-Security-Policy (django-csp) ---
# Scripts only from our own static files: no inline <script>, no on…= attributes, no eval.
# Data reaches pages through json_script and data-* attributes, read by fangkong/static/js/
# (tests/test_no_unsafe_markup.py keeps it so). Styles come from our files; style *attributes*
# stay allowed because a few templates use style="…" and ECharts writes its tooltips as markup
# with inline styles. Style attributes cannot run script, and any url() in them is held to
# img-src. <style> elements stay refused (htmx's own is switched off in base.html).
from csp.constants import NONE, SELF, UNSAFE_INLINE  # noqa: E402

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "style-src-attr": [UNSAFE_INLINE],
        "img-src": [SELF, "data:", "blob:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}

# Behind TLS in production: secure cookies, HSTS, redirect to HTTPS.
HTTPS = envbool("FANGKONG_HTTPS", False)
if HTTPS:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# Serve straight from the app folders: no collectstatic step is needed to run.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
STATICFILES_DIRS = [BASE_DIR / "fangkong" / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if envbool("FANGKONG_MANIFEST_STATIC", False)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
MEDIA_ROOT = VAR_DIR / "media"
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
# Largest roster file accepted; bigger uploads are refused before parsing.
ROSTER_MAX_BYTES = envint("ROSTER_MAX_BYTES", 20 * 1024 * 1024)
# Every uploaded workbook (rosters, relief ledgers; fangkong/lib/sheets.py): a zip whose entries add
# up to more than this is refused before inflating (a zip bomb). 2 GiB holds a few full Excel sheets.
SHEET_MAX_UNPACKED_BYTES = envint("SHEET_MAX_UNPACKED_BYTES", 2 * 1024 * 1024 * 1024)

# Relief audit (fangkong/relief): upload limit, files above this size import in the worker,
# DuckDB threads per query.
RELIEF_MAX_UPLOAD_BYTES = envint("RELIEF_MAX_UPLOAD_BYTES", 512 * 1024 * 1024)
RELIEF_BACKGROUND_BYTES = envint("RELIEF_BACKGROUND_BYTES", 2 * 1024 * 1024)
RELIEF_DUCKDB_THREADS = envint("RELIEF_DUCKDB_THREADS", 2)

# Background jobs: Huey with SQLite storage by default, Redis when REDIS_URL is set.
REDIS_URL = envstr("REDIS_URL", "")
if REDIS_URL:
    HUEY = {"huey_class": "huey.RedisHuey", "name": "fangkong", "url": REDIS_URL}
else:
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": "fangkong",
        "filename": str(VAR_DIR / "huey.sqlite3"),
    }
HUEY["immediate"] = envbool("HUEY_IMMEDIATE", False)
HUEY["consumer"] = {"workers": 2, "worker_type": "thread"}

NINJA_PAGINATION_PER_PAGE = 50

# Check-ins lock this many minutes after the start of their day (1440 = midnight); afterwards
# only a liaison can correct them, with a reason.
CHECKIN_LOCK_AFTER_MINUTES = envint("CHECKIN_LOCK_AFTER_MINUTES", 24 * 60)
# Individual check-ins older than this are purged (`manage.py purge_checkins`); totals are kept.
HEALTH_RETENTION_DAYS = envint("HEALTH_RETENTION_DAYS", 180)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
    # urllib3 logs every request line at DEBUG, query string included, and WeCom's gettoken takes
    # the organisation's secret in the query: kept at WARNING whatever LOG_LEVEL says.
    "loggers": {"urllib3": {"level": "WARNING"}},
}

# --- Outbound channels (fangkong/notify) ---
# Mail goes through Django's SMTP backend; the test runner's in-memory EMAIL_BACKEND is not used
# for the outbox, so the backend the outbox sends with is its own setting.
NOTIFY_EMAIL_BACKEND = envstr("NOTIFY_EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = envstr("EMAIL_HOST", "localhost")
EMAIL_PORT = envint("EMAIL_PORT", 25)
EMAIL_HOST_USER = envstr("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = envstr("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = envbool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = envint("EMAIL_TIMEOUT", 20)
DEFAULT_FROM_EMAIL = envstr("DEFAULT_FROM_EMAIL", "防控 Fangkong <noreply@fangkong.localhost>")
# A generic SMS gateway: POST {"mobile", "content", "sign", "id"} as JSON with a bearer token.
SMS_GATEWAY_URL = envstr("SMS_GATEWAY_URL", "")
SMS_GATEWAY_TOKEN = envstr("SMS_GATEWAY_TOKEN", "")
SMS_SIGN = envstr("SMS_SIGN", "防控")
# Group robots by name, as JSON: {"hg-duty": {"url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/
# send?key=…"}, "hb": {"url": "https://oapi.dingtalk.com/robot/send?access_token=…",
# "secret": "SEC…", "mentions": ["138…"]}}. A message's address names the robot.
# Malformed JSON does not stop the process: the system checks say what is wrong (fangkong/checks.py).
FANGKONG_WEBHOOKS = envjson("FANGKONG_WEBHOOKS", {})
NOTIFY_HTTP_TIMEOUT = envint("NOTIFY_HTTP_TIMEOUT", 10)
# A message still being sent this long after a worker took it is reported on the outbox page.
NOTIFY_STUCK_AFTER_MINUTES = envint("NOTIFY_STUCK_AFTER_MINUTES", 10)

# --- Job leases (fangkong/jobs) ---
# How long a background job's lease lasts without renewal: a worker killed while holding one
# stops the job for at most this long (the next run after it takes over). Running jobs renew it.
JOB_LEASE_SECONDS = envint("JOB_LEASE_SECONDS", 180)

# --- Plausibility bounds and input hygiene (fangkong/lib/plausible.py, fangkong/lib/text.py) ---
# Dates accepted around the server's today, as (days before, days after), by what they are.
PLAUSIBLE_DAYS = {
    "form": (envint("PLAUSIBLE_FORM_PAST_DAYS", 366), envint("PLAUSIBLE_FORM_FUTURE_DAYS", 366)),
    "view": (envint("PLAUSIBLE_VIEW_PAST_DAYS", 3660), envint("PLAUSIBLE_VIEW_FUTURE_DAYS", 366)),
    "ledger": (envint("RELIEF_PAST_DAYS", 30 * 366), envint("RELIEF_FUTURE_DAYS", 366)),
}
# A figure of a daily report may not exceed the people on the unit's roster, nor this.
REPORT_COUNT_CEILING = envint("REPORT_COUNT_CEILING", 10_000_000)
# API paging: at most this many items per page; offsets beyond the cap answer 422.
NINJA_PAGINATION_CLASS = "fangkong.lib.paging.BoundedPagination"
NINJA_PAGINATION_MAX_LIMIT = envint("API_MAX_PAGE_SIZE", 200)
API_MAX_OFFSET = envint("API_MAX_OFFSET", 1_000_000_000)
# Addresses and query strings with control characters are refused before any view runs.
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.middleware.common.CommonMiddleware"),
    "fangkong.lib.text.ControlCharacterMiddleware",
)
# Uploads larger than FILE_UPLOAD_MAX_MEMORY_SIZE spool here, where the clean-up job finds what
# a killed web process left; relief files with no row, staging and temporary files older than
# the grace period are removed (`manage.py relief_cleanup`, hourly job).
FILE_UPLOAD_TEMP_DIR = VAR_DIR / "upload-tmp"
FILE_UPLOAD_TEMP_DIR.mkdir(parents=True, exist_ok=True)
RELIEF_ORPHAN_GRACE_HOURS = envint("RELIEF_ORPHAN_GRACE_HOURS", 24)
# A worker checking an import touches it at least this often; an import "running" with no sign
# of life for longer is abandoned (its worker died) and may be discarded.
RELIEF_IMPORT_STALE_MINUTES = envint("RELIEF_IMPORT_STALE_MINUTES", 10)

# --- Sign-in through work platforms (fangkong/sso, django-allauth) ---
# A platform identity is bound to the person in post whose roster mobile equals the mobile the
# platform returns, after that person confirms once; nobody is ever signed up by a platform.
ACCOUNT_ADAPTER = "fangkong.sso.adapter.AccountAdapter"
SOCIALACCOUNT_ADAPTER = "fangkong.sso.adapter.SocialAccountAdapter"
ACCOUNT_EMAIL_VERIFICATION = "none"
SOCIALACCOUNT_EMAIL_VERIFICATION = "none"
SOCIALACCOUNT_EMAIL_REQUIRED = False
SOCIALACCOUNT_AUTO_SIGNUP = False
SOCIALACCOUNT_STORE_TOKENS = False  # platform tokens are used once and never kept
# The buttons are links: a form POST whose answer redirects to the platform's origin would be
# stopped by a Content-Security-Policy with form-action 'self'. Starting by GET can only sign the
# visitor in as their own platform identity (the state ties the callback to their session), and a
# first binding still needs the person's confirmation, posted to our own page.
SOCIALACCOUNT_LOGIN_ON_GET = True
SOCIALACCOUNT_REQUESTS_TIMEOUT = envint("SSO_HTTP_TIMEOUT", 10)
SSO_CONFIRM_SECONDS = envint("SSO_CONFIRM_MINUTES", 10) * 60
# Behind TLS the platforms must be given https:// callback addresses.
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if HTTPS else "http"


def _sso_app(client_id: str, secret: str, name: str = "", provider_id: str = "", **extra) -> dict:
    app = {"client_id": client_id, "secret": secret, "name": name, "settings": extra}
    return app | ({"provider_id": provider_id} if provider_id else {})


# The platform settings as given, for the system check that finds one set without the others.
SSO_ENVIRONMENT = {
    name: envstr(name, "")
    for name in (
        "SSO_WECOM_CORP_ID",
        "SSO_WECOM_AGENT_ID",
        "SSO_WECOM_SECRET",
        "SSO_WECOM_MODE",
        "SSO_DINGTALK_CLIENT_ID",
        "SSO_DINGTALK_CLIENT_SECRET",
        "SSO_OIDC_SERVER_URL",
        "SSO_OIDC_CLIENT_ID",
        "SSO_OIDC_SECRET",
    )
}
SOCIALACCOUNT_PROVIDERS: dict = {}
if envstr("SSO_WECOM_CORP_ID", ""):
    # mode "oauth": opened inside the WeCom app; "qr": scan a QR code in a desktop browser.
    SOCIALACCOUNT_PROVIDERS["wecom"] = {
        "APPS": [
            _sso_app(
                envstr("SSO_WECOM_CORP_ID", ""),
                envstr("SSO_WECOM_SECRET", ""),
                agent_id=envstr("SSO_WECOM_AGENT_ID", ""),
                mode=envstr("SSO_WECOM_MODE", "oauth"),
                api_url=envstr("SSO_WECOM_API_URL", ""),
                authorize_url=envstr("SSO_WECOM_AUTHORIZE_URL", ""),
            )
        ]
    }
if envstr("SSO_DINGTALK_CLIENT_ID", ""):
    SOCIALACCOUNT_PROVIDERS["dingtalk"] = {
        "APPS": [
            _sso_app(
                envstr("SSO_DINGTALK_CLIENT_ID", ""),
                envstr("SSO_DINGTALK_CLIENT_SECRET", ""),
                api_url=envstr("SSO_DINGTALK_API_URL", ""),
                authorize_url=envstr("SSO_DINGTALK_AUTHORIZE_URL", ""),
            )
        ]
    }
if envstr("SSO_OIDC_SERVER_URL", ""):
    SOCIALACCOUNT_PROVIDERS["openid_connect"] = {
        "APPS": [
            _sso_app(
                envstr("SSO_OIDC_CLIENT_ID", ""),
                envstr("SSO_OIDC_SECRET", ""),
                name=envstr("SSO_OIDC_NAME", "统一身份认证"),
                provider_id=envstr("SSO_OIDC_ID", "oidc"),
                server_url=envstr("SSO_OIDC_SERVER_URL", ""),
            )
        ]
    }

# Environment values that did not parse (the defaults were used): reported by the system checks.
ENV_PROBLEMS = env.problems()
