"""Outbound channels behind one interface: `send(message)` delivers or raises `ChannelError`.

| channel | address | delivered when |
|---|---|---|
| inbox | (the message's user) | at once: the inbox page reads the outbox |
| email | an e-mail address (the user's own when empty) | the SMTP server accepts it |
| sms | a mobile number | the gateway answers 2xx |
| wecom | a robot name from FANGKONG_WEBHOOKS, optionally `name:mobile,mobile` | errcode 0 |
| dingtalk | the same; signed when the robot has a secret | errcode 0 |

Credentials and URLs are settings (see the end of fangkong/settings.py). A channel never retries
by itself: delivery.py decides about retries.
"""

import base64
import hashlib
import hmac
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from email.utils import parseaddr

from django.conf import settings
from django.core.mail import EmailMessage, get_connection

from fangkong.lib import clock
from fangkong.notify.models import ChannelKind, Message


class ChannelError(Exception):
    """A send failed. `permanent` errors (no address, unknown robot) are not retried."""

    def __init__(self, reason: str, *, permanent: bool = False):
        super().__init__(reason)
        self.permanent = permanent


def send(message: Message) -> None:
    """Deliver one message on its channel; raises ChannelError when it was not delivered."""
    sender = SENDERS.get(message.channel)
    if sender is None:
        raise ChannelError(f"unknown channel {message.channel!r}", permanent=True)
    sender(message)


def text_of(message: Message) -> str:
    """The plain text of a message for channels without a subject line (SMS, robots)."""
    return "\n".join(part for part in (message.subject.strip(), message.body.strip()) if part)


# --- In-app inbox. ---


def send_inbox(message: Message) -> None:
    """Nothing leaves the system: the recipient's inbox page lists the message."""
    if message.user_id is None:
        raise ChannelError("inbox message without a user", permanent=True)


# --- E-mail over SMTP. ---


def message_id(message: Message) -> str:
    """A Message-ID that depends on the key only: a resend carries the same one, so the
    receiving side can recognise a duplicate."""
    digest = hashlib.sha256(message.key.encode()).hexdigest()[:40]
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "fangkong.localhost"
    return f"<{digest}@{domain}>"


def send_email(message: Message) -> None:
    to = message.address or (message.user.email if message.user_id else "")
    if not to:
        raise ChannelError("no e-mail address", permanent=True)
    # The SMTP backend explicitly: the test runner swaps EMAIL_BACKEND for an in-memory one.
    connection = get_connection(
        settings.NOTIFY_EMAIL_BACKEND, fail_silently=False, timeout=settings.EMAIL_TIMEOUT
    )
    email = EmailMessage(
        subject=message.subject,
        body=message.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        headers={"Message-ID": message_id(message)},
        connection=connection,
    )
    try:
        sent = email.send(fail_silently=False)
    except Exception as e:  # smtplib, socket and TLS errors alike
        raise ChannelError(f"SMTP: {type(e).__name__}: {e}") from e
    if sent != 1:
        raise ChannelError("SMTP: the server accepted no recipient")


# --- HTTP (SMS gateway, group robots). ---


def post_json(url: str, payload: dict, headers: dict[str, str] | None = None) -> bytes:
    """POST `payload` as UTF-8 JSON; the response body on 2xx, ChannelError otherwise."""
    if urllib.parse.urlsplit(url).scheme not in {"http", "https"}:
        raise ChannelError(f"not an http(s) URL: {url[:60]}", permanent=True)
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        url,
        data=json.dumps(payload, ensure_ascii=False).encode(),
        headers={"Content-Type": "application/json; charset=utf-8", **(headers or {})},
        method="POST",
    )
    try:
        with urllib.request.urlopen(  # noqa: S310 - scheme checked above
            request, timeout=settings.NOTIFY_HTTP_TIMEOUT
        ) as response:
            return response.read()
    except urllib.error.HTTPError as e:
        body = e.read()[:200].decode(errors="replace")
        raise ChannelError(f"HTTP {e.code}: {body}") from e
    except (urllib.error.URLError, OSError) as e:  # refused, DNS, timeout
        raise ChannelError(f"HTTP: {getattr(e, 'reason', e)}") from e


