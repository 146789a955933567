"""Jobs: leases that keep a background job to one worker at a time and expire if it dies."""

from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "fangkong.jobs"
    verbose_name = "后台任务"
