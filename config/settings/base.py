"""Settings shared by every environment.

Everything is here; the environments differ only through environment variables (and the
few explicit overrides in local/test/production). Nothing reads settings at import time
elsewhere in the project.
"""

from pathlib import Path

import environ
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
if (BASE_DIR / ".env").exists():
    env.read_env(str(BASE_DIR / ".env"))

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

# Modules in layer order (DESIGN.md §3): a module's `depends` must come before it.
PROJECT_APPS = [
    "base",
    "cases",
    "documents",
    "notifications",
    "workflows",
    "assessments",
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_filters",
    "viewflow",
    "viewflow.workflow",
    "django_celery_beat",
    "sequences",
    *PROJECT_APPS,
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # viewflow: enforce Site/Application permissions, set request.resolver_match.app;
    # answer Turbo form re-renders with 422 so they are shown
    "viewflow.middleware.SiteMiddleware",
    "viewflow.middleware.HotwireTurboMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "django.template.context_processors.i18n",
                "base.context_processors.calendar_warnings",
                "notifications.context_processors.unread",
            ],
        },
    },
]

# SQLite under var/ is the embedded default; DATABASE_URL switches to PostgreSQL.
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False  # services own their transactions
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "base.User"
AUTHENTICATION_BACKENDS = ["base.backends.ScopedPermissionBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("DJANGO_STATIC_ROOT", default=str(VAR_DIR / "static"))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = env.path("DJANGO_MEDIA_ROOT", default=str(VAR_DIR / "media"))
MEDIA_URL = "media/"  # never served directly: files go through permission-checked views

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True

EMAIL_BACKEND = env(
    "DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend"
)
DEFAULT_FROM_EMAIL = env("DJANGO_DEFAULT_FROM_EMAIL", default="outfalls@localhost")
# Absolute links in e-mail (notifications) are built on this base.
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000")

# Celery. The embedded default uses kombu's filesystem transport under var/ (no server).
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="filesystem://")
_BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_TRANSPORT_OPTIONS = (
    {
        "data_folder_in": str(_BROKER_DIR / "out"),
        "data_folder_out": str(_BROKER_DIR / "out"),
        "processed_folder": str(_BROKER_DIR / "processed"),
        "store_processed": False,
    }
    if CELERY_BROKER_URL.startswith("filesystem")
    else {"visibility_timeout": 3600}
)
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default=None)
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# City extent for plausibility checks of coordinates (DOMAIN.md §1), configurable.
OUTFALLS_CITY_EXTENT = {
    "lat_min": env.float("OUTFALLS_LAT_MIN", default=35.2),
    "lat_max": env.float("OUTFALLS_LAT_MAX", default=36.1),
    "lon_min": env.float("OUTFALLS_LON_MIN", default=111.9),
    "lon_max": env.float("OUTFALLS_LON_MAX", default=113.7),
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "weasyprint": {"level": "WARNING"},  # seven INFO lines per rendered PDF otherwise
        "fontTools": {"level": "WARNING"},
    },
}

VIEWFLOW = {}

# Periodic tasks; django-celery-beat's DatabaseScheduler copies these into its tables, where
# an administrator can pause or re-time them.
CELERY_BEAT_SCHEDULE = {
    "worker-heartbeat": {"task": "base.worker_heartbeat", "schedule": 60.0},
    "notifications-daily-digest": {
        "task": "notifications.send_daily_digests",
        "schedule": crontab(hour=7, minute=30),  # CELERY_TIMEZONE: Asia/Shanghai
    },
    "sweep-deadlines": {"task": "workflows.sweep_deadlines", "schedule": 15 * 60.0},
    # viewflow's database-backed timers: approval reminders and escalations
    "fire-workflow-timers": {"task": "workflows.fire_workflow_timers", "schedule": 5 * 60.0},
    "requeue-stuck-emails": {
        "task": "notifications.requeue_stuck_emails",
        "schedule": 30 * 60.0,
    },
}

# Demo users/cases may be loaded (refused in production settings).
DEMO_DATA_ALLOWED = True

OUTFALLS_CODE_SCHEME = env("OUTFALLS_CODE_SCHEME", default="cases.coding.LocalCodeScheme")
# Evidence uploads: size limit and accepted types (checked by content, not only by name).
OUTFALLS_EVIDENCE_MAX_BYTES = env.int("OUTFALLS_EVIDENCE_MAX_BYTES", default=20 * 1024 * 1024)
OUTFALLS_IMPORT_MAX_BYTES = env.int("OUTFALLS_IMPORT_MAX_BYTES", default=10 * 1024 * 1024)
NOTIFICATIONS_EMAIL_MAX_RETRIES = env.int("NOTIFICATIONS_EMAIL_MAX_RETRIES", default=3)

# Survey import: row cap per file (the size limit is OUTFALLS_IMPORT_MAX_BYTES).
OUTFALLS_IMPORT_MAX_ROWS = env.int("OUTFALLS_IMPORT_MAX_ROWS", default=50_000)
