"""Reference data and people: jurisdictions, water, departments, roles, river chiefs, calendar."""

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """Roles of DESIGN.md §1. Each is a Django group of the same name (synced on migrate)."""

    COUNTY_OFFICER = "county_officer", _("County officer")
    COUNTY_LEADER = "county_leader", _("County leader")
    DEPARTMENT_OFFICER = "department_officer", _("Department officer")
    CITY_OFFICER = "city_officer", _("City officer")
    CITY_LEADER = "city_leader", _("City leader")
    RIVER_CHIEF = "river_chief", _("River chief")
    ADMIN = "admin", _("Administrator")


class User(AbstractUser):
    full_name = models.CharField(_("full name"), max_length=64, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)

    class Meta(AbstractUser.Meta):
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def get_full_name(self):
        return self.full_name or super().get_full_name() or self.get_username()

    def __str__(self):
        return self.get_full_name()


class Jurisdiction(models.Model):
    """A node of the administrative tree (city → county-level units → towns)."""

    class Kind(models.TextChoices):
        CITY = "city", _("City")
        DISTRICT = "district", _("District")
        COUNTY = "county", _("County")
        COUNTY_CITY = "county_city", _("County-level city")
        DEV_ZONE = "dev_zone", _("Development zone")
        TOWN = "town", _("Town")

    code = models.CharField(_("code"), max_length=12, unique=True)
    name = models.CharField(_("name"), max_length=64)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    is_local_code = models.BooleanField(
        _("local code"),
        default=False,
        help_text=_("The code is a local one, not from GB/T 2260."),
    )
    # Materialised path of codes ("/140500/140525/"), maintained by the sync service;
    # makes "this node and its descendants" one indexed prefix query.
    path = models.CharField(_("path"), max_length=255, db_index=True, editable=False)

    class Meta:
        ordering = ["path"]
        verbose_name = _("jurisdiction")
        verbose_name_plural = _("jurisdictions")

    def __str__(self):
        return self.name

    @property
    def is_county_level(self) -> bool:
        return self.kind in {
            self.Kind.DISTRICT,
            self.Kind.COUNTY,
            self.Kind.COUNTY_CITY,
            self.Kind.DEV_ZONE,
        }


