"""The type registry filled by the owning modules, the series data and the font check."""

import pytest
from django.template.loader import get_template

from documents import checks, registry
from documents.data import sync_documents_data
from documents.models import DocumentSeries, IssuingAuthority
from documents.templatetags.documents_tags import cn_number, signer_offset, title_lines

EXPECTED = {
    "outfall_signboard": ("cases.outfall", "标"),
    "summons_notice": ("workflows.summons", "约"),
    "summons_minutes": ("workflows.summons", "纪"),
    "accountability_letter": ("workflows.accountability", "函"),
    "supervision_notice": ("workflows.supervision", "督"),
}


def test_the_owning_modules_registered_the_five_types():
    types = {t.code: (t.subject_model, t.kind) for t in registry.all_types()}
    assert {code: types.get(code) for code in EXPECTED} == EXPECTED


@pytest.mark.parametrize("code", sorted(EXPECTED))
def test_each_type_has_its_template(code):
    assert get_template(registry.get(code).template)


def test_an_unknown_type_is_a_lookup_error():
    with pytest.raises(LookupError, match="no_such_type"):
        registry.get("no_such_type")


def test_a_conflicting_registration_is_refused():
    doctype = registry.get("summons_notice")
    with pytest.raises(ValueError, match="already registered"):
        registry.register({**doctype.__dict__, "kind": "X"})
    assert registry.get("summons_notice").kind == "约"


def test_a_plain_mapping_registers_like_a_dataclass():
    spec = {**registry.get("summons_notice").__dict__, "code": "test_mapping_type"}
    try:
        assert registry.register(spec).code == "test_mapping_type"
        assert registry.get("test_mapping_type").subject_model == "workflows.summons"
    finally:
        registry.unregister("test_mapping_type")


@pytest.mark.django_db
def test_series_sync_never_overwrites_an_admin_edit():
    # given an administrator changed an abbreviation and a kind
    IssuingAuthority.objects.filter(code="jincheng_eeb").update(abbreviation="晋环")
    DocumentSeries.objects.filter(doctype="summons_notice").update(kind="谈")
    # when the data is synced again (every migrate)
    sync_documents_data()
    # then the edits stay
    assert IssuingAuthority.objects.get(code="jincheng_eeb").abbreviation == "晋环"
    assert DocumentSeries.objects.get(doctype="summons_notice").kind == "谈"
    assert DocumentSeries.objects.filter(doctype__in=EXPECTED).count() == len(EXPECTED)


@pytest.mark.parametrize(
    ("n", "expected"),
    [(1, "一"), (9, "九"), (10, "十"), (12, "十二"), (20, "二十"), (99, "九十九")],
)
def test_chinese_ordinals(n, expected):
    assert cn_number(n) == expected


def test_the_signer_is_centred_over_the_date():
    # 晋城市生态环境局: 8 em; 2024年3月5日: 6 em → centre 4 + 3 em from the right
    assert signer_offset("晋城市生态环境局", "2024年3月5日") == "3.00em"


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("关于约谈泽州县人民政府的通知", ["关于约谈泽州县人民政府的通知"]),
        (
            "关于对泽州县入河排污口整治逾期问题进行督办的通知",
            ["关于对泽州县入河排污口整治逾期问题", "进行督办的通知"],
        ),
        (
            "关于约谈晋城经济技术开发区管理委员会的通知",
            ["关于约谈晋城经济技术开发区", "管理委员会的通知"],
        ),
    ],
)
def test_long_titles_break_at_a_phrase(title, expected):
    assert title_lines(title) == expected


def test_the_font_check_warns_without_cjk_fonts(monkeypatch):
    monkeypatch.setattr(checks, "installed_cjk_families", lambda: set())
    assert [m.id for m in checks.check_document_fonts()] == ["documents.W001"]


def test_the_font_check_warns_when_a_stack_has_no_installed_font(monkeypatch):
    monkeypatch.setattr(checks, "installed_cjk_families", lambda: {"Some Other CJK"})
    assert {m.id for m in checks.check_document_fonts()} == {"documents.W002"}


def test_the_font_check_warns_without_harfbuzz_subset(monkeypatch):
    monkeypatch.setattr(checks, "_harfbuzz_subset_available", lambda: False)
    assert "documents.W003" in {m.id for m in checks.check_document_fonts()}


def test_this_machine_passes_the_font_check():
    assert checks.check_document_fonts() == []
