from django.core import checks

from .modules import check_module_manifest


def register() -> None:
    checks.register(check_module_manifest, checks.Tags.compatibility)
