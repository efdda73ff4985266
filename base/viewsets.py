"""The base module's entries in the officials' UI (viewflow Site)."""

from django.urls import path
from django.utils.translation import gettext_lazy as _
from viewflow.urls import Application, AppMenuMixin, Viewset

from .views import MyAccessView


class MyAccessViewset(AppMenuMixin, Viewset):
    title = _("My roles and jurisdictions")
    icon = "badge"
    index_path = path("", MyAccessView.as_view(), name="index")


class BaseApplication(Application):
    title = _("Account")
    icon = "account_circle"
    app_name = "base"
    base_template_name = "layout.html"
    viewsets = [MyAccessViewset(app_name="access")]
