from .conftest import login


def test_officer_logs_in_through_the_form_and_sees_roles_in_chinese(page, county_officer):
    # given the login page in Chinese
    page.goto("/")
    assert "登录" in page.content()
    # when the officer logs in through the form and opens the roles page
    login(page, "zz_officer")
    page.goto("/base/access/")
    # then the roles page shows the role and jurisdiction in Chinese
    body = page.locator("main").inner_text()
    assert "我的角色与辖区" in page.content()
    assert "县级经办人" in body
    assert "泽州县" in body


def test_wrong_password_stays_on_login_with_an_error(page, county_officer):
    login(page, "zz_officer", "wrong-password")
    assert "/accounts/login/" in page.url
    assert "用户名" in page.content()
