from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _

from base.modules import ModuleConfig


def _sync_data(sender, **kwargs):
    from .data import sync_assessments_data

    sync_assessments_data()


class AssessmentsConfig(ModuleConfig):
    default = True
    name = "assessments"
    verbose_name = _("River-chief assessments")
    depends = ("base", "cases", "documents", "notifications", "workflows")

    def ready(self):
        from . import security

        security.register_assessments_rules()
        post_migrate.connect(_sync_data, sender=self, dispatch_uid="assessments.sync_data")
