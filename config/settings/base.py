"""Settings shared by every environment. Every value comes from the environment."""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "simple_history",
    "oauth2_provider",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_htmx",
    "csp",
    "caseload",
    "console",
]

MIDDLEWARE = [
    "api.audit.AuditContextMiddleware",  # the request id every audit event of the request carries
    "api.middleware.JsonErrorsMiddleware",  # sees every answer, errors included
    "django.middleware.security.SecurityMiddleware",
    "api.body_limit.RequestBodyLimitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "api.middleware.NoStoreMiddleware",
    "csp.middleware.CSPMiddleware",  # the Content-Security-Policy below
    "api.middleware.Part2NoticeMiddleware",
    # Session, CSRF and messages are Django's, skipped for bearer-token API requests (no cookie).
    "api.middleware.SessionMiddleware",
    "api.middleware.CommonMiddleware",  # Django's, without slash redirects under /api/
    "django.middleware.csrf.CsrfViewMiddleware",  # Django's own, as `check --deploy` requires
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_htmx.middleware.HtmxMiddleware",  # request.htmx: the console's partial updates
    "api.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "api.lockout.SignInLockoutMiddleware",
]
if env("DATABASE_REPLICA_URL"):
    # After the answer: a staff member's write starts their read-your-writes window.
    MIDDLEWARE.insert(1, "api.routing.ReadYourWritesMiddleware")

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "console.context.console",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'caseload.sqlite3'}",
        conn_max_age=int(env("DATABASE_CONN_MAX_AGE", "60")),
    )
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# A kept connection is checked before each request reuses it, so one the database dropped (a
# restart, a failover) is replaced at once instead of failing the request.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# PostgreSQL cancels any statement (a lock wait included) running longer than this; the API
# answers 503 `database_timeout` instead of holding a worker (docs/operations.md, "Limits").
# 0 turns it off.
CASELOAD_STATEMENT_TIMEOUT_MS = int(env("CASELOAD_STATEMENT_TIMEOUT_MS", "5000"))
# How long opening a connection may take before the request answers 503 `database_unavailable`.
CASELOAD_DATABASE_CONNECT_TIMEOUT_SECONDS = int(
    env("CASELOAD_DATABASE_CONNECT_TIMEOUT_SECONDS", "5")
)
_URL_OPTIONS = dict(DATABASES["default"].get("OPTIONS", {}))
# Caseload reaches PostgreSQL through a pooler in transaction mode, such as PgBouncer
# (docs/operations.md, "Scale-out"): a server connection serves one transaction, then another
# client's. Nothing may then rely on session state between transactions: no server-side
# (WITH HOLD) cursors, and no startup `options`, which PgBouncer refuses; the statement timeout
# is then set on the database role instead. Prepared statements are off in any case (Django's
# psycopg default).
CASELOAD_TRANSACTION_POOLING = env_bool("CASELOAD_TRANSACTION_POOLING")
DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = CASELOAD_TRANSACTION_POOLING


def database_options(statement_timeout_ms: int, url_options: dict | None = None) -> dict:
    """OPTIONS for a database: the URL's, plus the timeouts on PostgreSQL."""
    url_options = _URL_OPTIONS if url_options is None else url_options
    if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        return url_options
    timeout = (
        [] if CASELOAD_TRANSACTION_POOLING else [f"-c statement_timeout={statement_timeout_ms}"]
    )
    options = " ".join(filter(None, [url_options.get("options"), *timeout]))
    return {
        "connect_timeout": CASELOAD_DATABASE_CONNECT_TIMEOUT_SECONDS,
        **url_options,
        **({"options": options} if options else {}),
    }


DATABASES["default"]["OPTIONS"] = database_options(CASELOAD_STATEMENT_TIMEOUT_MS)

# A streaming replica for staff reads that may lag (caseload/routing.py; docs/operations.md,
# "Scale-out"). Reads skip it while it lags more than CASELOAD_REPLICA_MAX_LAG_SECONDS, and an
# actor's reads skip it for CASELOAD_READ_YOUR_WRITES_SECONDS after their last write (keep
# this at least the lag limit, so a write is on the replica by the time the window closes).
DATABASE_REPLICA_URL = env("DATABASE_REPLICA_URL", "")
CASELOAD_REPLICA_MAX_LAG_SECONDS = float(env("CASELOAD_REPLICA_MAX_LAG_SECONDS", "5"))
CASELOAD_READ_YOUR_WRITES_SECONDS = float(env("CASELOAD_READ_YOUR_WRITES_SECONDS", "10"))
# A replica that does not answer within this long is skipped (and tried again seconds later).
REPLICA_CONNECT_TIMEOUT_SECONDS = 2


