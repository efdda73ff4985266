from django.utils import timezone

from .workdays import years_without_schedule


def calendar_warnings(request):
    """Warn signed-in officials when this or next year's holiday schedule is missing."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    today = timezone.localdate()
    missing = years_without_schedule(
        today, today.replace(month=12, day=31).replace(year=today.year + 1)
    )
    return {"calendar_missing_years": missing}
