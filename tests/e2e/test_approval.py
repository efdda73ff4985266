"""Four-eyes approval in Chromium: a county officer proposes, a county leader approves."""

import re

from playwright.sync_api import expect

from cases import factories as f
from cases import services

from .conftest import login


def _ready_to_trace(officer):
    outfall = f.register(actor=officer)
    services.tracing_record_add(
        actor=officer,
        outfall=outfall,
        method="dye_test",
        traced_on=outfall.survey_date,
        finding="示踪剂在企业总排口检出",
        result="found",
    )
    services.outfall_entity_link(actor=officer, outfall=outfall, entity=f.EntityFactory())
    services.evidence_add(
        actor=officer, outfall=outfall, kind="photo", file=f.png_upload(), description="总排口"
    )
    return outfall


def test_officer_proposes_leader_approves_from_the_inbox_and_the_case_moves(
    page, browser, live_server, county_officer, county_leader
):
    outfall = _ready_to_trace(county_officer)
    case_url = f"/cases/outfalls/{outfall.pk}/"

    # given the county officer on the case page
    login(page, "zz_officer")
    page.goto(case_url)
    # when they propose to confirm the tracing, with a reason and the photo
    page.click("[data-testid=propose-trace]")
    expect(page.locator("[data-testid=approval-required]")).to_contain_text("县级审核人")
    page.fill("textarea[name=reason]", "沿管线溯源至企业总排口，已关联责任主体")
    page.locator("[data-testid=pick-evidence] label").first.click()
    page.click("[data-testid=submit]")
    # then the case page shows the proposal waiting, the case unchanged
    page.wait_for_url(re.compile(rf"{re.escape(case_url)}$"))
    expect(page.locator("[data-testid=pending-trace]")).to_have_text("待审批")
    expect(page.locator("[data-testid=case-title]")).to_contain_text("已排查")

    # given the county leader logs in, in their own browser
    leader_context = browser.new_context(locale="zh-CN", base_url=live_server.url)
    leader = leader_context.new_page()
    leader.set_default_timeout(15_000)
    login(leader, "zz_leader")
    # when they find the task in the queue and open it
    leader.goto("/workflows/queue/")
    row = leader.locator("[data-testid=proposal-table] tr[data-proposal-id]")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("确认溯源")
    expect(row).to_contain_text(county_officer.get_full_name())
    row.locator("[data-testid=open-proposal]").click()
    # then the approval page shows the request, the live check and the photo
    expect(leader.locator("[data-testid=proposal-reason]")).to_contain_text("沿管线溯源")
    expect(leader.locator("[data-testid=conditions-met]")).to_be_visible()
    expect(leader.locator("[data-testid=evidence] img")).to_have_count(1)
    # when they claim it, it waits in their tasks
    leader.click("[data-testid=claim]")
    expect(leader.locator("[data-testid=claimed-by]")).to_contain_text(
        county_leader.get_full_name()
    )
    leader.goto("/workflows/tasks/")
    leader.locator("[data-testid=open-proposal]").click()
    # when they approve, confirming in the dialog
    leader.click("[data-testid=approve]")
    expect(leader.locator("[data-testid=approve-dialog]")).to_be_visible()
    leader.click("[data-testid=confirm-approve]")
    expect(leader.locator("[data-testid=proposal-status]")).to_have_attribute(
        "data-decision", "approved"
    )

    # then the case page shows the new state and both people on the timeline
    leader.click("[data-testid=case-link]")
    expect(leader.locator("[data-testid=case-title]")).to_contain_text("已溯源")
    transition = leader.locator("[data-testid=timeline] li[data-event-kind=transition]")
    expect(transition).to_have_count(1)
    expect(transition).to_contain_text("确认溯源")
    expect(transition).to_contain_text(county_officer.get_full_name())
    expect(transition).to_contain_text(county_leader.get_full_name())
    leader_context.close()