def replica_database(statement_timeout_ms: int) -> dict:
    """The `replica` alias: the replica's URL, the primary's timeouts, failing over to it."""
    if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured("DATABASE_REPLICA_URL needs a PostgreSQL DATABASE_URL.")
    replica = dj_database_url.parse(
        DATABASE_REPLICA_URL, conn_max_age=DATABASES["default"]["CONN_MAX_AGE"]
    )
    if replica["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured("DATABASE_REPLICA_URL must name a PostgreSQL standby.")
    url_options = dict(replica.get("OPTIONS", {}))
    options = database_options(statement_timeout_ms, url_options)
    options["connect_timeout"] = url_options.get("connect_timeout", REPLICA_CONNECT_TIMEOUT_SECONDS)
    return replica | {
        "ENGINE": "caseload.replica",
        "ATOMIC_REQUESTS": False,
        "CONN_HEALTH_CHECKS": True,
        "DISABLE_SERVER_SIDE_CURSORS": CASELOAD_TRANSACTION_POOLING,
        # Tests run against one database; the replica alias reads it too.
        "TEST": {"MIRROR": "default"},
        "OPTIONS": options,
    }


if DATABASE_REPLICA_URL:
    DATABASES["replica"] = replica_database(CASELOAD_STATEMENT_TIMEOUT_MS)
    DATABASE_ROUTERS = ["caseload.routing.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "caseload.Staff"
AUTHENTICATION_BACKENDS = [
    # ModelBackend behind the per-username sign-in lockout (caseload/services/signins.py).
    "caseload.auth_backends.LockoutModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
# Argon2 first: new and re-hashed passwords use it; older hashes still verify.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    # Repeated characters, keyboard and alphabet runs, dressed-up common passwords
    # (caseload/passwords.py).
    {"NAME": "caseload.passwords.VarietyValidator"},
    {"NAME": "caseload.passwords.SequenceValidator"},
    {"NAME": "caseload.passwords.CommonStemValidator"},
]
# A browser sign-in without `next` lands on the landing page (api/discovery.py).
LOGIN_REDIRECT_URL = "/"
GUARDIAN_RAISE_403 = False
ANONYMOUS_USER_NAME = None  # guardian: no anonymous user row; anonymous requests answer 401

LANGUAGE_CODE = "en-us"
TIME_ZONE = env("DJANGO_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env("DJANGO_STATIC_ROOT") or BASE_DIR / "staticfiles")

# Request bodies over this size answer 413 before they are read (api/body_limit.py).
CASELOAD_MAX_BODY_BYTES = int(env("CASELOAD_MAX_BODY_BYTES", str(1024 * 1024)))
DATA_UPLOAD_MAX_MEMORY_SIZE = CASELOAD_MAX_BODY_BYTES

# HIPAA automatic logoff: browser sessions (the console's included) end after
# CASELOAD_CONSOLE_IDLE_MINUTES (default 15) of inactivity; SESSION_COOKIE_AGE, when set, wins.
CASELOAD_CONSOLE_IDLE_MINUTES = int(env("CASELOAD_CONSOLE_IDLE_MINUTES", "15"))
SESSION_COOKIE_AGE = int(env("SESSION_COOKIE_AGE", str(CASELOAD_CONSOLE_IDLE_MINUTES * 60)))
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# The staff console (docs/console.md): a TOTP second factor (django-otp) is `required`, or `off`
# (development only; production refuses it unless CASELOAD_CONSOLE_MFA_OFF_ALLOWED is set).
CASELOAD_CONSOLE_MFA = env("CASELOAD_CONSOLE_MFA", "required")
if CASELOAD_CONSOLE_MFA not in {"required", "off"}:
    raise ImproperlyConfigured("CASELOAD_CONSOLE_MFA must be 'required' or 'off'.")
OTP_TOTP_ISSUER = env("CASELOAD_CONSOLE_TOTP_ISSUER", "Caseload")
# A strict Content-Security-Policy (django-csp): scripts, styles, images and forms from this
# origin only, no inline script or style, no framing. The API's browsable docs page (Swagger UI
# starts itself with an inline script) and the admin are left out.
CONTENT_SECURITY_POLICY = {
    "EXCLUDE_URL_PREFIXES": ["/api/docs/", "/admin/"],
    "DIRECTIVES": {
        "default-src": ["'none'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
    },
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.BearerTokenAuthentication",
        "api.authentication.OAuth2ClientAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["api.v1.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["api.parsers.JSONParser"],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

API_DESCRIPTION = """Case management for opioid-use-disorder treatment programs.

Authenticate with `Authorization: Bearer <token>`, a staff member's personal API token (or a
browser session). Every error answers in one JSON shape, `Error`: a stable `code`, a `detail`
and one entry in `errors` per failing field. Every operation lists the errors it can give; any
request may also be refused with 413 (a body over the size limit) or 415 (a `Content-Type`
charset that is not a text encoding) before it reaches an operation, and may answer 503 with
`Retry-After` when it cannot be served now (`database_unavailable`, `database_timeout`,
`request_timeout`): retry it later. `DELETE` is answered 405
everywhere: clinical records are corrected (marked entered in error), never deleted.

Reads of one record carry an `ETag`; send it back as `If-Match` on a change to have it refused
with 412 if someone changed the record since."""

SPECTACULAR_SETTINGS = {
    "TITLE": "Caseload API",
    "DESCRIPTION": API_DESCRIPTION,
    "VERSION": "1.0.0",
    # Operation ids and tags leave the prefix out: `patients_list`, tag `patients`.
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.schema.postprocess_tags",
    ],
    "ENUM_NAME_OVERRIDES": {
        "AppointmentStatusEnum": "caseload.models.AppointmentStatus",
        "KindEnum": "caseload.models.AppointmentKind",
        "AlertKindEnum": "caseload.models.AlertKind",
        "AlertStatusEnum": "caseload.models.AlertStatus",
        "ReminderChannelEnum": "caseload.models.ReminderChannel",
        "ReminderStatusEnum": "caseload.models.ReminderStatus",
        "FollowUpStatusEnum": "caseload.models.FollowUpStatus",
        "DeliveryStatusEnum": "caseload.models.DeliveryStatus",
        "WebhookEventEnum": "caseload.models.WebhookEvent",
        "EnrollmentStatusEnum": "caseload.models.EnrollmentStatus",
        # An enrollment's level and a placement's recommended and actual levels: one code set.
        "AsamLevelEnum": "caseload.models.AsamLevel",
        # What a new record may be created as; answers carry every status above. Without a
        # name of their own they would share (and overwrite) the names above.
        "AppointmentNewStatusEnum": [("booked", "Booked")],
        "EnrollmentNewStatusEnum": [("intake", "Intake"), ("active", "Active")],
        "RecordStatusEnum": "caseload.models.RecordStatus",
        "MedicationStatusEnum": "caseload.models.MedicationStatus",
        "MedicationSettableStatusEnum": "caseload.models.SETTABLE_MEDICATION_STATUSES",
        "ReferralStatusEnum": "caseload.models.ReferralStatus",
        # An integration client's basis, every basis a ledger row names, and those a
        # disclosure made outside the system may name.
        "DisclosureBasisEnum": "caseload.models.DisclosureBasis",
        "LedgerBasisEnum": "caseload.models.LedgerBasis",
        "OffSystemBasisEnum": [
            ("consent", "Consent"),
            ("medical_emergency", "Medical emergency"),
            ("court_order", "Court order"),
            ("audit_evaluation", "Audit and evaluation"),
            ("research", "Research"),
        ],
    },
}

# Celery: eager (in-process) unless a broker is configured.
REDIS_URL = env("REDIS_URL")
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
# `routing` keeps each staff member's last write for read-your-writes (caseload/routing.py): in
# Redis when there is one, so every web process sees it.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "routing": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "routing"}
    ),
}
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Workers log through LOGGING above (and its redaction), not Celery's own root handler.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TIMEZONE = TIME_ZONE
# The Redis broker restores a message its worker took but never acknowledged (acks_late) after
# this long. No task is scheduled with an ETA or countdown (retry times live on database rows),
# so any value longer than the longest task is safe; an hour leaves a wide margin.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": int(env("CELERY_VISIBILITY_TIMEOUT_SECONDS", "3600")),
}
# No task may run for ever: past the soft limit it is interrupted (its transaction rolls back
# and the work stays in the database for beat's next scan); past the hard limit the worker child
# running it is replaced. Both are well under the visibility timeout above. Enforced by the
# default prefork pool (docs/operations.md, "Limits").
CELERY_TASK_SOFT_TIME_LIMIT = int(env("CELERY_TASK_SOFT_TIME_LIMIT_SECONDS", "300"))
CELERY_TASK_TIME_LIMIT = int(env("CELERY_TASK_TIME_LIMIT_SECONDS", "360"))
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BEAT_SCHEDULE = {
    "send-due-reminders": {
        "task": "caseload.tasks.reminders_send_due",
        "schedule": timedelta(minutes=1),
    },
    "mark-no-shows": {
        "task": "caseload.tasks.appointments_mark_noshows",
        "schedule": timedelta(minutes=5),
    },
    "relay-outbox": {
        "task": "caseload.tasks.outbox_relay",
        "schedule": timedelta(seconds=30),
    },
    "retry-webhook-deliveries": {
        "task": "caseload.tasks.webhooks_deliver_due",
        "schedule": timedelta(minutes=1),
    },
    "follow-up-plan-reviews": {
        "task": "caseload.tasks.treatment_plans_follow_up_due",
        "schedule": timedelta(hours=1),
    },
    "seal-audit-events": {
        "task": "caseload.tasks.audit_seal",
        "schedule": timedelta(minutes=1),
    },
    # Monthly partitions of the audit log and the ledger, made three months ahead: a run on
    # the first of each month keeps three future months ready (docs/operations.md).
    "make-audit-partitions": {
        "task": "caseload.tasks.audit_partitions_ahead",
        "schedule": crontab(minute=30, hour=2, day_of_month=1),
    },
}

# Failed sign-ins for one username from every source together within 15 minutes that lock it
# everywhere (against guessing spread over many addresses); from one source, five lock it there.
CASELOAD_SIGNIN_ACCOUNT_LIMIT = int(env("CASELOAD_SIGNIN_ACCOUNT_LIMIT", "50"))
# How long a break-the-glass opening lets a clinician read a patient off their caseload: at most
# a day, so an emergency opening never becomes standing access.
CASELOAD_BREAK_GLASS_HOURS = float(env("CASELOAD_BREAK_GLASS_HOURS", "4"))
if not 0 < CASELOAD_BREAK_GLASS_HOURS <= 24:
    raise ImproperlyConfigured("CASELOAD_BREAK_GLASS_HOURS must be more than 0 and at most 24.")
# OAuth2 client credentials for integration clients (django-oauth-toolkit). Access tokens live
# at most an hour; the scopes are the only ones a client can be given.
CASELOAD_OAUTH_TOKEN_SECONDS = min(int(env("CASELOAD_OAUTH_TOKEN_SECONDS", "3600")), 3600)
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"
OAUTH2_PROVIDER = {
    "ACCESS_TOKEN_EXPIRE_SECONDS": CASELOAD_OAUTH_TOKEN_SECONDS,
    "SCOPES": {
        "appointments:read": "Read appointments of the client's program",
        "patients:read": "Read patient demographics and contact details",
    },
    "DEFAULT_SCOPES": ["appointments:read", "patients:read"],
    "OAUTH2_VALIDATOR_CLASS": "api.oauth.CaseloadOAuth2Validator",
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https"],
    # The OAuth 2.0 Security BCP (RFC 9700): tokens stored hashed, never taken from a URL, and
    # no implicit or password grant (clients use client credentials only).
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
}
# The sync feed: how long a `next_sync` or `cursor` link stays valid (410 sync_expired after).
CASELOAD_SYNC_TOKEN_MAX_AGE_DAYS = int(env("CASELOAD_SYNC_TOKEN_MAX_AGE_DAYS", "30"))
# /healthz reports the feed as `lagging` past this many seconds (a long transaction pauses it).
CASELOAD_FEED_LAG_WARN_SECONDS = int(env("CASELOAD_FEED_LAG_WARN_SECONDS", "300"))

# Personal API tokens
CASELOAD_TOKEN_TTL_DAYS = int(env("CASELOAD_TOKEN_TTL_DAYS", "90"))
# How far ahead of an appointment its reminder falls due.
# How far ahead of an appointment its reminders fall due: hours, comma-separated ("24,2").
CASELOAD_REMINDER_LEADS = [
    timedelta(hours=float(hours))
    for hours in env("CASELOAD_REMINDER_LEAD_HOURS", "24").split(",")
    if hours.strip()
] or [timedelta(hours=24)]
CASELOAD_REMINDER_MAX_ATTEMPTS = int(env("CASELOAD_REMINDER_MAX_ATTEMPTS", "5"))
CASELOAD_SMS_BACKEND = env("CASELOAD_SMS_BACKEND", "caseload.sms.ConsoleSmsBackend")
CASELOAD_SMS_TWILIO_ACCOUNT_SID = env("CASELOAD_SMS_TWILIO_ACCOUNT_SID", "")
CASELOAD_SMS_TWILIO_AUTH_TOKEN = env("CASELOAD_SMS_TWILIO_AUTH_TOKEN", "")
CASELOAD_SMS_TWILIO_FROM = env("CASELOAD_SMS_TWILIO_FROM", "")
# The default sends nothing and logs no address or text (caseload/mail.py).
EMAIL_BACKEND = env("EMAIL_BACKEND", "caseload.mail.LogOnlyEmailBackend")
# Production refuses Django's console and file backends (they write whole messages out) unless
# this is set.
CASELOAD_ALLOW_UNSAFE_EMAIL_BACKEND = env_bool("CASELOAD_ALLOW_UNSAFE_EMAIL_BACKEND")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "reminders@localhost")
# A booked appointment becomes a no-show this long after its end.
CASELOAD_NOSHOW_GRACE_MINUTES = int(env("CASELOAD_NOSHOW_GRACE_MINUTES", "30"))
# Days from a treatment plan's signing or review to its next review (docs/treatment-records.md).
CASELOAD_PLAN_REVIEW_DAYS = int(env("CASELOAD_PLAN_REVIEW_DAYS", "90"))
if not 1 <= CASELOAD_PLAN_REVIEW_DAYS <= 366:
    raise ImproperlyConfigured("CASELOAD_PLAN_REVIEW_DAYS must be from 1 to 366.")
