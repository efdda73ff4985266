"""The module contract (Odoo-style manifests on Django apps).

Every project module's `AppConfig` subclasses `ModuleConfig` and declares `depends`: the
labels of the modules it builds on. A system check refuses a missing or misordered
dependency, and `base.layers` refuses an import of a module that is not a dependency.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.apps import AppConfig, apps
from django.conf import settings
from django.core import checks


class ModuleConfig(AppConfig):
    """An AppConfig with a declared contract."""

    # Not itself an app's default config: each subclass sets `default = True` (Django would
    # otherwise see two AppConfig classes in every apps.py and fall back to a bare config,
    # which the manifest check reports as base.E004).
    default = False
    default_auto_field = "django.db.models.BigAutoField"
    depends: tuple[str, ...] = ()


@dataclass(frozen=True)
class Manifest:
    label: str
    depends: tuple[str, ...]


def manifest_errors(manifests: Sequence[Manifest], required: Iterable[str] = ()) -> list:
    """Check declared dependencies against the installed order.

    `manifests` is every installed app in INSTALLED_APPS order (`depends` empty for apps
    that are not project modules); `required` names the apps that must declare a manifest.
    """
    errors = []
    position = {m.label: i for i, m in enumerate(manifests)}
    by_label = {m.label: m for m in manifests}
    for label in required:
        if label in by_label and not isinstance(by_label[label].depends, tuple):
            errors.append(
                checks.Error(
                    f"Module '{label}' does not declare `depends` as a tuple.",
                    id="base.E003",
                )
            )
    for manifest in manifests:
        for dep in manifest.depends:
            if dep not in position:
                errors.append(
                    checks.Error(
                        f"Module '{manifest.label}' depends on '{dep}', which is not installed.",
                        hint=f"Add '{dep}' to INSTALLED_APPS before '{manifest.label}'.",
                        id="base.E001",
                    )
                )
            elif position[dep] > position[manifest.label]:
                errors.append(
                    checks.Error(
                        f"Module '{manifest.label}' depends on '{dep}', which is installed "
                        f"after it.",
                        hint=f"Move '{dep}' before '{manifest.label}' in INSTALLED_APPS.",
                        id="base.E002",
                    )
                )
    return errors


def installed_manifests() -> list[Manifest]:
    return [
        Manifest(config.label, getattr(config, "depends", ())) for config in apps.get_app_configs()
    ]


def project_module_labels() -> list[str]:
    return [path.rsplit(".", 1)[-1] for path in settings.PROJECT_APPS]


def check_module_manifest(app_configs=None, **kwargs):
    errors = manifest_errors(installed_manifests(), required=project_module_labels())
    for label in project_module_labels():
        config = apps.get_app_config(label)
        if not isinstance(config, ModuleConfig):
            errors.append(
                checks.Error(
                    f"Module '{label}' must use a ModuleConfig with declared `depends`.",
                    id="base.E004",
                )
            )
    return errors


def transitive_depends(label: str) -> set[str]:
    """The labels a module may build on: its dependencies and theirs."""
    seen: set[str] = set()
    stack = [label]
    while stack:
        config = apps.get_app_config(stack.pop())
        for dep in getattr(config, "depends", ()):
            if dep not in seen:
                seen.add(dep)
                stack.append(dep)
    return seen
