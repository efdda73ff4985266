"""Summons (约谈) in Chromium: a city leader approves a summons and downloads its notice."""

import re

from playwright.sync_api import expect

from tests.workflows.summons_helpers import l3_proposal, propose
from workflows.models import Summons

from .conftest import login


def test_city_leader_approves_a_summons_and_downloads_its_notice_pdf(
    page, live_server, county_officer, city_officer, city_leader
):
    # given a summons proposed by a city officer from the ladder's L3 proposal
    summons = propose(city_officer, l3_proposal(county_officer))

    # when the city leader finds it among the summonses awaiting approval
    login(page, "city_leader")
    page.goto("/workflows/summons/?state=pending")
    row = page.locator(f"[data-testid=summons-table] tr[data-summons-id='{summons.pk}']")
    expect(row).to_contain_text("泽州县")
    expect(row.locator("[data-testid=summons-state]")).to_have_text("待审批")
    row.locator("[data-testid=open-summons]").click()
    page.wait_for_url(re.compile(rf"/workflows/summons/{summons.pk}/$"))

    # and approves it, confirming in the dialog
    page.click("[data-testid=approve]")
    expect(page.locator("[data-testid=approve-dialog]")).to_be_visible()
    page.click("[data-testid=confirm-approve]")
    page.wait_for_url(re.compile(rf"/workflows/summons/{summons.pk}/$"))

    # then the summons is approved and its numbered notice is listed
    expect(page.locator("[data-testid=summons-state]")).to_have_attribute("data-state", "approved")
    number = Summons.objects.get(pk=summons.pk).notice.number
    assert re.fullmatch(r"晋市环约〔\d{4}〕\d+号", number)
    expect(page.locator("[data-testid=document-number]")).to_have_text(number)

    # and the notice downloads as a PDF
    link = page.locator("[data-testid=download-summons_notice]")
    with page.expect_download() as info:
        link.click()
    assert info.value.suggested_filename == f"{number}.pdf"
    response = page.request.get(link.get_attribute("href"))
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.body().startswith(b"%PDF-")
