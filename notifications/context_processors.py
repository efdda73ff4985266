from django.utils.functional import cached_property

from . import selectors


class UnreadBadge:
    """The header's unread count, counted (one COUNT query) only if a template shows it."""

    def __init__(self, user):
        self._user = user

    @cached_property
    def count(self) -> int:
        return selectors.unread_count(self._user)


def unread(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"notification_badge": UnreadBadge(user)}
