"""The workflows module's entries in the officials' UI."""

from django.urls import path
from django.utils.translation import gettext_lazy as _
from viewflow.urls import Application, AppMenuMixin, Viewset

from .approval_views import (
    ArchiveView,
    ClaimView,
    DecideView,
    ExtensionProposeView,
    ProposalDetailView,
    QueueView,
    ReleaseView,
    SubmittedView,
    TaskListView,
    WithdrawView,
)
from .summons_views import (
    AccountabilityDetailView,
    AccountabilityStepView,
    SummonsDetailView,
    SummonsFileView,
    SummonsListView,
    SummonsProposeView,
    SummonsStepView,
)
from .views import DashboardView


class DashboardViewset(AppMenuMixin, Viewset):
    title = _("Supervision dashboard")
    icon = "insights"
    index_path = path("", DashboardView.as_view(), name="index")


class _DeciderMenu(AppMenuMixin, Viewset):
    def has_view_permission(self, user, obj=None):
        return user.is_authenticated and user.has_perm("workflows.decide_proposal")


class TasksViewset(_DeciderMenu):
    """我的待办: approval tasks the user has claimed."""

    title = _("My tasks")
    icon = "assignment_ind"
    index_path = path("", TaskListView.as_view(), name="index")


class QueueViewset(_DeciderMenu):
    """待领取: approval tasks of the user's jurisdiction that nobody has claimed."""

    title = _("To claim")
    icon = "move_to_inbox"
    index_path = path("", QueueView.as_view(), name="index")


class ArchiveViewset(AppMenuMixin, Viewset):
    """已办: decided approval requests of the cases in scope."""

    title = _("Decided")
    icon = "inventory_2"
    index_path = path("", ArchiveView.as_view(), name="index")

    def has_view_permission(self, user, obj=None):
        return user.is_authenticated and user.has_perm("workflows.view_proposal")


class ProposalsViewset(AppMenuMixin, Viewset):
    """我的申请 and every page of one approval request (scoped by the case rule)."""

    title = _("My proposals")
    icon = "outbox"
    index_path = path("", SubmittedView.as_view(), name="index")
    detail_path = path("<int:pk>/", ProposalDetailView.as_view(), name="detail")
    claim_path = path("<int:pk>/claim/", ClaimView.as_view(), name="claim")
    release_path = path("<int:pk>/release/", ReleaseView.as_view(), name="release")
    decide_path = path("<int:pk>/decide/", DecideView.as_view(), name="decide")
    withdraw_path = path("<int:pk>/withdraw/", WithdrawView.as_view(), name="withdraw")
    extension_path = path(
        "extension/<int:outfall_pk>/", ExtensionProposeView.as_view(), name="extension"
    )

    def has_view_permission(self, user, obj=None):
        return user.is_authenticated and user.has_perm("workflows.view_proposal")


class SummonsViewset(AppMenuMixin, Viewset):
    """约谈: the summonses in scope, each summons' page and its steps."""

    title = _("Summonses")
    icon = "record_voice_over"
    index_path = path("", SummonsListView.as_view(), name="index")
    propose_path = path("propose/", SummonsProposeView.as_view(), name="propose")
    detail_path = path("<int:pk>/", SummonsDetailView.as_view(), name="detail")
    step_path = path("<int:pk>/step/", SummonsStepView.as_view(), name="step")
    file_path = path("<int:pk>/file/<slug:which>/", SummonsFileView.as_view(), name="file")

    def has_view_permission(self, user, obj=None):
        return user.is_authenticated and user.has_perm("workflows.view_summons")


class AccountabilityViewset(Viewset):
    """问责: each accountability proposal's page (listed on the summons list)."""

    title = _("Accountability")
    detail_path = path("<int:pk>/", AccountabilityDetailView.as_view(), name="detail")
    step_path = path("<int:pk>/step/", AccountabilityStepView.as_view(), name="step")

    def has_view_permission(self, user, obj=None):
        return user.is_authenticated and user.has_perm("workflows.view_accountability")


class WorkflowsApplication(Application):
    title = _("Supervision")
    icon = "gavel"
    app_name = "workflows"
    base_template_name = "layout.html"
    permission = "workflows.view_deadline"
    viewsets = [
        TasksViewset(app_name="tasks"),
        QueueViewset(app_name="queue"),
        ArchiveViewset(app_name="archive"),
        ProposalsViewset(app_name="proposals"),
        SummonsViewset(app_name="summons"),
        AccountabilityViewset(app_name="accountability"),
        DashboardViewset(app_name="dashboard"),
    ]
