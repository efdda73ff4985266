"""Archive, detail, download, issue (officials) and the public verification page.

Every official page fetches through `selectors` first, so a document outside the user's
scope answers 404 like a missing one (DESIGN.md §8). The PDF is served only through the
permission-checked download view (never from MEDIA_URL).
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from . import registry, selectors, services
from .models import IssuedDocument
from .security import ISSUE, VIEW

PAGE_SIZE = 25


def _require(user, perm: str) -> None:
    if not user.has_perm(perm):
        raise PermissionDenied(_("You do not have permission to do this."))


def detail_url(document: IssuedDocument) -> str:
    return reverse("documents:archive:detail", args=[document.pk])


def _type_label(code: str) -> str:
    try:
        return str(registry.get(code).label)
    except LookupError:
        return code


class ArchiveFilterForm(forms.Form):
    doctype = forms.ChoiceField(label=gettext_lazy("Type"), required=False)
    year = forms.IntegerField(
        label=gettext_lazy("Year"), required=False, min_value=2000, max_value=2100
    )

    def __init__(self, *args, years: list[int], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["doctype"].choices = [("", _("All types"))] + [
            (t.code, str(t.label)) for t in registry.all_types()
        ]
        # offered: the years that have documents; any year filters (an empty page if none)
        self.fields["year"].widget = forms.Select(
            choices=[("", _("All years"))] + [(y, str(y)) for y in years]
        )


class ArchiveListView(View):
    template_name = "documents/archive_list.html"

    def get(self, request):
        _require(request.user, VIEW)
        form = ArchiveFilterForm(request.GET or None, years=selectors.document_years(request.user))
        filters = form.cleaned_data if form.is_valid() else {}
        documents = selectors.document_list(
            request.user, doctype=filters.get("doctype") or None, year=filters.get("year")
        )
        page = Paginator(documents, PAGE_SIZE).get_page(request.GET.get("page"))
        query = request.GET.copy()
        query.pop("page", None)
        return render(
            request,
            self.template_name,
            {
                "title": _("Issued documents"),
                "form": form,
                "page_obj": page,
                "rows": [{"document": d, "type": _type_label(d.doctype)} for d in page],
                "query": query.urlencode(),
            },
        )


class DocumentDetailView(View):
    template_name = "documents/archive_detail.html"

    def get(self, request, pk):
        _require(request.user, VIEW)
        document = selectors.document_get(user=request.user, pk=pk)
        subject_url = None
        try:
            doctype = registry.get(document.doctype)
        except LookupError:
            doctype = None
        if doctype is not None and doctype.subject_url is not None:
            subject_url = doctype.subject_url(document.subject_id)
        superseded_by = getattr(document, "superseded_by", None) if document.is_issued else None
        return render(
            request,
            self.template_name,
            {
                "title": document.number,
                "document": document,
                "type": _type_label(document.doctype),
                "subject_url": subject_url,
                "superseded_by": superseded_by,
                "verify_url": reverse("document_verify", args=[document.token]),
            },
        )


class DocumentDownloadView(View):
    def get(self, request, pk):
        _require(request.user, VIEW)
        document = selectors.document_get(user=request.user, pk=pk)
        if not document.is_issued or not document.file:
            raise Http404
        response = FileResponse(
            document.file.open("rb"),
            as_attachment=True,
            filename=f"{document.number}.pdf",
            content_type="application/pdf",
        )
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "private, no-store"
        return response


class DocumentIssueView(View):
    """POST: issue a document whose type needs no further input (`one_click`: a signboard)."""

    http_method_names = ["post"]

    def post(self, request, doctype, subject_id):
        _require(request.user, ISSUE)
        try:
            kind = registry.get(doctype)
        except LookupError:
            raise Http404 from None
        if not kind.one_click:
            raise Http404
        subject = kind.model._default_manager.filter(
            kind.subject_scope(request.user), pk=subject_id
        ).first()
        if subject is None:
            raise Http404
        try:
            document = services.document_issue(actor=request.user, doctype=kind, subject=subject)
        except ValidationError as exc:
            messages.error(request, "；".join(exc.messages))
            url = kind.subject_url(subject.pk) if kind.subject_url else None
            return redirect(url or reverse("documents:archive:index"))
        messages.success(
            request, _("%(number)s was issued; its PDF is being rendered.") % {"number": document}
        )
        return redirect(detail_url(document))


@login_not_required
@never_cache
@require_GET
def verify(request, token: str):
    """Public: number, type, issuing authority, date and SHA-256 of an issued document."""
    document = selectors.document_for_verification(token)
    superseded_by = getattr(document, "superseded_by", None)
    return render(
        request,
        "documents/verify.html",
        {
            "document": document,
            "type_name": document.context.get("doctype_name") or _type_label(document.doctype),
            "superseded_by": superseded_by.number
            if superseded_by and superseded_by.is_issued
            else "",
        },
    )
