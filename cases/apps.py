from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _

from base.modules import ModuleConfig


def _sync_reference(sender, **kwargs):
    from .data import sync_cases_reference_data

    sync_cases_reference_data()


class CasesConfig(ModuleConfig):
    default = True
    name = "cases"
    verbose_name = _("Outfall cases")
    depends = ("base",)

    def ready(self):
        from . import security

        security.register_cases_rules()
        post_migrate.connect(_sync_reference, sender=self, dispatch_uid="cases.sync_reference")
