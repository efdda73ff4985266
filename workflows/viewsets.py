"""The workflows module's entries in the officials' UI."""

from django.urls import path
from django.utils.translation import gettext_lazy as _
from viewflow.urls import Application, AppMenuMixin, Viewset

from .views import DashboardView


class DashboardViewset(AppMenuMixin, Viewset):
    title = _("Supervision dashboard")
    icon = "insights"
    index_path = path("", DashboardView.as_view(), name="index")


class WorkflowsApplication(Application):
    title = _("Supervision")
    icon = "gavel"
    app_name = "workflows"
    base_template_name = "layout.html"
    permission = "workflows.view_deadline"
    viewsets = [DashboardViewset(app_name="dashboard")]
