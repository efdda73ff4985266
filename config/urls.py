from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from viewflow.contrib.auth import AuthViewset
from viewflow.urls import Site

from base.viewsets import BaseApplication
from cases.viewsets import CasesApplication
from notifications.viewsets import NotificationsApplication
from workflows.viewsets import WorkflowsApplication

site = Site(
    title=_("River Outfall Supervision"),
    viewsets=[
        CasesApplication(),
        WorkflowsApplication(),
        NotificationsApplication(),
        BaseApplication(),
    ],
)

urlpatterns = [
    path("accounts/", AuthViewset(with_profile_view=False).urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("", site.urls),
]
