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


def test_pages_link_the_site_icon(client):
    """Without a linked icon every page view logged a 404 for /favicon.ico (issue 11)."""
    import re
    from pathlib import Path

    from django.contrib.staticfiles import finders

    html = client.get("/accounts/login/").content.decode()
    link = re.search(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">', html)
    assert link, "base.html links no icon"
    path = finders.find(link.group(1).removeprefix("/static/"))
    assert path and Path(path).read_text(encoding="utf-8").startswith("<svg ")
