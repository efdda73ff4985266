import pytest

from cases import factories


@pytest.fixture
def zezhou_outfall(county_officer):
    return factories.register(actor=county_officer)


@pytest.fixture
def yangcheng_outfall(other_county_officer):
    return factories.register(
        actor=other_county_officer, jurisdiction_code="140522", town="润城镇", village="上庄村"
    )
