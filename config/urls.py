from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from viewflow.contrib.auth import AuthViewset
from viewflow.urls import Site

from assessments.viewsets import AssessmentsApplication
from base.viewsets import BaseApplication
from cases.viewsets import CasesApplication
from documents.views import verify as document_verify
from documents.viewsets import DocumentsApplication
from notifications.viewsets import NotificationsApplication
from workflows.viewsets import WorkflowsApplication

site = Site(
    title=_("River Outfall Supervision"),
    viewsets=[
        CasesApplication(),
        WorkflowsApplication(),
        AssessmentsApplication(),
        DocumentsApplication(),
        NotificationsApplication(),
        BaseApplication(),
    ],
)

urlpatterns = [
    path("accounts/", AuthViewset(with_profile_view=False).urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    # public (login_not_required): reached by the QR code printed on every document
    path("verify/<slug:token>/", document_verify, name="document_verify"),
    path("", site.urls),
]
