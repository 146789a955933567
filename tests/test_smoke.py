def test_home_requires_login(client):
    r = client.get("/")
    assert r.status_code == 302
    assert "/accounts/login/" in r["Location"]


def test_login_page_is_chinese(client):
    r = client.get("/accounts/login/")
    assert r.status_code == 200
    assert "登录防控系统" in r.content.decode()


def test_home_for_each_persona(client_for):
    for key in [
        "admin",
        "prov_coord",
        "city_coord",
        "county_liaison",
        "leader",
        "staff",
        "outsider",
    ]:
        r = client_for(key).get("/")
        assert r.status_code == 200, key
