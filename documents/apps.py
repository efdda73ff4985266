from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _

from base.modules import ModuleConfig


def _sync_data(sender, **kwargs):
    from .data import sync_documents_data

    sync_documents_data()


class DocumentsConfig(ModuleConfig):
    default = True
    name = "documents"
    verbose_name = _("Official documents")
    depends = ("base",)

    def ready(self):
        from . import checks, registry, security

        checks.register()
        security.register_documents_rules()
        # the modules owning the subjects declare their types in <module>/documents.py
        registry.autodiscover()
        post_migrate.connect(_sync_data, sender=self, dispatch_uid="documents.sync_data")
