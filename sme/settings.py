"""Settings of the platform: every value that varies between machines comes from the environment
through the strict helpers of sme.env; .env.example lists them all."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONE, SELF

from sme.env import env_bool, env_choice, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY", "insecure-development-key-only-for-debug" if DEBUG else None)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "axes",
    # The second factor's devices (accounts.second_factor): TOTP keys, last step used, throttle.
    "django_otp",
    "django_otp.plugins.otp_totp",
    "ninja",
    "lib",
    "ops",
    "audit",
    "accounts",
    "directory",
    "notices",
    "reports",
    "review",
    "stats",
    "transfer",
    "jobs",
    "analytics",
    "loadtest",
    "portal",
    "api",
]

MIDDLEWARE = [
    # First, so that the log lines of every layer below carry the request id; it also answers
    # /healthz before any of them (no session, user or host check for the load balancer).
    "ops.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Static files straight from gunicorn (README "Production"), before anything touches a session.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Early, so that the pages of the middleware below (a refused CSRF token) carry the policy too.
    "csp.middleware.CSPMiddleware",
    # Above everything that queries (sessions, users, views), below the security headers: a
    # request failing because the database cannot be reached gets a 503 with a message, not a
    # 500 (ops.outage).
    "ops.outage.DatabaseOutageMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.IdleSessionMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "audit.context.RequestOriginMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # An administrator's session that did not pass the login's second-factor rule is ended; before
    # the password expiry, whose page it would otherwise open to such a session.
    "accounts.middleware.SecondFactorMiddleware",
    # Last, so that its refusals still pass through the headers and the request origin above.
    "accounts.middleware.PasswordExpiryMiddleware",
]

ROOT_URLCONF = "sme.urls"
WSGI_APPLICATION = "sme.wsgi.application"

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
                "portal.context_processors.navigation",
            ],
        },
    },
]

# A web or worker process keeps its database connection for DATABASE_CONN_MAX_AGE seconds instead
# of opening one per request: on PostgreSQL a new connection (a forked backend, its settings) cost
# more than the minimal request itself, 170 → 506 requests/s (docs/benchmarks.md). A connection
# found broken is replaced before the request uses it (health checks).
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several requests and a background job write at once in the demo (sessions, a bulk import):
    # take the write lock when a transaction begins and wait for it, rather than fail when a
    # reading transaction cannot become a writing one; WAL lets pages read meanwhile.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # The analytics tables group tens of thousands of aggregate rows: enough memory to hash them
    # rather than sort on disk (PostgreSQL's default is 4 MB), and no JIT compilation, which costs
    # more than it saves on queries of this size (docs/benchmarks.md).
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "options", f"-c work_mem={env_str('DATABASE_WORK_MEM', '64MB')} -c jit=off"
    )
# A streaming replica of the primary (README "Production"): the analytics page, its exports and
# report and the API's figures read there inside sme.routers.replica_reads(); everything else
# stays on default. In tests it mirrors default: nothing is created for it, and sme.routers sends
# its reads through default.
DATABASE_ROUTERS: list[str] = []
if replica_url := env_str("DATABASE_REPLICA_URL", ""):
    DATABASES["replica"] = dj_database_url.parse(
        replica_url, conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60), conn_health_checks=True
    )
    if DATABASES["replica"]["ENGINE"] == "django.db.backends.postgresql":
        # The same session settings as the primary: it answers the same grouping queries.
        DATABASES["replica"].setdefault("OPTIONS", {}).setdefault(
            "options", f"-c work_mem={env_str('DATABASE_WORK_MEM', '64MB')} -c jit=off"
        )
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
    DATABASE_ROUTERS = ["sme.routers.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # Axes first: it refuses a locked-out account before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Argon2id at OWASP's baseline cost (accounts.hashers says why not Django's default).
PASSWORD_HASHERS = [
    "accounts.hashers.BaselineArgon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "accounts.password_policy.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
    {"NAME": "accounts.password_policy.CharacterKindsValidator", "OPTIONS": {"min_kinds": 3}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "portal:home"
LOGOUT_REDIRECT_URL = "accounts:login"

# 等级保护: idle sessions end after 30 minutes; every request pushes the end forward. The rule is
# accounts.middleware.IdleSessionMiddleware's; it writes its last-request mark (and so saves the
# session) at most once a SESSION_MARK_SECONDS, not on every page: a save is 3 queries on the
# database store. The store's own expiry, pushed forward at each save, is never the earlier end.
SESSION_IDLE_SECONDS = env_int("SESSION_IDLE_SECONDS", 30 * 60)
SESSION_MARK_SECONDS = 60
ADMIN_PASSWORD_MAX_AGE_DAYS = env_int("ADMIN_PASSWORD_MAX_AGE_DAYS", 90)  # 0: no expiry
# The second factor (accounts.second_factor): the name authenticator apps show for the account.
OTP_TOTP_ISSUER = "中小企业监测平台"
SESSION_COOKIE_AGE = SESSION_IDLE_SECONDS
SESSION_SAVE_EVERY_REQUEST = False
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", False)
# Lax: the cookie still comes along when a user follows a link to the platform (a notice in an
# e-mail), but not on another site's POST, a second guard beside the CSRF token.
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
CSRF_COOKIE_SAMESITE = "Lax"
# No script reads the csrftoken cookie: forms carry the token as a field and htmx sends it from
# the page (hx-headers in base.html), so scripts may as well not see the cookie.
CSRF_COOKIE_HTTPONLY = True

# 等级保护: the headers that harden the browser side (tests/test_security_headers.py), so that
# `manage.py check --deploy` is clean with the production environment (README "Production").
# TLS usually ends at the proxy: with SECURE_PROXY_SSL_HEADER=true Django trusts its
# X-Forwarded-Proto (the proxy must set it and drop a client's own), and only then does it know a
# request came over HTTPS, which HSTS and the redirect below depend on.
if env_bool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Off by default: the proxy redirects plain HTTP itself, and without the proxy header above
# Django would take every request for plain HTTP and redirect for ever.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
# By default one year once the site is served over HTTPS (SECURE_COOKIES) and not debugging, where
# a local https:// would stick in the browser; Django only sends the header on HTTPS requests.
SECURE_HSTS_SECONDS = env_int(
    "SECURE_HSTS_SECONDS", 365 * 24 * 3600 if SESSION_COOKIE_SECURE and not DEBUG else 0
)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
# The preload list binds the registrable domain and every name under it for months: a decision
# for the owner of that domain, not for one application on it; off unless asked for.
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp): scripts, styles, fonts and requests from this origin only,
# with no inline script, event handler attribute or style at all; the templates keep it so
# (tests/test_security_headers.py) and the browser tests fail on any violation. The charts are
# inline SVG drawn with presentation attributes, not style (analytics.charts), and htmx is told
# not to inject its indicator <style> (the htmx-config meta of base.html). data: images are for
# the stylesheet of the API documentation (Swagger UI), which draws its icons with them.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
}

# Lock-out (django-axes): an account is locked for 15 minutes after 5 failed logins. Failures
# are counted per account only, so that one office behind a NAT does not lock itself out;
# accounts.security throttles an address that fails across many accounts.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCK_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_ON_SUCCESS = True
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_LOCK_OUT_AT_FAILURE = True
# A locked account stays locked 15 minutes from the lock, however often it is tried meanwhile.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_USERNAME_CALLABLE = "accounts.security.axes_username"
AXES_VERBOSE = False
# Counting per account only is deliberate (see above); the address throttle covers spraying.
# No AxesMiddleware: accounts.services.login_with_identifier turns a lock into a message on the
# login page and a 429 in the API, instead of the middleware replacing the whole response.
SILENCED_SYSTEM_CHECKS = [
    "axes.W006",
    "axes.W002",
    # HSTS preload is left to the owner of the domain on purpose (SECURE_HSTS_PRELOAD above).
    "security.W021",
]
LOGIN_IP_DISTINCT_ACCOUNTS = env_int("LOGIN_IP_DISTINCT_ACCOUNTS", 10)
LOGIN_IP_THROTTLE_SECONDS = env_int("LOGIN_IP_THROTTLE_SECONDS", 10)

# Verification codes for binding a mobile or an e-mail address.
VERIFICATION_CODE_TTL = timedelta(minutes=5)
VERIFICATION_RESEND_SECONDS = 60
VERIFICATION_DAILY_LIMIT = 10
VERIFICATION_MAX_TRIES = 5
VERIFICATION_SENDERS = {
    "mobile": env_str("SMS_SENDER", "accounts.senders.OutboxSender"),
    "email": env_str("EMAIL_SENDER", "accounts.senders.OutboxSender"),
}
SMS_GATEWAY_URL = env_str("SMS_GATEWAY_URL", "")
SMS_GATEWAY_TOKEN = env_str("SMS_GATEWAY_TOKEN", "")

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "noreply@sme-monitor.local")

# API bearer tokens.
API_TOKEN_TTL = timedelta(hours=env_int("API_TOKEN_HOURS", 12))
AUDIT_RETENTION_DAYS = env_int("AUDIT_RETENTION_DAYS", 365)  # purge_audit; 等级保护: >= 180

# The platform speaks Simplified Chinese only, whatever the browser asks for (no LocaleMiddleware):
# Django's own messages (password rules, the admin) must not turn English on an English browser.
LANGUAGE_CODE = "zh-hans"
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# collectstatic writes here; whitenoise serves it (README "Production").
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static")))
# Production (STATIC_MANIFEST=true, make serve-prod): file names carry a hash of their content, so
# browsers may cache them for ever, and whitenoise serves gzip/brotli copies made by collectstatic.
# This storage needs collectstatic's manifest before any page renders, so it stays off by default:
# runserver (make demo) and the tests use Django's plain storage from the app and static/ folders.
STATIC_MANIFEST = env_bool("STATIC_MANIFEST", False) and not DEBUG
STORAGES = {
    # Uploaded workbooks and job results, always read and written through this storage (never a
    # local path), so that app servers and workers keep no state of their own. FileSystemStorage
    # keeps them under MEDIA_ROOT (to be shared by every process); for an S3-compatible object
    # store, STORAGE_BACKEND=storages.backends.s3.S3Storage (django-storages, installed then, with
    # its bucket and endpoint in this entry's OPTIONS).
    "default": {
        "BACKEND": env_str("STORAGE_BACKEND", "django.core.files.storage.FileSystemStorage")
    },
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if STATIC_MANIFEST
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# With the manifest whitenoise indexes STATIC_ROOT once at start-up; without it, it looks each file
# up in the source folders at each request, so that nothing needs collecting first.
WHITENOISE_USE_FINDERS = WHITENOISE_AUTOREFRESH = not STATIC_MANIFEST
# Uploaded workbooks and job results; never served directly (jobs.views checks the owner). Every
# web and worker process must see the same directory.
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
# 上报导入: the largest workbook accepted (bytes); larger uploads get 413 with a message.
IMPORT_MAX_BYTES = env_int("IMPORT_MAX_BYTES", 10 * 1024 * 1024)
STATICFILES_DIRS = [BASE_DIR / "static"]

# Logs go to standard error, one line each: JSON for a log collector (LOG_FORMAT=json, the default
# unless DEBUG) or text for a person at a terminal (make demo). Every line carries the request id
# (ops.middleware) and the user's id (ops.logs). One handler, on the root logger, so that every
# logger's lines come out once and in the same format: the platform's own "sme.*" at LOG_LEVEL,
# Django's request errors and security warnings, and any library's warnings.
LOG_FORMAT = env_choice("LOG_FORMAT", ("json", "text"), "text" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_context": {"()": "ops.logs.RequestContextFilter"}},
    "formatters": {
        "json": {"()": "ops.logs.JsonFormatter"},
        "text": {
            "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s %(user)s] %(message)s"
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_context"],
        }
    },
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "sme": {"level": env_str("LOG_LEVEL", "INFO")},
        # Replaces Django's own handlers of "django" (plain text on the console under DEBUG, mail
        # to ADMINS, of which there are none): its lines go to the root's handler like the rest.
        "django": {"handlers": [], "level": "INFO"},
        "django.request": {"level": "WARNING"},  # 4xx as warnings, 5xx with the traceback
        "django.security": {"level": "WARNING"},  # DisallowedHost, suspicious operations
    },
}

# Reporting calendar: the report of a month is due on this day of the following month.
REPORT_DEADLINE_DAY = env_int("REPORT_DEADLINE_DAY", 20)
# 补报: how many months before the current report month may still be filled.
REPORT_BACKFILL_MONTHS = env_int("REPORT_BACKFILL_MONTHS", 12)
# Reasons for soft warnings that say nothing (the statistics bureau refuses them too), and the
# shortest reason accepted. Near-exact variants ("经核实，数据无误。") are refused as well.
REPORT_REFUSED_EXPLANATIONS = env_list(
    "REPORT_REFUSED_EXPLANATIONS",
    ["核实无误", "数据无误", "正常", "无", "没有", "同上", "数据准确", "已核实", "确认无误"],
)
REPORT_MIN_EXPLANATION_CHARS = env_int("REPORT_MIN_EXPLANATION_CHARS", 5)
# 填报提醒 (manage.py send_reminders): from this day of the month after the report month; the
# scheduler (celery beat) sends them every day at REMINDER_HOUR o'clock, Beijing time.
REMINDER_DAY = env_int("REMINDER_DAY", 15)
REMINDER_HOUR = env_int("REMINDER_HOUR", 9)

# The deadline-day benchmark's ceiling endpoint (POST /loadtest/ping/, bin/load-test): off, it is
# an unknown address; bin/load-test turns it on for the server it starts, never in production.
LOAD_TEST_ENDPOINTS = env_bool("LOAD_TEST_ENDPOINTS", False)

# Redis: the shared cache (counts of the worklist) and the broker of the task queue. Unset (make
# demo), the cache is per process and background work runs in-process (jobs.runner).
REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "sme",
        }
    }
    # Sessions are read from Redis by every web process and written through to the database:
    # cached_db rather than cache, so that restarting or flushing Redis (or its evicting keys under
    # memory pressure) does not log every user out in the middle of the reporting days. Nothing
    # else depends on the engine: django-axes keeps its counts in the database (its default
    # handler), and the address throttle (accounts.security) reads axes' failure log.
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
# "celery" hands jobs to the workers; "thread" runs them in a thread of the web process;
# "inline" runs them before the request returns (the tests).
JOB_RUNNER = env_choice(
    "JOB_RUNNER", ("celery", "thread", "inline"), "celery" if REDIS_URL else "thread"
)
# A running job whose last sign of life (taken, or its last progress) is older than this has lost
# its worker (killed, out of memory, a restart): jobs.runner.reap_stale marks it failed, and sends
# a queued job that long unstarted to the queue again. Longer than the longest pause between two
# progress() calls of any job (a bulk import: one chunk of 100 rows, or counting the rows first).
JOB_STALE_AFTER = timedelta(minutes=env_int("JOB_STALE_MINUTES", 10))
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_TASK_IGNORE_RESULT = True  # a job's outcome is kept in its own table (jobs.models.Job)
# The worker logs through LOGGING like the web processes (JSON lines with the job's id as the
# request id, ops.logs) instead of replacing the root logger's handlers with Celery's own.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "Asia/Shanghai"
CELERY_BEAT_SCHEDULE = {
    "send-reminders": {
        "task": "stats.tasks.send_daily_reminders",
        "schedule": crontab(hour=REMINDER_HOUR, minute=0),
    },
    # Jobs whose worker died: failed with a message instead of 处理中 for ever (jobs.runner).
    # Every 5 minutes, so that a lost job is reported at most JOB_STALE_AFTER + 5 minutes late.
    "reap-stale-jobs": {
        "task": "jobs.tasks.reap_stale_jobs",
        "schedule": timedelta(minutes=5),
    },
}
