"""Screen: health-education posts and the office big screen (电子大屏)."""

from django.apps import AppConfig


class ScreenConfig(AppConfig):
    name = "fangkong.screen"
    verbose_name = "宣教与大屏"