class WaterBody(models.Model):
    class Kind(models.TextChoices):
        RIVER = "river", _("River")
        RESERVOIR = "reservoir", _("Reservoir")
        LAKE = "lake", _("Lake")
        CANAL = "canal", _("Canal")

    class QualityClass(models.TextChoices):
        I = "I", "Ⅰ"  # noqa: E741
        II = "II", "Ⅱ"
        III = "III", "Ⅲ"
        IV = "IV", "Ⅳ"
        V = "V", "Ⅴ"

    slug = models.SlugField(_("stable key"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=64)
    code = models.CharField(_("code"), max_length=32, blank=True)
    basin = models.CharField(_("basin"), max_length=64, blank=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.RIVER)
    function_zone = models.CharField(_("water-function zone"), max_length=128, blank=True)
    target_class = models.CharField(
        _("quality target class"), max_length=3, choices=QualityClass.choices, blank=True
    )
    meets_target = models.BooleanField(_("currently meets its target"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("water body")
        verbose_name_plural = _("water bodies")
        constraints = [
            models.UniqueConstraint(
                fields=["code"], condition=~Q(code=""), name="waterbody_code_unique_when_set"
            )
        ]

    def __str__(self):
        return self.name


class RiverSegment(models.Model):
    slug = models.SlugField(_("stable key"), max_length=64, unique=True)
    water_body = models.ForeignKey(
        WaterBody, verbose_name=_("water body"), on_delete=models.PROTECT, related_name="segments"
    )
    jurisdiction = models.ForeignKey(
        Jurisdiction,
        verbose_name=_("jurisdiction"),
        on_delete=models.PROTECT,
        related_name="segments",
    )
    name = models.CharField(_("name"), max_length=128)

    class Meta:
        ordering = ["water_body__name", "jurisdiction__path"]
        verbose_name = _("river segment")
        verbose_name_plural = _("river segments")

    def __str__(self):
        return self.name


class Department(models.Model):
    class Kind(models.TextChoices):
        ECOLOGY = "ecology", _("Ecology and environment")
        HOUSING = "housing", _("Housing and urban-rural development")
        WATER = "water", _("Water resources")
        AGRICULTURE = "agriculture", _("Agriculture and rural affairs")
        URBAN_MANAGEMENT = "urban_management", _("Urban management")
        INDUSTRY = "industry", _("Industry and information technology")
        PUBLIC_SECURITY = "public_security", _("Public security")

    code = models.SlugField(_("stable key"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=64)
    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    jurisdiction = models.ForeignKey(
        Jurisdiction,
        verbose_name=_("jurisdiction"),
        on_delete=models.PROTECT,
        related_name="departments",
    )

    class Meta:
        ordering = ["jurisdiction__path", "kind"]
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        constraints = [
            models.UniqueConstraint(
                fields=["jurisdiction", "kind"], name="department_one_kind_per_jurisdiction"
            )
        ]

    def __str__(self):
        return self.name


class RoleGrant(models.Model):
    """A user holds a role over a jurisdiction subtree, optionally for one department."""

    user = models.ForeignKey(
        User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="grants"
    )
    role = models.CharField(_("role"), max_length=24, choices=Role.choices)
    jurisdiction = models.ForeignKey(
        Jurisdiction,
        verbose_name=_("jurisdiction"),
        on_delete=models.PROTECT,
        related_name="grants",
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="grants",
    )
    created_at = models.DateTimeField(_("granted at"), auto_now_add=True)

    class Meta:
        ordering = ["user_id", "role"]
        verbose_name = _("role grant")
        verbose_name_plural = _("role grants")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "role", "jurisdiction", "department"],
                condition=Q(department__isnull=False),
                name="rolegrant_unique_with_department",
            ),
            models.UniqueConstraint(
                fields=["user", "role", "jurisdiction"],
                condition=Q(department__isnull=True),
                name="rolegrant_unique_without_department",
            ),
            models.CheckConstraint(
                condition=~Q(role="department_officer") | Q(department__isnull=False),
                name="rolegrant_department_officer_has_department",
            ),
        ]

    def __str__(self):
        return f"{self.user} · {self.get_role_display()} · {self.jurisdiction}"


class RiverChiefAppointment(models.Model):
    class Level(models.TextChoices):
        CITY = "city", _("City-level")
        COUNTY = "county", _("County-level")
        TOWNSHIP = "township", _("Township-level")
        VILLAGE = "village", _("Village-level")

    person = models.ForeignKey(
        User, verbose_name=_("person"), on_delete=models.PROTECT, related_name="appointments"
    )
    level = models.CharField(_("level"), max_length=16, choices=Level.choices)
    segment = models.ForeignKey(
        RiverSegment,
        verbose_name=_("river segment"),
        on_delete=models.PROTECT,
        related_name="appointments",
    )
    valid_from = models.DateField(_("from"))
    valid_to = models.DateField(_("to"), null=True, blank=True)

    class Meta:
        ordering = ["segment_id", "level"]
        verbose_name = _("river-chief appointment")
        verbose_name_plural = _("river-chief appointments")
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                name="appointment_dates_ordered",
            )
        ]

    def __str__(self):
        return f"{self.person} · {self.get_level_display()} · {self.segment}"


class CalendarDay(models.Model):
    """An official holiday or make-up workday entered by an administrator.

    Overrides the chinese-calendar package. A year with at least one entry counts as
    "schedule entered": its other days follow Monday-Friday.
    """

    date = models.DateField(_("date"), unique=True)
    is_workday = models.BooleanField(
        _("is a working day"),
        help_text=_("Checked for a make-up workday (调休), unchecked for a holiday."),
    )
    name = models.CharField(_("name"), max_length=64, blank=True)

    class Meta:
        ordering = ["date"]
        verbose_name = _("official calendar day")
        verbose_name_plural = _("official calendar days")

    def __str__(self):
        return f"{self.date} {self.name}"


class WorkerHeartbeat(models.Model):
    """Last time each Celery worker ran the heartbeat task: shows officials the worker is up."""

    hostname = models.CharField(_("worker"), max_length=255, unique=True)
    last_seen = models.DateTimeField(_("last seen"))

    class Meta:
        ordering = ["-last_seen"]
        verbose_name = _("worker heartbeat")
        verbose_name_plural = _("worker heartbeats")

    def __str__(self):
        return self.hostname


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError(f"{self.model._meta.label} is append-only.")

    def delete(self):
        raise PermissionError(f"{self.model._meta.label} is append-only.")


class AppendOnlyModel(models.Model):
    """Rows written once: no update, no delete (audit trails, objections, formula versions).

    The ORM refuses here; the owning module adds a PostgreSQL trigger for raw SQL.
    """

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None and type(self)._base_manager.filter(pk=self.pk).exists():
            raise PermissionError(f"{self._meta.label} is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError(f"{self._meta.label} is append-only.")
