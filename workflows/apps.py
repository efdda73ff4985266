from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _

from base.modules import ModuleConfig


def _sync_data(sender, **kwargs):
    from .data import sync_workflows_data

    sync_workflows_data()


class WorkflowsConfig(ModuleConfig):
    default = True
    name = "workflows"
    verbose_name = _("Workflows")
    depends = ("base", "cases", "documents", "notifications")

    def ready(self):
        from cases import registry

        from . import approvals, deadlines, security, summons
        from . import registry as workflows_registry

        security.register_workflows_rules()
        registry.register_event_hook(deadlines.on_case_events)
        # four-eyes approvals: the policy table answers the lifecycle, override requests
        # open their approval process, and the case page proposes through us
        registry.set_approval_policy(approvals.approval_requirement)
        registry.register_event_hook(approvals.on_case_events)
        registry.set_proposal_backend(approvals.CaseProposals())
        # the ladder's L4 (summons report missed) opens the accountability proposal
        workflows_registry.register_accountability_handler(summons.on_report_overdue)
        post_migrate.connect(_sync_data, sender=self, dispatch_uid="workflows.sync_data")
