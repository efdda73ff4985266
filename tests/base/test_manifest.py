from base.modules import Manifest, check_module_manifest, manifest_errors


def test_installed_modules_pass_the_manifest_check(db):
    assert check_module_manifest() == []


def test_misordered_dependency_is_reported():
    # given workflows installed before cases, which it depends on
    manifests = [
        Manifest("base", ()),
        Manifest("workflows", ("base", "cases")),
        Manifest("cases", ("base",)),
    ]
    # when
    errors = manifest_errors(manifests)
    # then
    assert [e.id for e in errors] == ["base.E002"]
    assert "'workflows' depends on 'cases', which is installed after it" in errors[0].msg


def test_missing_dependency_is_reported():
    errors = manifest_errors([Manifest("cases", ("base",))])
    assert [e.id for e in errors] == ["base.E001"]
    assert "not installed" in errors[0].msg


def test_every_project_module_declares_its_dependencies():
    from django.apps import apps
    from django.conf import settings

    for label in settings.PROJECT_APPS:
        config = apps.get_app_config(label)
        assert isinstance(config.depends, tuple), label
        assert all(dep in settings.PROJECT_APPS for dep in config.depends), label
