"""Extension points that higher modules fill in their AppConfig.ready() (DESIGN.md §3).

- the approval policy: which transitions need a second person's approval, and by whom;
  the workflows module replaces the default with its editable policy table;
- the proposal backend: where a transition that needs approval is proposed from the case
  page, and what the case page shows of open proposals (the workflows module's approval
  processes); without one, such a transition is refused with a clear message;
- lifecycle hooks: callables told about every applied transition, without `cases`
  importing them. `in_transaction` hooks run inside the transition's transaction (e.g.
  deadlines meet/move with the state); the others run after commit (notifications, tasks).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from base.models import Role


@dataclass(frozen=True)
class ApprovalRequirement:
    required: bool
    approver_roles: frozenset[str] = frozenset()


def default_policy(transition: str, outfall) -> ApprovalRequirement:
    # Default (issue 3): every transition needs a county leader who is not the proposer.
    return ApprovalRequirement(True, frozenset({Role.COUNTY_LEADER}))


_policy: Callable[[str, object], ApprovalRequirement] = default_policy


def set_approval_policy(provider: Callable[[str, object], ApprovalRequirement]) -> None:
    global _policy
    _policy = provider


def reset_approval_policy() -> None:
    set_approval_policy(default_policy)


def approval_policy() -> Callable[[str, object], ApprovalRequirement]:
    """The provider in force (tests that swap it in restore this one afterwards)."""
    return _policy


def approval_requirement(transition: str, outfall) -> ApprovalRequirement:
    return _policy(transition, outfall)


@dataclass(frozen=True)
class ProposalSummary:
    """What the case page shows of a proposal (an approval request) of a higher module."""

    pk: int
    transition: str  # the transition's public name; "" for a non-transition request
    title: str
    status: str  # stable value: pending, approved, rejected, withdrawn
    status_label: str
    proposer: str
    proposed_at: object
    url: str
    detail: str = ""


@dataclass(frozen=True)
class CaseAction:
    """An extra button on the case page offered by a higher module."""

    label: str
    url: str
    icon: str = ""
    testid: str = ""


class ProposalBackend:
    """Interface of the proposal backend; the workflows module registers an implementation.

    `submit` raises `services.TransitionError` (with the unmet guards' reasons), Http404,
    PermissionDenied or ValidationError, like the transition service, and writes nothing
    then.
    """

    def submit(
        self, *, actor, outfall, transition: str, reason: str, changes: dict, evidence
    ) -> ProposalSummary:
        raise NotImplementedError

    def open_proposals(self, *, user, outfall) -> list[ProposalSummary]:
        return []

    def case_actions(self, *, user, outfall) -> list[CaseAction]:
        return []


_proposal_backend: ProposalBackend | None = None


def set_proposal_backend(backend: ProposalBackend | None) -> None:
    global _proposal_backend
    _proposal_backend = backend


def proposal_backend() -> ProposalBackend | None:
    return _proposal_backend


@dataclass(frozen=True)
class TransitionApplied:
    outfall_id: int
    transition: str
    from_state: str
    to_state: str
    event_id: int
    actor_id: int | None


Hook = Callable[[TransitionApplied], None]
_hooks: list[tuple[Hook, bool]] = []


def register_transition_hook(hook: Hook, *, in_transaction: bool = False) -> None:
    if (hook, in_transaction) not in _hooks:
        _hooks.append((hook, in_transaction))


def unregister_transition_hook(hook: Hook) -> None:
    _hooks[:] = [(h, t) for h, t in _hooks if h is not hook]


def transition_hooks(*, in_transaction: bool) -> list[Hook]:
    return [h for h, t in _hooks if t is in_transaction]


# Case-event hooks: told about every audit event written for a case (in its transaction),
# e.g. so deadlines follow registrations and plan changes. Bulk writers (the survey import)
# call `run_event_hooks` once with all the events they created.
EventHook = Callable[[list], None]
_event_hooks: list[EventHook] = []


def register_event_hook(hook: EventHook) -> None:
    if hook not in _event_hooks:
        _event_hooks.append(hook)


def unregister_event_hook(hook: EventHook) -> None:
    if hook in _event_hooks:
        _event_hooks.remove(hook)


def run_event_hooks(events: list) -> None:
    if events:
        for hook in list(_event_hooks):
            hook(events)
