"""The hostile world (tests/hostile_world.py) covers every text field, the walk every page, and
no page sends a hostile value back as markup. The browser walk is tests/browser/test_hostile_names.py.
"""

import pytest
from django.apps import apps
from django.db import models

from tests.hostile import IMG, SCRIPT, SVG
from tests.hostile_walk import PAGES, Ctx, follow, quoted, unwalked
from tests.hostile_world import HOSTILE_FIELDS, NOT_USER_TEXT, NOW, build_hostile_world


def _text_fields() -> set[str]:
    found = set()
    for model in apps.get_models():
        if not model.__module__.startswith("fangkong."):
            continue
        for f in model._meta.get_fields():
            if isinstance(f, models.CharField | models.TextField) and not f.choices:
                found.add(f"{model._meta.label}.{f.name}")
    return found


def test_every_text_field_is_in_the_hostile_inventory():
    listed = {f"{m}.{f}" for m, names in HOSTILE_FIELDS.items() for f in names}
    explained = set(NOT_USER_TEXT)
    missing = {
        f
        for f in _text_fields()
        if f not in listed and f not in explained and f"{f.rsplit('.', 1)[0]}.*" not in explained
    }
    assert not missing, f"say in tests/hostile_world.py whether users fill these: {sorted(missing)}"
    assert not (listed - _text_fields()), "HOSTILE_FIELDS names a field that does not exist"


def test_every_page_is_walked_or_explained():
    missing = unwalked()
    assert not missing, f"add these to tests/hostile_walk.py PAGES or NOT_PAGES: {sorted(missing)}"


@pytest.fixture
def hostile(world, relief_world, tmp_path, clock, platforms):
    clock.freeze(NOW)
    h = build_hostile_world(world, relief_world, tmp_path, platforms)
    return Ctx(w=world, rw=relief_world, h=h, platform_url=platforms.url)


def test_no_page_sends_hostile_text_back_as_markup(hostile):
    from django.test import Client

    from fangkong.accounts.models import User

    clients = {"": Client()}
    failures = []
    for page in PAGES:
        if page.persona not in clients:
            clients[page.persona] = Client()
            clients[page.persona].force_login(User.objects.get(username=page.persona))
        path = quoted(page.path(hostile))
        if page.via:
            follow(clients[page.persona], page.via(hostile), hostile.platform_url)
        r = clients[page.persona].get(path)
        if r.status_code != 200:
            failures.append(f"{page.name} as {page.persona or 'anonymous'}: {r.status_code}")
            continue
        html = r.content.decode()
        for payload in (SCRIPT, IMG, SVG):
            if payload in html:
                failures.append(f"{page.name} as {page.persona}: {payload} in {path}")
    assert not failures, "\n".join(failures)
