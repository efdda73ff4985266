"""Survey import (upload, template, error report) and ledger export pages.

The upload page posts the sheet to `importing.survey_import` (all or nothing) and redirects
back to itself (POST/redirect/GET) with the outcome kept in the session: the imported and
possible-duplicate counts, or the first errors with a link to the full error report. The
report is a file under MEDIA_ROOT/import-reports/<user id>/, served only to its uploader.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from viewflow.urls import AppMenuMixin, Viewset

from ..forms import OutfallFilterForm
from ..importing import (
    SurveyImportError,
    size_label,
    survey_error_report,
    survey_import,
    survey_template,
)
from ..ledger import ledger_workbook

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SESSION_KEY = "cases.survey_import"
REPORT_DIR = "import-reports"
ERRORS_SHOWN = 200
_TOKEN = re.compile(r"^[0-9a-f]{32}$")


def _report_dir(user) -> Path:
    return Path(settings.MEDIA_ROOT) / REPORT_DIR / str(user.pk)


def _save_report(user, content: bytes) -> str:
    """Keep only the user's latest error report; return its token."""
    folder = _report_dir(user)
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.xlsx"):
        old.unlink(missing_ok=True)
    token = uuid.uuid4().hex
    (folder / f"{token}.xlsx").write_bytes(content)
    return token


def _xlsx_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


class SurveyUploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Survey sheet (.xlsx)"),
        widget=forms.ClearableFileInput(
            attrs={"accept": ".xlsx," + XLSX, "data-testid": "survey-file"}
        ),
    )


class SurveyImportView(PermissionRequiredMixin, View):
    permission_required = "cases.import_survey"
    raise_exception = True
    template_name = "cases/import.html"

    def get(self, request):
        outcome = request.session.pop(SESSION_KEY, None)
        return self.render(request, SurveyUploadForm(), outcome)

    def post(self, request):
        form = SurveyUploadForm(request.POST, request.FILES)
        if not form.is_valid():
            return self.render(request, form, None, status=422)
        upload = form.cleaned_data["file"]
        try:
            result = survey_import(actor=request.user, file=upload, filename=upload.name)
        except SurveyImportError as error:
            token = None
            if error.sheet is not None:
                token = _save_report(request.user, survey_error_report(error))
            outcome = {
                "ok": False,
                "filename": upload.name,
                "error_count": len(error.issues),
                "errors": [
                    {"row": i.row, "column": i.column, "message": i.message}
                    for i in error.issues[:ERRORS_SHOWN]
                ],
                "report": token,
            }
        else:
            outcome = {
                "ok": True,
                "filename": upload.name,
                "created": result.created,
                "possible_duplicates": result.possible_duplicates,
                "entities_created": result.entities_created,
            }
        request.session[SESSION_KEY] = outcome
        return redirect(reverse("cases:survey:index"), permanent=False)

    def render(self, request, form, outcome, status=200):
        return render(
            request,
            self.template_name,
            {
                "title": _("Survey import"),
                "form": form,
                "outcome": outcome,
                "errors_shown": ERRORS_SHOWN,
                "max_size": size_label(settings.OUTFALLS_IMPORT_MAX_BYTES),
            },
            status=status,
        )


class SurveyTemplateView(PermissionRequiredMixin, View):
    permission_required = "cases.import_survey"
    raise_exception = True

    def get(self, request):
        return _xlsx_response(survey_template(), _("Outfall survey template") + ".xlsx")


class SurveyErrorReportView(PermissionRequiredMixin, View):
    """The uploader's own latest error report; anyone else's token answers 404."""

    permission_required = "cases.import_survey"
    raise_exception = True

    def get(self, request, token):
        if not _TOKEN.match(token):
            raise Http404
        report = _report_dir(request.user) / f"{token}.xlsx"
        if not report.is_file():
            raise Http404
        return _xlsx_response(report.read_bytes(), _("Survey import errors") + ".xlsx")


class LedgerView(PermissionRequiredMixin, View):
    permission_required = "cases.export_ledger"
    raise_exception = True
    template_name = "cases/ledger.html"

    def get(self, request):
        form = OutfallFilterForm(request.GET or None, user=request.user)
        return render(request, self.template_name, {"title": _("Ledger export"), "form": form})


class LedgerExportView(PermissionRequiredMixin, View):
    """The ledger (台账) of the user's scope, with the list page's GET filters."""

    permission_required = "cases.export_ledger"
    raise_exception = True

    def get(self, request):
        form = OutfallFilterForm(request.GET or None, user=request.user)
        content = ledger_workbook(user=request.user, filters=form.filters())
        name = f"{_('Outfall ledger')}-{timezone.localdate():%Y%m%d}.xlsx"
        return _xlsx_response(content, name)


class SurveyImportViewset(AppMenuMixin, Viewset):
    title = gettext_lazy("Survey import")
    icon = "upload_file"
    index_path = path("", SurveyImportView.as_view(), name="index")
    template_path = path("template.xlsx", SurveyTemplateView.as_view(), name="template")
    report_path = path("report/<str:token>.xlsx", SurveyErrorReportView.as_view(), name="report")

    def has_view_permission(self, user, obj=None):
        return user.is_authenticated and user.has_perm("cases.import_survey")


class LedgerViewset(AppMenuMixin, Viewset):
    title = gettext_lazy("Ledger export")
    icon = "table_view"
    index_path = path("", LedgerView.as_view(), name="index")
    export_path = path("ledger.xlsx", LedgerExportView.as_view(), name="export")

    def has_view_permission(self, user, obj=None):
        return user.is_authenticated and user.has_perm("cases.export_ledger")
