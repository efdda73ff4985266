"""Fixtures of the documents tests: subjects reached through the real services, and an
`issue` helper that runs the after-commit render (eager Celery) the way production does."""

import datetime as dt

import pytest
from django.utils import timezone

from base.factories import UserFactory
from base.models import Jurisdiction
from cases import factories
from cases.choices import State
from documents import services
from workflows.flows import AccountabilityFlow, SummonsFlow
from workflows.models import Summons, SummonsProposal

# the summons notice of the geometry and security tests: two pages and an annex
SUMMONS_EXTRA = {
    "persons": "泽州县人民政府分管副县长，县生态环境分局、住建局、水务局主要负责同志",
    "time": "2024年3月12日（星期二）上午9:00",
    "place": "晋城市生态环境局三楼会议室",
    "contact": "王明，0356-2021234",
}


@pytest.fixture
def classified_outfall(county_officer):
    """A 泽州县 case with a code (a signboard needs one)."""
    return factories.drive_to(factories.register(actor=county_officer), State.CLASSIFIED)


@pytest.fixture
def yangcheng_classified_outfall(other_county_officer):
    outfall = factories.register(
        actor=other_county_officer, jurisdiction_code="140522", town="润城镇", village="上庄村"
    )
    return factories.drive_to(outfall, State.CLASSIFIED)


def make_summons() -> Summons:
    """A 泽州县 summons process taken up from an (empty) L3 proposal: the subject of the
    summons documents. Built by hand: these tests are about documents, not the process
    (tests/workflows/test_summons.py reaches it through the services)."""
    county = Jurisdiction.objects.get(code="140525")
    proposal = SummonsProposal.objects.create(
        jurisdiction=county, month=dt.date(2024, 3, 1), created_at=timezone.now()
    )
    return SummonsFlow.start.run(
        jurisdiction=county,
        summons_proposal=proposal,
        cause="排查整治工作滞后",
        meeting_time="2024年3月12日上午9:00",
        meeting_place="晋城市生态环境局三楼会议室",
        contact="王明，0356-2021234",
        proposer=UserFactory(),
        proposed_at=timezone.now(),
    )


@pytest.fixture
def summons(db):
    return make_summons()


@pytest.fixture
def accountability(summons):
    """The accountability proposal of that summons (the subject of 问责建议函)."""
    return AccountabilityFlow.start.run(
        summons_process=summons,
        jurisdiction=summons.jurisdiction,
        trigger="not_rectified",
        created_at=timezone.now(),
    )


@pytest.fixture
def issue(django_capture_on_commit_callbacks):
    """`document_issue` followed by its after-commit render, as a worker would do it."""

    def _issue(**kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            document = services.document_issue(**kwargs)
        document.refresh_from_db()
        return document

    return _issue