# Webhook deliveries: attempts, backoff (doubling from BACKOFF up to CAP, with jitter), and how
# many consecutive failures disable a subscription.
CASELOAD_WEBHOOK_MAX_ATTEMPTS = int(env("CASELOAD_WEBHOOK_MAX_ATTEMPTS", "8"))
CASELOAD_WEBHOOK_BACKOFF_SECONDS = int(env("CASELOAD_WEBHOOK_BACKOFF_SECONDS", "30"))
CASELOAD_WEBHOOK_BACKOFF_CAP_SECONDS = int(env("CASELOAD_WEBHOOK_BACKOFF_CAP_SECONDS", "3600"))
CASELOAD_WEBHOOK_DISABLE_AFTER = int(env("CASELOAD_WEBHOOK_DISABLE_AFTER", "20"))
CASELOAD_WEBHOOK_TIMEOUT_SECONDS = int(env("CASELOAD_WEBHOOK_TIMEOUT_SECONDS", "10"))
# Webhooks go only to public addresses over https, unless a receiver inside the clinic's network is
# listed here (comma-separated CIDRs, e.g. "10.20.0.0/16") or http is allowed explicitly.
CASELOAD_WEBHOOK_ALLOWED_NETWORKS = [
    net.strip() for net in env("CASELOAD_WEBHOOK_ALLOWED_NETWORKS", "").split(",") if net.strip()
]
CASELOAD_WEBHOOK_ALLOW_HTTP = env_bool("CASELOAD_WEBHOOK_ALLOW_HTTP")
# After a signing-secret rotation the old secret keeps signing beside the new one this long, so a
# receiver can switch over (both signatures are sent, space-separated).
CASELOAD_WEBHOOK_SECRET_OVERLAP_HOURS = float(env("CASELOAD_WEBHOOK_SECRET_OVERLAP_HOURS", "24"))
# Keys that encrypt stored secrets (webhook signing secrets): comma-separated Fernet keys, the
# first encrypts, every one decrypts (docs/operations.md, "Keys").
# Required in production; elsewhere a key is derived from SECRET_KEY.
CASELOAD_SECRET_KEYS = env_list("CASELOAD_SECRET_KEYS")
# The key of the row MACs and the seal chain that make the audit log, the ledger, consents and
# break-the-glass openings tamper-evident (caseload/tamper.py). Never stored in the database;
# required in production; elsewhere derived from SECRET_KEY.
CASELOAD_AUDIT_KEY = env("CASELOAD_AUDIT_KEY", "")

# SOWS severity bands. These are the program's interpretation: the commonly used cut-offs have not
# been verified against Handelsman et al. (1987), so they are configuration, not clinical fact.
CASELOAD_SOWS_BANDS = [
    {"severity": "none", "low": 0, "high": 0},
    {"severity": "mild", "low": 1, "high": 10},
    {"severity": "moderate", "low": 11, "high": 20},
    {"severity": "severe", "low": 21, "high": 64},
]
CASELOAD_SOWS_BANDS_LABEL = env(
    "CASELOAD_SOWS_BANDS_LABEL",
    "Program interpretation; cut-offs not verified against the original SOWS publication.",
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact_database_errors": {"()": "config.logging.RedactDatabaseErrors"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["redact_database_errors"]}
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    # SQL with its parameters (patient data) is logged at DEBUG: never, whatever LOG_LEVEL says.
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
