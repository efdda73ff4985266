import os
import subprocess
import sys

from django.conf import settings

ENV_KEYS = (
    "DJANGO_SECRET_KEY",
    "DJANGO_ALLOWED_HOSTS",
    "DATABASE_URL",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
)


def _run(args, **env):
    clean = {k: v for k, v in os.environ.items() if k not in ENV_KEYS}
    clean.update(DJANGO_SETTINGS_MODULE="config.settings.production", **env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_production_settings_refuse_to_start_without_secret_key():
    result = _run(["check"], DJANGO_ALLOWED_HOSTS="outfalls.example.gov.cn")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_production_settings_refuse_to_start_without_allowed_hosts():
    result = _run(["check"], DJANGO_SECRET_KEY="x" * 64)
    assert result.returncode != 0
    assert "DJANGO_ALLOWED_HOSTS" in result.stderr


def test_deploy_check_is_clean_with_production_settings():
    result = _run(
        ["check", "--deploy", "--fail-level", "WARNING"],
        DJANGO_SECRET_KEY="k9#Vq2!pLw8@zR4$tY7^uI1&oP3*aS6(dF5)gH0_jK-lZ=xC+vB~nM" * 2,
        DJANGO_ALLOWED_HOSTS="outfalls.example.gov.cn",
    )
    assert result.returncode == 0, result.stderr
    assert "WARNINGS" not in result.stderr + result.stdout


def test_defaults_are_chinese_shanghai_and_tz_aware():
    assert settings.LANGUAGE_CODE == "zh-hans"
    assert "en" in dict(settings.LANGUAGES)
    assert settings.TIME_ZONE == "Asia/Shanghai"
    assert settings.USE_TZ is True