def send_sms(message: Message) -> None:
    if not settings.SMS_GATEWAY_URL:
        raise ChannelError("SMS_GATEWAY_URL is not set")
    if not message.address:
        raise ChannelError("no mobile number", permanent=True)
    payload = {
        "mobile": message.address,
        "content": text_of(message),
        "sign": settings.SMS_SIGN,
        "id": message.key,  # lets the gateway drop a resend of the same message
    }
    headers = {}
    if settings.SMS_GATEWAY_TOKEN:
        headers["Authorization"] = f"Bearer {settings.SMS_GATEWAY_TOKEN}"
    post_json(settings.SMS_GATEWAY_URL, payload, headers)


def robot(address: str) -> tuple[dict, list[str]]:
    """The robot named by `name` or `name:mobile,mobile`, and the mobiles to mention."""
    name, _sep, mobiles = address.partition(":")
    config = settings.FANGKONG_WEBHOOKS.get(name.strip())
    if not isinstance(config, dict) or not config.get("url"):
        raise ChannelError(f"no webhook robot named {name.strip()!r}", permanent=True)
    mentioned = [m.strip() for m in mobiles.split(",") if m.strip()]
    return config, mentioned or list(config.get("mentions", []))


def _robot_answer(body: bytes) -> None:
    """WeCom and DingTalk answer 200 with {"errcode": 0, "errmsg": "ok"} on success."""
    try:
        answer = json.loads(body)
    except ValueError as e:
        raise ChannelError(f"not a JSON answer: {body[:100].decode(errors='replace')}") from e
    if not isinstance(answer, dict) or answer.get("errcode") != 0:
        errcode = answer.get("errcode") if isinstance(answer, dict) else None
        errmsg = answer.get("errmsg", "") if isinstance(answer, dict) else ""
        raise ChannelError(f"errcode {errcode}: {errmsg}")


def send_wecom(message: Message) -> None:
    config, mobiles = robot(message.address)
    text: dict = {"content": text_of(message)}
    if mobiles:
        text["mentioned_mobile_list"] = mobiles
    _robot_answer(post_json(config["url"], {"msgtype": "text", "text": text}))


def dingtalk_signed_url(url: str, secret: str, timestamp_ms: int) -> str:
    """DingTalk's 加签: HMAC-SHA256 of f"{timestamp}\\n{secret}" keyed by the secret, base64,
    URL-encoded, appended as &timestamp=…&sign=…"""
    string_to_sign = f"{timestamp_ms}\n{secret}"
    digest = hmac.new(secret.encode(), string_to_sign.encode(), hashlib.sha256).digest()
    sign = urllib.parse.quote_plus(base64.b64encode(digest))
    joiner = "&" if urllib.parse.urlsplit(url).query else "?"
    return f"{url}{joiner}timestamp={timestamp_ms}&sign={sign}"


def send_dingtalk(message: Message) -> None:
    config, mobiles = robot(message.address)
    content = text_of(message)
    # DingTalk shows a mention only when the content carries "@mobile" as well.
    missing = [f"@{m}" for m in mobiles if f"@{m}" not in content]
    if missing:
        content = f"{content}\n{' '.join(missing)}"
    payload = {
        "msgtype": "text",
        "text": {"content": content},
        "at": {"atMobiles": mobiles, "isAtAll": False},
    }
    url = config["url"]
    if config.get("secret"):
        url = dingtalk_signed_url(url, config["secret"], int(clock.now().timestamp() * 1000))
    _robot_answer(post_json(url, payload))


SENDERS: dict[str, Callable[[Message], None]] = {
    ChannelKind.INBOX: send_inbox,
    ChannelKind.EMAIL: send_email,
    ChannelKind.SMS: send_sms,
    ChannelKind.WECOM: send_wecom,
    ChannelKind.DINGTALK: send_dingtalk,
}
