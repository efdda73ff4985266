"""Factories and scenario helpers shared by the tests and `load_demo` (through real services)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory
from django.core.files.uploadedfile import SimpleUploadedFile

from base.factories import user_with_role
from base.models import Department, Jurisdiction, RiverSegment, Role, WaterBody

from . import services
from .choices import Disposition, EvidenceKind, State
from .models import ResponsibleEntity, Subtype, TracingRecord

# A valid 1x1 PNG: evidence uploads are checked by content.
PNG_BYTES = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00"
    b"\x00\x00\x00IEND\xaeB`\x82"
)


def png_upload(name: str = "photo.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PNG_BYTES, content_type="image/png")


def survey_data(jurisdiction_code: str = "140525", **overrides) -> dict:
    """Field values for `services.outfall_register`, inside the city extent."""
    jurisdiction = Jurisdiction.objects.get(code=jurisdiction_code)
    segment = RiverSegment.objects.filter(jurisdiction=jurisdiction).order_by("pk").first()
    water = segment.water_body if segment else WaterBody.objects.get(slug="qinhe")
    data = {
        "jurisdiction": jurisdiction,
        "town": "南村镇",
        "village": "冶底村",
        "landmark": "冶底桥下游50米",
        "longitude": Decimal("112.851234"),
        "latitude": Decimal("35.512345"),
        "water_body": water,
        "segment": segment,
        "entry_mode": "pipe",
        "discharge_pattern": "intermittent",
        "daily_volume": Decimal("12.5"),
        "main_pollutants": "COD、氨氮",
        "is_discharging": True,
        "colour": "浅灰",
        "odour": "轻微",
        "survey_level": 2,
        "survey_date": dt.date(2023, 9, 12),
        "surveyors": "张三、李四",
        "source": "survey",
    }
    data.update(overrides)
    return data


class EntityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ResponsibleEntity

    name = factory.Sequence(lambda n: f"晋城测试企业{n}有限公司")
    credit_code = ""
    kind = ResponsibleEntity.Kind.ENTERPRISE
    jurisdiction = factory.LazyFunction(lambda: Jurisdiction.objects.get(code="140525"))


def register(actor=None, jurisdiction_code: str = "140525", **overrides):
    return services.outfall_register(actor=actor, data=survey_data(jurisdiction_code, **overrides))


def approver_for(outfall, role: str = Role.COUNTY_LEADER):
    """A county leader over the outfall's jurisdiction, for four-eyes approvals in tests."""
    code = outfall.jurisdiction.code
    return user_with_role(role, code, username=f"approver_{role}_{code}")


def trace(outfall, actor=None, approver=None, entity=None):
    approver = approver or approver_for(outfall)
    services.tracing_record_add(
        actor=actor,
        outfall=outfall,
        method=TracingRecord.Method.FIELD,
        traced_on=dt.date(2023, 10, 1),
        finding="沿管线排查至企业总排口",
        result=TracingRecord.Result.FOUND,
    )
    services.outfall_entity_link(actor=actor, outfall=outfall, entity=entity or EntityFactory())
    return services.outfall_transition(
        actor=actor, outfall=outfall.pk, transition="trace", approved_by=approver
    )


def classify(
    outfall,
    subtype: str = "qt_other",
    disposition: str = Disposition.STANDARDISE,
    actor=None,
    approver=None,
    **kwargs,
):
    approver = approver or approver_for(outfall)
    st = Subtype.objects.select_related("category").get(code=subtype)
    services.outfall_classification_set(
        actor=actor,
        outfall=outfall,
        category=st.category,
        subtype=st,
        disposition=disposition,
        **kwargs,
    )
    return services.outfall_transition(
        actor=actor, outfall=outfall.pk, transition="classify", approved_by=approver
    )


def plan_and_start(outfall, actor=None, approver=None, deadline=dt.date(2024, 12, 31)):
    approver = approver or approver_for(outfall)
    department = Department.objects.get(code=f"{outfall.jurisdiction.code}-housing")
    services.plan_set(
        actor=actor,
        outfall=outfall,
        measures="截污纳管、规范化建设",
        lead_department=department,
        deadline=deadline,
    )
    return services.outfall_transition(
        actor=actor, outfall=outfall.pk, transition="start_remediation", approved_by=approver
    )


def add_evidence(outfall, *kinds: str, actor=None):
    for kind in kinds:
        services.evidence_add(actor=actor, outfall=outfall, kind=kind, file=png_upload())


RETAIN_KINDS = (
    EvidenceKind.SIGNBOARD,
    EvidenceKind.SAMPLING_POINT,
    EvidenceKind.ARCHIVE,
    EvidenceKind.ACCEPTANCE,
)


def drive_to(
    outfall,
    state: str,
    disposition: str = Disposition.STANDARDISE,
    subtype: str = "qt_other",
    approver=None,
    actor=None,
):
    """Walk an outfall through the real services to `state` (tests and demo data)."""
    approver = approver or approver_for(outfall)

    def apply(name):
        return services.outfall_transition(
            actor=actor, outfall=outfall.pk, transition=name, approved_by=approver
        )

    if state == State.SURVEYED:
        return outfall
    outfall = trace(outfall, actor=actor, approver=approver)
    if state == State.TRACED:
        return outfall
    outfall = classify(
        outfall, subtype=subtype, disposition=disposition, actor=actor, approver=approver
    )
    if state == State.CLASSIFIED:
        return outfall
    if state == State.RETAINED and disposition == Disposition.KEEP:
        add_evidence(outfall, *RETAIN_KINDS, actor=actor)
        return apply("retain")
    outfall = plan_and_start(outfall, actor=actor, approver=approver)
    if state == State.REMEDIATING:
        return outfall
    if state == State.RETAINED:
        add_evidence(outfall, *RETAIN_KINDS, actor=actor)
        return apply("retain")
    if state == State.CLOSED:
        add_evidence(outfall, EvidenceKind.PLUG_PROOF, EvidenceKind.ACCEPTANCE, actor=actor)
        return apply("close")
    raise ValueError(state)
