"""Settings for the benchmarks: the project's own, plus the bare baseline endpoint (bench/bareapp)
that bench_checkin.py compares the real check-in with. Production settings know nothing of it."""

from fangkong.settings import *  # noqa: F403
from fangkong.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "bench.bareapp"]
ROOT_URLCONF = "bench.bareapp.urls"
