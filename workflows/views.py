from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView

from . import selectors


class DashboardView(TemplateView):
    """Overdue cases per county and level, and progress against the three milestones."""

    template_name = "workflows/dashboard.html"

    def get_context_data(self, **kwargs):
        user, today = self.request.user, timezone.localdate()
        levels, matrix = selectors.overdue_matrix(user=user, today=today)
        progress = selectors.milestone_progress(user=user, today=today)
        for item in progress:
            item.is_overdue = item.overdue(today)
        max_total = max([row["total"] for row in matrix] + [1])
        return super().get_context_data(
            title=_("Supervision dashboard"),
            today=today,
            levels=levels,
            matrix=matrix,
            progress=progress,
            max_total=max_total,
            supervisions=selectors.recent_supervisions(user=user),
            proposals=selectors.summons_proposals(user=user),
            **kwargs,
        )
