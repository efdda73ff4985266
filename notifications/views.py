"""Inbox and e-mail settings pages. Every write is a CSRF-protected POST calling a service."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View

from . import selectors, services
from .forms import PreferenceForm

PAGE_SIZE = 25


def _inbox_url() -> str:
    return reverse("notifications:inbox:index")


def _safe(request, url: str) -> str | None:
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return None


class InboxView(PermissionRequiredMixin, View):
    permission_required = "notifications.view_notification"
    raise_exception = True
    template_name = "notifications/inbox.html"

    def get(self, request):
        unread_only = request.GET.get("show") == "unread"
        page = Paginator(selectors.inbox(request.user, unread_only=unread_only), PAGE_SIZE)
        page_obj = page.get_page(request.GET.get("page"))
        return render(
            request,
            self.template_name,
            {
                "title": _("Inbox"),
                "page_obj": page_obj,
                "unread_only": unread_only,
                "unread_total": selectors.unread_count(request.user),
                "here": request.get_full_path(),
            },
        )


class _WriteView(PermissionRequiredMixin, View):
    permission_required = "notifications.change_notification"
    raise_exception = True
    http_method_names = ["post"]


class NotificationOpenView(_WriteView):
    """Clicking an item: mark it read and follow its link (back to the inbox without one)."""

    def post(self, request, pk):
        notification = services.notification_mark_read(user=request.user, notification_id=pk)
        return redirect(_safe(request, notification.link) or _inbox_url())


class NotificationReadView(_WriteView):
    def post(self, request, pk):
        services.notification_mark_read(user=request.user, notification_id=pk)
        return redirect(_safe(request, request.POST.get("next", "")) or _inbox_url())


class MarkAllReadView(_WriteView):
    def post(self, request):
        count = services.notification_mark_all_read(user=request.user)
        messages.success(
            request,
            ngettext(
                "%(count)d notification marked as read.",
                "%(count)d notifications marked as read.",
                count,
            )
            % {"count": count},
        )
        return redirect(_safe(request, request.POST.get("next", "")) or _inbox_url())


class PreferenceView(PermissionRequiredMixin, View):
    permission_required = "notifications.change_notificationpreference"
    raise_exception = True
    template_name = "notifications/preferences.html"

    def get(self, request):
        preference = selectors.preference_of(request.user)
        return self._render(request, PreferenceForm(initial={"email_mode": preference.email_mode}))

    def post(self, request):
        form = PreferenceForm(request.POST)
        if not form.is_valid():
            return self._render(request, form, status=422)
        services.notification_preference_set(
            user=request.user, email_mode=form.cleaned_data["email_mode"]
        )
        messages.success(request, _("Your e-mail settings were saved."))
        return redirect("notifications:preferences:index")

    def _render(self, request, form, status=200):
        return render(
            request,
            self.template_name,
            {"title": _("E-mail settings"), "form": form, "email": request.user.email},
            status=status,
        )
