"""Embedded default for `make run` and development: SQLite under var/, filesystem broker."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env(
    "DJANGO_SECRET_KEY",
    default="local-development-only-key-not-for-production-use-0123456789abcdef",
)
