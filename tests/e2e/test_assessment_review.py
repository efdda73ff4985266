"""A river chief objects to an assessment item; the city officer answers; the PDF downloads."""

import datetime as dt
import re
from zoneinfo import ZoneInfo

from django.utils import timezone
from playwright.sync_api import expect

from assessments import services
from cases import factories as f
from cases import services as case_services

from .conftest import login

TZ = ZoneInfo("Asia/Shanghai")


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=TZ)


def choose(page, name: str, value) -> None:
    """Pick an option of a Material select (viewflow's vf-field-select) like a user."""
    field = page.locator(f'vf-field-select[name="{name}"]')
    field.locator(".mdc-select__anchor").click()
    field.locator(f'li[data-value="{value}"]').click()
    expect(field.locator(f'input[name="{name}"]')).to_have_value(str(value))


def as_user(browser, live_server, username):
    context = browser.new_context(locale="zh-CN", base_url=live_server.url, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(20_000)
    login(page, username)
    return context, page


def test_chief_objects_officer_answers_leader_finalizes_and_the_pdf_downloads(
    browser, live_server, zezhou_river_chief, city_officer, city_leader
):
    # given 2025 Q1 closed with one untraced 泽州县 case, sent to the river chief
    case_services.outfall_register(
        actor=None,
        data=f.survey_data("140525", survey_date=dt.date(2025, 2, 10)),
        now=at(dt.date(2025, 2, 10)),
    )
    period = services.period_close(
        actor=None, kind="quarter", year=2025, quarter=1, now=at(dt.date(2025, 4, 3))
    )
    assessment = period.assessments.get(jurisdiction__code="140525")
    services.assessment_submit(actor=city_officer, assessment=assessment)
    url = f"/assessments/assessments/{assessment.pk}/"

    # when the river chief opens the assessment and objects to the patrol item
    context, page = as_user(browser, live_server, "zz_river_chief")
    page.goto(url)
    expect(page.locator("[data-testid=assessment-title]")).to_contain_text("泽州县")
    expect(page.locator("[data-testid=components]")).to_contain_text("河长巡河频次")
    page.click("[data-testid=review-assessment]")
    page.fill("textarea[name=reason_patrols]", "本季度已巡河两次，巡河记录见附件。")
    page.click("[data-testid=submit]")
    page.wait_for_url(re.compile(rf"{url}$"))
    # then the objection is on the assessment page
    objection = page.locator('[data-objection="patrols"]')
    expect(objection).to_contain_text("本季度已巡河两次")
    context.close()

    # when the city officer answers it: keep the points, with the reason
    context, page = as_user(browser, live_server, "city_officer")
    page.goto(url)
    page.click("[data-testid=answer-objections]")
    objection_id = assessment.objections.get().pk
    choose(page, f"decision_{objection_id}", "keep")
    page.fill(f"textarea[name=reason_{objection_id}]", "考核期内未见巡河记录，维持原分。")
    page.click("[data-testid=submit]")
    page.wait_for_url(re.compile(rf"{url}$"))
    expect(page.locator('[data-objection="patrols"] [data-testid=answer]')).to_contain_text(
        "维持原分"
    )
    context.close()

    # when the city leader finalizes
    context, page = as_user(browser, live_server, "city_leader")
    page.goto(url)
    page.click("[data-testid=finalize-assessment]")
    page.click("[data-testid=submit]")
    page.wait_for_url(re.compile(rf"{url}$"))
    expect(page.locator("[data-testid=assessment-title]")).to_contain_text("已定稿")
    context.close()

    # then the river chief downloads the final report PDF, numbered
    context, page = as_user(browser, live_server, "zz_river_chief")
    page.goto(url)
    number = f"晋市环考〔{timezone.localdate().year}〕1号"
    expect(page.locator("[data-testid=report]")).to_have_text(number)
    with page.expect_download() as download:
        page.click("[data-testid=report-pdf]")
    path = download.value.path()
    with open(path, "rb") as fh:
        assert fh.read(5) == b"%PDF-"
    assert download.value.suggested_filename == f"{number}.pdf"
    context.close()
