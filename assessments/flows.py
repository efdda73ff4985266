"""The review process of an assessment (viewflow), one per jurisdiction and period:

    start (period closed) ─→ submit (city officer sends the draft)
        ─→ has a river chief? ─yes→ review (river chief: accept, or object item by item)
        │                              ─→ objected? ─yes→ answer (city officer answers each)
        │                                           └no─┐          │
        └no─────────────────────────────────────────────┴──────────┴→ finalize (city leader)
                                                                           ─→ end

Like the approval flows of `workflows.flows`, the process is started and advanced only by
the services (`services.py`), which hold the checks (roles, appointments, states); the
generic viewflow views are never mounted, and the pages of `views.py` are scoped by the
assessment's record rule. Every step runs under the flow lock (a row lock on PostgreSQL).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from viewflow import this
from viewflow.workflow import flow

from workflows.flows import database_lock

from .models import AssessmentReview


class AssessmentReviewFlow(flow.Flow):
    """River-chief assessment review

    The city officer sends the drafted assessment to the river chief of the jurisdiction,
    who accepts it or objects item by item; the city officer answers every objection; a
    city leader finalizes it and the report is issued.
    """

    process_class = AssessmentReview
    lock_impl = database_lock
    process_title = _("River-chief assessment review")

    start = flow.StartHandle(this.start_process).Next(this.submit)
    submit = (
        flow.View(None).Annotation(title=_("Send the draft to the river chief")).Next(this.routed)
    )
    routed = flow.If(this.has_reviewer).Then(this.review).Else(this.finalize)
    review = flow.View(None).Annotation(title=_("Review the assessment")).Next(this.objected)
    objected = flow.If(this.has_objections).Then(this.answer).Else(this.finalize)
    answer = flow.View(None).Annotation(title=_("Answer the objections")).Next(this.finalize)
    finalize = flow.View(None).Annotation(title=_("Finalize the assessment")).Next(this.end)
    end = flow.End()

    def start_process(self, activation, **fields):
        for name, value in fields.items():
            setattr(activation.process, name, value)
        return activation.process

    def has_reviewer(self, activation) -> bool:
        from .security import reviewer_appointments

        return reviewer_appointments(activation.process.assessment).exists()

    def has_objections(self, activation) -> bool:
        return activation.process.assessment.objections.exists()


STEPS = ("submit", "review", "answer", "finalize")
