"""Extension points of the workflows module filled by higher layers (the summons process)."""

from __future__ import annotations

from collections.abc import Callable

AccountabilityHandler = Callable[[object], None]
_accountability_handlers: list[AccountabilityHandler] = []


def register_accountability_handler(handler: AccountabilityHandler) -> None:
    if handler not in _accountability_handlers:
        _accountability_handlers.append(handler)


def unregister_accountability_handler(handler: AccountabilityHandler) -> None:
    if handler in _accountability_handlers:
        _accountability_handlers.remove(handler)


def accountability_due(deadline) -> None:
    """Called in the sweep's transaction when L4 fires for a summons follow-up deadline."""
    for handler in list(_accountability_handlers):
        handler(deadline)
