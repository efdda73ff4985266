"""A county officer registers an outfall and adds a tracing record, in Chromium."""

import re

from playwright.sync_api import expect

from base.models import WaterBody

from .conftest import login


def choose(page, name: str, value) -> None:
    """Pick an option of a Material select (viewflow's vf-field-select) like a user."""
    field = page.locator(f'vf-field-select[name="{name}"]')
    field.locator(".mdc-select__anchor").click()
    field.locator(f'li[data-value="{value}"]').click()
    expect(field.locator(f'input[name="{name}"]')).to_have_value(str(value))


def test_officer_registers_an_outfall_adds_tracing_and_sees_both_on_the_timeline(
    page, county_officer
):
    qinhe = WaterBody.objects.get(slug="qinhe")
    # given a county officer on the outfall register
    login(page, "zz_officer")
    page.goto("/cases/outfalls/")
    # when they register an outfall through the form
    page.click("[data-testid=register-outfall]")
    expect(page.locator("h1.vf-card__title")).to_have_text("登记排污口")
    expect(page.locator('vf-field-select[name="jurisdiction"]')).to_contain_text("泽州县")
    page.fill("input[name=town]", "南村镇")
    page.fill("input[name=village]", "冶底村")
    page.fill("input[name=landmark]", "冶底桥下游50米")
    page.fill("input[name=longitude]", "112.851234")
    page.fill("input[name=latitude]", "35.512345")
    choose(page, "water_body", qinhe.pk)
    choose(page, "entry_mode", "pipe")
    page.fill("input[name=survey_date]", "2024/05/01")
    page.fill("input[name=surveyors]", "张三、李四")
    page.click("[data-testid=submit]")
    # then the case page opens with the registration on its timeline
    page.wait_for_url(re.compile(r"/cases/outfalls/\d+/$"))
    expect(page.locator("[data-testid=case-title]")).to_contain_text("泽州县南村镇冶底村排污口")
    expect(page.locator("[data-testid=case-title]")).to_contain_text("已排查")
    case_url = page.url

    # when they add a tracing record
    page.click("[data-testid=add-tracing]")
    expect(page.locator("h1.vf-card__title")).to_have_text("添加溯源记录")
    choose(page, "method", "dye_test")
    page.fill("input[name=traced_on]", "2024/05/03")
    choose(page, "result", "found")
    page.fill("textarea[name=finding]", "示踪剂在企业总排口检出")
    page.click("[data-testid=submit]")
    page.wait_for_url(case_url)

    # then the timeline shows both entries, newest first, with who did them
    entries = page.locator("[data-testid=timeline] li[data-event-kind]")
    expect(entries).to_have_count(2)
    tracing, registration = entries.nth(0), entries.nth(1)
    expect(tracing.locator(".oc-event-title")).to_have_text("添加溯源记录")
    expect(tracing).to_contain_text("示踪剂在企业总排口检出")
    expect(tracing).to_contain_text("溯源方法：示踪（染色）试验")
    expect(tracing).to_contain_text(county_officer.get_full_name())
    expect(registration.locator(".oc-event-title")).to_have_text("登记")
    expect(registration).to_contain_text(county_officer.get_full_name())
    expect(page.locator("[data-testid=tracing]")).to_contain_text("示踪剂在企业总排口检出")
