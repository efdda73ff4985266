from django.utils.translation import gettext_lazy as _

from base.modules import ModuleConfig


class NotificationsConfig(ModuleConfig):
    default = True
    name = "notifications"
    verbose_name = _("Notifications")
    depends = ("base",)

    def ready(self):
        from . import security

        security.register_notification_rules()
