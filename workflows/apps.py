from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _

from base.modules import ModuleConfig


def _sync_data(sender, **kwargs):
    from .data import sync_workflows_data

    sync_workflows_data()


class WorkflowsConfig(ModuleConfig):
    default = True
    name = "workflows"
    verbose_name = _("Workflows")
    depends = ("base", "cases", "documents", "notifications")

    def ready(self):
        from cases import registry

        from . import deadlines, security

        security.register_workflows_rules()
        registry.register_event_hook(deadlines.on_case_events)
        post_migrate.connect(_sync_data, sender=self, dispatch_uid="workflows.sync_data")
