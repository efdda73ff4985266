"""System checks of the documents module: fonts and font subsetting (run at check time only)."""

from __future__ import annotations

import ctypes.util
import shutil
import subprocess

from django.core import checks

from .fonts import STACKS


def installed_cjk_families() -> set[str] | None:
    """Families fontconfig knows for Chinese (`fc-list :lang=zh`); None without fontconfig."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return None
    try:
        result = subprocess.run(
            [fc_list, ":lang=zh", "family"],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    families = set()
    for line in result.stdout.splitlines():
        families.update(name.strip() for name in line.split(",") if name.strip())
    return families


def _harfbuzz_subset_available() -> bool:
    # what WeasyPrint dlopens for font subsetting (without importing WeasyPrint here)
    return ctypes.util.find_library("harfbuzz-subset") is not None


def check_document_fonts(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    messages: list[checks.CheckMessage] = []
    families = installed_cjk_families()
    if not families:
        messages.append(
            checks.Warning(
                "No CJK font resolves: official documents would print empty boxes.",
                hint="Install fonts-noto-cjk and fonts-arphic-ukai (make run / make test do).",
                id="documents.W001",
            )
        )
    else:
        for name, stack in STACKS.items():
            if not families.intersection(stack):
                messages.append(
                    checks.Warning(
                        f"None of the {name} fonts is installed ({', '.join(stack)}).",
                        hint="Install fonts-noto-cjk and fonts-arphic-ukai, or a licensed font.",
                        id="documents.W002",
                    )
                )
    if not _harfbuzz_subset_available():
        messages.append(
            checks.Warning(
                "libharfbuzz-subset is missing: a CJK document takes seconds, not milliseconds.",
                hint="Install the Debian package libharfbuzz-subset0.",
                id="documents.W003",
            )
        )
    return messages


def register() -> None:
    checks.register(check_document_fonts)
