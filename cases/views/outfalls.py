"""Outfall register pages (list, case page, step forms, evidence download)."""

from django.urls import path
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView
from viewflow.urls import AppMenuMixin, Viewset


class OutfallViewset(AppMenuMixin, Viewset):
    title = _("Outfall register")
    icon = "water_drop"
    index_path = path(
        "", TemplateView.as_view(template_name="cases/outfall_list.html"), name="index"
    )
