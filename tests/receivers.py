"""Real receivers for outbound messages in tests: an aiosmtpd SMTP server and an HTTP server."""

import json
import socket
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SmtpRecorder:
    """An aiosmtpd handler that keeps every envelope it accepts."""

    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server(settings):
    from aiosmtpd.controller import Controller

    recorder = SmtpRecorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.DEFAULT_FROM_EMAIL = "防控系统 <noreply@fk.example.cn>"
    yield recorder
    controller.stop()


class HttpReceiver:
    """Records each request; answers from a queue of (status, body), then with `default`."""

    def __init__(self):
        self.requests: list[dict] = []
        self.responses: list[tuple[int, object]] = []
        self.default: tuple[int, object] = (200, {"errcode": 0, "errmsg": "ok"})
        self.delay = 0.0
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def respond(self, *responses: tuple[int, object]) -> None:
        self.responses.extend(responses)

    def bodies(self) -> list[dict]:
        return [r["json"] for r in self.requests]

    def _handler(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                parts = urllib.parse.urlsplit(self.path)
                time.sleep(receiver.delay)
                with receiver.lock:
                    receiver.requests.append(
                        {
                            "method": self.command,
                            "path": parts.path,
                            "query": dict(urllib.parse.parse_qsl(parts.query)),
                            "raw_query": parts.query,
                            "headers": dict(self.headers.items()),
                            "json": json.loads(raw.decode()),
                        }
                    )
                    status, body = (
                        receiver.responses.pop(0) if receiver.responses else receiver.default
                    )
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        return Handler


@pytest.fixture
def http_receiver(settings):
    receiver = HttpReceiver()
    thread = threading.Thread(target=receiver.server.serve_forever, daemon=True)
    thread.start()
    settings.SMS_GATEWAY_URL = f"{receiver.url}/sms/send"
    settings.SMS_GATEWAY_TOKEN = "sms-token-123"
    settings.SMS_SIGN = "黄冈审计"
    settings.FANGKONG_WEBHOOKS = {
        "hg-wecom": {"url": f"{receiver.url}/cgi-bin/webhook/send?key=wk-1"},
        "hg-ding": {"url": f"{receiver.url}/robot/send?access_token=dt-1"},
        "hb-ding": {
            "url": f"{receiver.url}/robot/send?access_token=dt-2",
            "secret": "SEC0123456789abcdef",
            "mentions": ["13871000001"],
        },
    }
    settings.NOTIFY_HTTP_TIMEOUT = 5
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()
