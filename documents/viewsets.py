"""The documents module's entry in the officials' UI (viewflow Site)."""

from django.urls import path
from django.utils.translation import gettext_lazy as _
from viewflow.urls import Application, AppMenuMixin, Viewset

from .security import VIEW
from .views import ArchiveListView, DocumentDetailView, DocumentDownloadView, DocumentIssueView


class ArchiveViewset(AppMenuMixin, Viewset):
    title = _("Issued documents")
    icon = "description"
    index_path = path("", ArchiveListView.as_view(), name="index")
    detail_path = path("<int:pk>/", DocumentDetailView.as_view(), name="detail")
    download_path = path("<int:pk>/download/", DocumentDownloadView.as_view(), name="download")
    issue_path = path(
        "issue/<slug:doctype>/<int:subject_id>/", DocumentIssueView.as_view(), name="issue"
    )

    def has_view_permission(self, user, obj=None):
        return user.is_authenticated and user.has_perm(VIEW)


class DocumentsApplication(Application):
    title = _("Documents")
    icon = "description"
    app_name = "documents"
    base_template_name = "layout.html"
    permission = VIEW
    viewsets = [ArchiveViewset(app_name="archive")]
