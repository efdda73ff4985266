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


class BaseModuleConfig(ModuleConfig):
    default = True
    name = "base"
    verbose_name = _("Base")
    depends = ()

    def ready(self):
        from . import checks, security

        checks.register()
        security.register_base_rules()
        post_migrate.connect(_sync_after_last_migration, dispatch_uid="base.sync_reference")
