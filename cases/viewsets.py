"""The cases module's entries in the officials' UI (viewflow Site)."""

from django.utils.translation import gettext_lazy as _
from viewflow.urls import Application

from .views.imports import LedgerViewset, SurveyImportViewset
from .views.outfalls import OutfallViewset


class CasesApplication(Application):
    title = _("Outfalls")
    icon = "water"
    app_name = "cases"
    base_template_name = "layout.html"
    permission = "cases.view_outfall"
    viewsets = [
        OutfallViewset(app_name="outfalls"),
        SurveyImportViewset(app_name="survey"),
        LedgerViewset(app_name="ledger"),
    ]
