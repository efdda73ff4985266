"""River-chief patrols (巡河): appointed segments only; findings become cases or link to them."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from assessments import services
from assessments.models import Patrol, PatrolFinding, PatrolPhoto
from base.factories import river_chief
from base.models import RiverChiefAppointment, RiverSegment
from cases import factories as f
from cases import selectors as case_selectors
from cases.models import Evidence, Outfall, OutfallEvent
from notifications.models import Notification

from .conftest import D, at

pytestmark = pytest.mark.django_db
QINHE_ZZ = "qinhe-140525"
NOW = at(D(2025, 5, 6))


@pytest.fixture
def chief(db):
    return river_chief(QINHE_ZZ, username="zz_river_chief", full_name="王河长")


@pytest.fixture
def segment(db):
    return RiverSegment.objects.get(slug=QINHE_ZZ)


@pytest.fixture
def patrol(chief, segment):
    return services.patrol_record(
        actor=chief, segment=segment, patrolled_on=D(2025, 5, 6), route="冶底桥至东谢匠段", now=NOW
    )


def png(name="p.png"):
    return f.png_upload(name)


def test_a_chief_records_a_patrol_of_an_appointed_segment(patrol, chief):
    assert (patrol.chief, patrol.level, patrol.jurisdiction.code) == (chief, "county", "140525")
    assert patrol.appointment.segment.slug == QINHE_ZZ


def test_a_chief_may_not_record_another_segment(chief):
    other = RiverSegment.objects.get(slug="qinhe-140522")
    with pytest.raises(PermissionDenied):
        services.patrol_record(
            actor=chief, segment=other, patrolled_on=D(2025, 5, 6), route="x", now=NOW
        )
    assert not Patrol.objects.exists()


def test_a_patrol_before_the_appointment_is_refused(segment):
    late = river_chief(QINHE_ZZ, username="late_chief")
    RiverChiefAppointment.objects.filter(person=late).update(valid_from=D(2025, 6, 1))
    with pytest.raises(PermissionDenied):
        services.patrol_record(
            actor=late, segment=segment, patrolled_on=D(2025, 5, 6), route="x", now=NOW
        )
    assert not Patrol.objects.exists()


def test_a_patrol_in_the_future_is_refused(chief, segment):
    with pytest.raises(ValidationError):
        services.patrol_record(
            actor=chief, segment=segment, patrolled_on=D(2025, 5, 7), route="x", now=NOW
        )
    assert not Patrol.objects.exists()


def test_an_officer_does_not_record_patrols(county_officer, segment):
    with pytest.raises(PermissionDenied):
        services.patrol_record(
            actor=county_officer, segment=segment, patrolled_on=D(2025, 5, 6), route="x", now=NOW
        )
    assert not Patrol.objects.exists()


def test_an_unregistered_outfall_becomes_a_case_in_the_survey_list(
    patrol, chief, county_officer, segment
):
    # when the chief reports an unregistered outfall with its coordinates and a photo
    finding = services.patrol_finding_add(
        actor=chief,
        patrol=patrol,
        kind=PatrolFinding.Kind.UNREGISTERED_OUTFALL,
        description="桥下新发现一处暗管排口，有灰色污水流出",
        case={
            "town": "南村镇",
            "village": "冶底村",
            "landmark": "冶底桥下",
            "entry_mode": "pipe",
            "is_discharging": True,
        },
        longitude=Decimal("112.861234"),
        latitude=Decimal("35.522345"),
        photo=png(),
        now=NOW,
    )
    # then a surveyed case from the patrol is in the county's survey list
    case = finding.outfall
    listed = case_selectors.outfall_list(user=county_officer, filters={"source": "patrol"})
    assert list(listed) == [case]
    assert (case.state, case.source, case.jurisdiction.code) == ("surveyed", "patrol", "140525")
    assert (case.segment, case.water_body) == (segment, segment.water_body)
    assert (case.survey_date, case.surveyors) == (D(2025, 5, 6), "王河长")
    # the chief sees it too (it is on their segment), and its timeline names them
    assert case in case_selectors.outfall_list(user=chief)
    kinds = list(case.events.values_list("kind", "actor"))
    assert kinds == [
        (OutfallEvent.Kind.REGISTERED, None),
        (OutfallEvent.Kind.NOTE, chief.pk),
        (OutfallEvent.Kind.EVIDENCE_ADDED, None),
    ]
    # the photo is kept with the finding and as the case's evidence
    assert PatrolPhoto.objects.get(finding=finding).content_type == "image/png"
    assert Evidence.objects.get(outfall=case).kind == "photo"
    # and the county officer is told
    assert Notification.objects.filter(recipient=county_officer, kind="patrol_new_case").exists()


def test_an_unregistered_outfall_needs_coordinates_and_nothing_is_written(patrol, chief):
    with pytest.raises(ValidationError):
        services.patrol_finding_add(
            actor=chief,
            patrol=patrol,
            kind=PatrolFinding.Kind.UNREGISTERED_OUTFALL,
            description="新排口",
            now=NOW,
        )
    assert not Outfall.objects.exists()
    assert not PatrolFinding.objects.exists()


def test_a_finding_links_an_outfall_the_chief_may_see(patrol, chief):
    outfall = f.register()  # 泽州县, on the 沁河 segment
    finding = services.patrol_finding_add(
        actor=chief,
        patrol=patrol,
        kind=PatrolFinding.Kind.EXISTING_OUTFALL,
        description="排口标识牌缺失",
        outfall=outfall,
        now=NOW,
    )
    assert finding.outfall == outfall


def test_an_outfall_outside_the_chief_scope_answers_not_found(patrol, chief):
    elsewhere = f.register(jurisdiction_code="140522")
    with pytest.raises(Http404):
        services.patrol_finding_add(
            actor=chief,
            patrol=patrol,
            kind=PatrolFinding.Kind.EXISTING_OUTFALL,
            description="x",
            outfall=elsewhere,
            now=NOW,
        )
    assert not PatrolFinding.objects.exists()


def test_only_the_patrolling_chief_records_findings(patrol):
    township = river_chief(QINHE_ZZ, level="township", username="zz_town_chief")
    with pytest.raises((PermissionDenied, Http404)):
        services.patrol_finding_add(
            actor=township, patrol=patrol, kind="other", description="x", now=NOW
        )
    assert not PatrolFinding.objects.exists()


def test_a_photo_is_checked_by_content(patrol, chief):
    finding = services.patrol_finding_add(
        actor=chief, patrol=patrol, kind="other", description="河道垃圾", now=NOW
    )
    fake = SimpleUploadedFile("photo.jpg", b"GIF89a fake", content_type="image/jpeg")
    with pytest.raises(ValidationError):
        services.patrol_photo_add(actor=chief, finding=finding, file=fake, now=NOW)
    pdf = SimpleUploadedFile("photo.pdf", b"%PDF-1.4 x", content_type="application/pdf")
    with pytest.raises(ValidationError):
        services.patrol_photo_add(actor=chief, finding=finding, file=pdf, now=NOW)
    assert not PatrolPhoto.objects.exists()
    photo = services.patrol_photo_add(
        actor=chief,
        finding=finding,
        file=png(),
        longitude=Decimal("112.85"),
        latitude=Decimal("35.51"),
        now=NOW,
    )
    assert (photo.longitude, photo.latitude) == (Decimal("112.85"), Decimal("35.51"))


def test_photo_coordinates_must_be_inside_the_city(patrol, chief):
    finding = services.patrol_finding_add(
        actor=chief, patrol=patrol, kind="other", description="x", now=NOW
    )
    with pytest.raises(ValidationError):
        services.patrol_photo_add(
            actor=chief,
            finding=finding,
            file=png(),
            longitude=Decimal("116.4"),
            latitude=Decimal("39.9"),
            now=NOW,
        )
    assert not PatrolPhoto.objects.exists()


@pytest.fixture
def photo(patrol, chief):
    finding = services.patrol_finding_add(
        actor=chief, patrol=patrol, kind="other", description="x", photo=png(), now=NOW
    )
    return finding.photos.get()


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("chief", 200),
        ("county_officer", 200),
        ("city_officer", 200),
        ("other_county_officer", 404),
        ("other_chief", 404),
    ],
)
def test_a_photo_is_served_only_through_the_record_rule(client, photo, request, who, status):
    if who == "other_chief":
        user = river_chief("qinhe-140522", username="yc_chief")
    else:
        user = request.getfixturevalue(who)
    client.force_login(user)
    response = client.get(reverse("assessments:patrols:photo_file", args=[photo.pk]))
    assert response.status_code == status
    if status == 200:
        assert response["Content-Type"] == "image/png"
        assert response["X-Content-Type-Options"] == "nosniff"


def test_patrol_pages_for_the_chief(client, chief, segment):
    client.force_login(chief)
    assert client.get(reverse("assessments:patrols:index")).status_code == 200
    today = timezone.localdate()
    response = client.post(
        reverse("assessments:patrols:add"),
        {"segment": segment.pk, "patrolled_on": today.isoformat(), "route": "全段", "notes": ""},
    )
    patrol = Patrol.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("assessments:patrols:detail", args=[patrol.pk])
    response = client.post(
        reverse("assessments:patrols:finding_add", args=[patrol.pk]),
        {
            "kind": "unregistered_outfall",
            "description": "新发现排口",
            "longitude": "112.86",
            "latitude": "35.52",
            "entry_mode": "pipe",
            "photo": png(),
        },
    )
    assert response.status_code == 302
    assert Outfall.objects.get().source == "patrol"
    page = client.get(reverse("assessments:patrols:detail", args=[patrol.pk]))
    assert "新发现排口" in page.content.decode()
