from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView

from . import selectors


class MyAccessView(TemplateView):
    """The signed-in user's roles, jurisdictions and river-chief appointments."""

    template_name = "base/my_access.html"
    title = _("My roles and jurisdictions")

    def get_context_data(self, **kwargs):
        user = self.request.user
        today = timezone.localdate()
        return super().get_context_data(
            title=self.title,
            grants=selectors.grants_of(user),
            appointments=selectors.appointments_of(user, on=today),
            worker=selectors.worker_status(now=timezone.now()),
            **kwargs,
        )
