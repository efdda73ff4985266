"""factory_boy factories shared by the tests and `manage.py load_demo` (STYLE.md)."""

import datetime as dt

import factory

from . import services
from .models import Jurisdiction, RiverChiefAppointment, RiverSegment, User


def jurisdiction(code: str) -> Jurisdiction:
    return Jurisdiction.objects.get(code=code)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    full_name = factory.Sequence(lambda n: f"用户{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.org")
    password = factory.django.Password("demo-pass-2024")


def user_with_role(role: str, jurisdiction_code: str, *, department=None, **kwargs) -> User:
    """A user holding `role` over the jurisdiction, granted through the real service."""
    user = UserFactory(**kwargs)
    services.role_grant_create(
        actor=None,
        user=user,
        role=role,
        jurisdiction=jurisdiction(jurisdiction_code),
        department=department,
    )
    return user


def river_chief(segment_slug: str, level: str = RiverChiefAppointment.Level.COUNTY, **kwargs):
    user = UserFactory(**kwargs)
    segment = RiverSegment.objects.get(slug=segment_slug)
    if not user.appointments.filter(segment=segment, level=level).exists():
        services.river_chief_appoint(
            actor=None,
            person=user,
            level=level,
            segment=segment,
            valid_from=dt.date(2023, 1, 1),
        )
    return user
