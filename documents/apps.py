from django.utils.translation import gettext_lazy as _

from base.modules import ModuleConfig


class DocumentsConfig(ModuleConfig):
    default = True
    name = "documents"
    verbose_name = _("Official documents")
    depends = ("base",)
