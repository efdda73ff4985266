"""Register, edit and evidence services: validation names the field and writes nothing."""

import hashlib
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from cases import factories as f
from cases import services
from cases.models import Evidence, Outfall, OutfallEvent


def test_register_writes_the_case_and_its_first_event(county_officer):
    outfall = f.register(actor=county_officer)
    assert outfall.state == "surveyed"
    assert outfall.name == "泽州县南村镇冶底村排污口"
    event = OutfallEvent.objects.get(outfall=outfall)
    assert (event.kind, event.actor, event.to_state) == ("registered", county_officer, "surveyed")
    assert event.diff["town"] == [None, "南村镇"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"latitude": Decimal("36.5")}, "latitude"),
        ({"longitude": Decimal("111.0")}, "longitude"),
        ({"daily_volume": Decimal("-1")}, "daily_volume"),
        ({"entry_mode": "teleport"}, "entry_mode"),
    ],
)
def test_register_rejects_bad_values_naming_the_field(county_officer, overrides, field):
    with pytest.raises(ValidationError) as excinfo:
        f.register(actor=county_officer, **overrides)
    assert field in excinfo.value.message_dict
    assert not Outfall.objects.exists()
    assert not OutfallEvent.objects.exists()


def test_register_rejects_segment_of_another_water(county_officer):
    from base.models import RiverSegment

    with pytest.raises(ValidationError, match="segment"):
        f.register(actor=county_officer, segment=RiverSegment.objects.get(slug="danhe-140525"))
    assert not Outfall.objects.exists()


def test_national_code_is_unique_when_set(county_officer):
    f.register(actor=county_officer, national_code="HJ-0001")
    f.register(actor=county_officer)
    f.register(actor=county_officer)  # several without a national code
    with pytest.raises(ValidationError, match="national_code"):
        f.register(actor=county_officer, national_code="HJ-0001")


def test_update_without_changes_writes_no_event(county_officer, zezhou_outfall):
    services.outfall_update(actor=county_officer, outfall=zezhou_outfall, data={"town": "南村镇"})
    assert OutfallEvent.objects.filter(outfall=zezhou_outfall, kind="edited").count() == 0


def test_evidence_is_stored_with_its_hash(county_officer, zezhou_outfall):
    upload = f.png_upload("牌子.png")
    evidence = services.evidence_add(
        actor=county_officer, outfall=zezhou_outfall, kind="signboard", file=upload
    )
    assert evidence.sha256 == hashlib.sha256(f.PNG_BYTES).hexdigest()
    assert evidence.content_type == "image/png"
    assert evidence.original_name == "牌子.png"
    with evidence.file.open("rb") as fh:
        assert fh.read() == f.PNG_BYTES
    assert OutfallEvent.objects.filter(outfall=zezhou_outfall, kind="evidence_added").exists()


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"MZ\x90\x00 not an image", "photo.png", "file"),
        (b"<html><script>alert(1)</script>", "photo.jpg", "file"),
        (b"", "empty.png", "file"),
    ],
)
def test_evidence_rejects_bad_files(county_officer, zezhou_outfall, content, name, message):
    with pytest.raises(ValidationError, match=message):
        services.evidence_add(
            actor=county_officer,
            outfall=zezhou_outfall,
            kind="photo",
            file=SimpleUploadedFile(name, content),
        )
    assert not Evidence.objects.exists()


def test_evidence_rejects_a_file_over_the_limit(county_officer, zezhou_outfall, settings):
    settings.OUTFALLS_EVIDENCE_MAX_BYTES = 50
    with pytest.raises(ValidationError, match="file"):
        services.evidence_add(
            actor=county_officer,
            outfall=zezhou_outfall,
            kind="photo",
            file=SimpleUploadedFile("big.png", f.PNG_BYTES * 2),
        )
    assert not Evidence.objects.exists()


def test_plan_deadline_moves_only_by_extension(county_officer, city_leader, zezhou_outfall):
    import datetime as dt

    from base.models import Department

    housing = Department.objects.get(code="140525-housing")
    plan = services.plan_set(
        actor=county_officer,
        outfall=zezhou_outfall,
        measures="截污",
        lead_department=housing,
        deadline=dt.date(2024, 6, 30),
    )
    with pytest.raises(ValidationError, match="deadline"):
        services.plan_set(
            actor=county_officer,
            outfall=zezhou_outfall,
            measures="截污",
            lead_department=housing,
            deadline=dt.date(2024, 9, 30),
        )
    extension = services.plan_extend(
        actor=county_officer,
        plan=plan,
        new_date=dt.date(2024, 9, 30),
        reason="汛期施工受限",
        approver=city_leader,
    )
    plan.refresh_from_db()
    assert plan.deadline == dt.date(2024, 9, 30)
    assert (extension.old_date, extension.approver) == (dt.date(2024, 6, 30), city_leader)


def test_extension_needs_a_city_leader(county_officer, county_leader, zezhou_outfall):
    import datetime as dt

    from django.core.exceptions import PermissionDenied

    from base.models import Department

    plan = services.plan_set(
        actor=county_officer,
        outfall=zezhou_outfall,
        measures="截污",
        lead_department=Department.objects.get(code="140525-housing"),
        deadline=dt.date(2024, 6, 30),
    )
    with pytest.raises(PermissionDenied):
        services.plan_extend(
            actor=county_officer,
            plan=plan,
            new_date=dt.date(2024, 9, 30),
            reason="理由",
            approver=county_leader,
        )
    plan.refresh_from_db()
    assert plan.deadline == dt.date(2024, 6, 30)
    assert not plan.extensions.exists()
