"""The providers allauth's registry loads from this app (it looks for `<app>.provider`)."""

from fangkong.sso.platforms import DingTalk, OpenIdConnect
from fangkong.sso.wecom import WeCom

provider_classes = [WeCom, DingTalk, OpenIdConnect]
