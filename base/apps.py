from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _

from .modules import ModuleConfig


def _sync_after_last_migration(sender, app_config=None, using="default", **kwargs):
    # post_migrate is sent once per app; sync once, after the last app (whose permissions
    # exist by then), so role groups can reference every module's permissions.
    from django.apps import apps

    with_models = [c for c in apps.get_app_configs() if c.models_module is not None]
    if sender is not with_models[-1]:
        return
    from .data import sync_reference_data
    from .security import sync_roles

    sync_reference_data()
    sync_roles()


def _ensure_filesystem_broker_folders():
    # the embedded default's broker is a folder; kombu fails on publish if it is missing
    import os

    from django.conf import settings

    if str(getattr(settings, "CELERY_BROKER_URL", "")).startswith("filesystem"):
        options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
        for key in ("data_folder_in", "data_folder_out", "processed_folder"):
            if options.get(key):
                os.makedirs(options[key], exist_ok=True)


class BaseModuleConfig(ModuleConfig):
    default = True
    name = "base"
    verbose_name = _("Base")
    depends = ()

    def ready(self):
        from . import checks, security

        _ensure_filesystem_broker_folders()

        checks.register()
        security.register_base_rules()
        post_migrate.connect(_sync_after_last_migration, dispatch_uid="base.sync_reference")
