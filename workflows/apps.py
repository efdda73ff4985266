from django.utils.translation import gettext_lazy as _

from base.modules import ModuleConfig


class WorkflowsConfig(ModuleConfig):
    default = True
    name = "workflows"
    verbose_name = _("Workflows")
    depends = ("base", "cases", "documents", "notifications")
