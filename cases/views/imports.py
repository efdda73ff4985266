"""Survey import (upload, template, error report) and ledger export pages."""

from django.urls import path
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView
from viewflow.urls import AppMenuMixin, Viewset


class SurveyImportViewset(AppMenuMixin, Viewset):
    title = _("Survey import")
    icon = "upload_file"
    index_path = path("", TemplateView.as_view(template_name="cases/import.html"), name="index")
