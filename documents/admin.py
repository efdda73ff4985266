"""Issued documents are read-only here (never edited, never deleted); administrators edit the
issuing authorities and the numbering series. Querysets follow the record rules."""

from django.contrib import admin

from base.admin import ScopedAdminMixin

from .models import DocumentSeries, IssuedDocument, IssuingAuthority


@admin.register(IssuingAuthority)
class IssuingAuthorityAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "abbreviation", "mark", "code"]
    readonly_fields = ["code"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(DocumentSeries)
class DocumentSeriesAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["doctype", "authority", "kind"]
    list_select_related = ["authority"]
    readonly_fields = ["doctype"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(IssuedDocument)
class IssuedDocumentAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["number", "doctype", "title", "status", "issued_at", "issuer"]
    list_filter = ["doctype", "status", "year"]
    search_fields = ["number", "title"]
    list_select_related = ["issuer"]
    date_hierarchy = "issued_at"

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
