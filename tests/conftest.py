"""Shared fixtures: the small world of tests/world.py and logged-in clients per persona."""

import pytest
from django.test import Client

from tests.platforms import platforms  # noqa: F401 (shared fixture: local sign-in platforms)
from tests.receivers import http_receiver, smtp_server  # noqa: F401 (shared fixtures)
from tests.relief_fixtures import relief_world  # noqa: F401 (shared fixture)
from tests.world import build_world


@pytest.fixture
def world(db):
    return build_world()


@pytest.fixture
def client_for(world):
    """client_for("city_coord") → a Django test client logged in as that persona."""

    def make(key: str) -> Client:
        c = Client()
        c.force_login(world.users[key])
        return c

    return make


def pytest_configure(config):
    from django.conf import settings

    # Password hashing dominates fixture time; tests do not need a slow hash.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def clock():
    """A frozen server clock the test can move; released afterwards."""
    from fangkong.lib import clock as server_clock

    yield server_clock
    server_clock.freeze(None)
