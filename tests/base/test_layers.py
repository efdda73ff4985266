from pathlib import Path

from django.conf import settings

from base.layers import upward_imports
from base.modules import transitive_depends

ROOT = Path(settings.BASE_DIR)


def _allowed():
    return {label: transitive_depends(label) for label in settings.PROJECT_APPS}


def test_no_module_imports_a_higher_one():
    violations = upward_imports(ROOT, _allowed())
    assert violations == [], "\n".join(map(str, violations))


def test_an_upward_import_is_reported(tmp_path):
    # given a tree where base imports workflows (a higher layer)
    for module in ("base", "cases", "workflows"):
        (tmp_path / module).mkdir()
        (tmp_path / module / "__init__.py").write_text("")
    (tmp_path / "base" / "services.py").write_text(
        "import datetime\n\ndef f():\n    from workflows.flows import ApprovalFlow\n"
    )
    (tmp_path / "workflows" / "flows.py").write_text("from cases import models\n")
    allowed = {"base": set(), "cases": {"base"}, "workflows": {"base", "cases"}}
    # when
    violations = upward_imports(tmp_path, allowed)
    # then only the upward import is reported, with its place
    assert [(v.module, v.imported, v.line) for v in violations] == [("base", "workflows.flows", 4)]


def test_sibling_import_without_dependency_is_reported(tmp_path):
    for module in ("cases", "documents"):
        (tmp_path / module).mkdir()
    (tmp_path / "cases" / "x.py").write_text("from documents import registry\n")
    violations = upward_imports(tmp_path, {"cases": {"base"}, "documents": {"base"}})
    assert len(violations) == 1
    assert violations[0].imported == "documents"
