from django.utils.translation import gettext_lazy as _

from base.modules import ModuleConfig


class CasesConfig(ModuleConfig):
    default = True
    name = "cases"
    verbose_name = _("Outfall cases")
    depends = ("base",)
