"""A local stand-in for the sign-in platforms, answering as each one documents (tests only).

One HTTP server on 127.0.0.1 speaks three dialects:
- WeCom (企业微信): the in-app authorize page /connect/oauth2/authorize and the QR page
  /wwlogin/sso/login (both redirect back with ?code=&state=), /cgi-bin/gettoken (corpid +
  corpsecret → access_token, 7200 s), /cgi-bin/auth/getuserinfo (code → userid, user_ticket),
  /cgi-bin/user/get, /cgi-bin/auth/getuserdetail; errors as errcode answers with HTTP 200:
  40001 bad secret, 40014 invalid token, 42001 expired token, 40029 invalid code, 60111 no user.
- DingTalk (钉钉): /oauth2/auth (redirects back with ?authCode=&state=),
  POST /v1.0/oauth2/userAccessToken (JSON), GET /v1.0/contact/users/me (header
  x-acs-dingtalk-access-token); errors as HTTP 400/401 with {"code", "message"}.
- OpenID Connect: /oidc/.well-known/openid-configuration, /oidc/authorize, /oidc/token (form,
  id_token signed RS256), /oidc/userinfo (Bearer), /oidc/jwks; errors as RFC 6749 answers.

`who` names the platform user the next authorize page signs in (as if they scanned or tapped).
Every request is recorded (path, query, body) so tests can check what was sent where.
"""

import json
import secrets
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

WECOM_CORP_ID, WECOM_SECRET, WECOM_AGENT = (
    "ww0123456789abcdef",
    "wecom-SECRET-do-not-log",
    "1000002",
)
DING_ID, DING_SECRET = "dingabcdef012345", "dingtalk-SECRET-do-not-log"
OIDC_ID, OIDC_SECRET = "fangkong-test", "oidc-SECRET-do-not-log"
SECRETS = (WECOM_SECRET, DING_SECRET, OIDC_SECRET)


@dataclass
class PlatformUser:
    uid: str
    name: str
    mobile: str | None
    phone_verified: bool = True
    member: bool = True  # WeCom: inside the organisation's address book


@dataclass
class Platforms:
    users: dict[str, PlatformUser] = field(default_factory=dict)
    who: str = ""
    requests: list[dict] = field(default_factory=list)
    # Codes issued by an authorize page: code → (user id, used?)
    codes: dict[str, list] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)  # member access tokens → user id
    corp_tokens: set[str] = field(default_factory=set)
    expired: set[str] = field(default_factory=set)
    tickets: dict[str, str] = field(default_factory=dict)
    wecom_user_get_has_mobile: bool = True  # apps created after 2022 get it from getuserdetail only
    reject_member_tokens: bool = False  # DingTalk users/me and OIDC userinfo answer 401
    url: str = ""
    issued: list[str] = field(default_factory=list)  # every code and token handed out

    def add(self, uid: str, name: str, mobile: str | None, **kw) -> PlatformUser:
        self.users[uid] = PlatformUser(uid, name, mobile, **kw)
        return self.users[uid]

    def expire_corp_tokens(self) -> None:
        """As two hours passing: every organisation token now answers 42001."""
        self.expired |= self.corp_tokens

    def _new(self, prefix: str) -> str:
        value = f"{prefix}-{secrets.token_hex(8)}"
        self.issued.append(value)
        return value

    def issue_code(self) -> str:
        code = self._new("code")
        self.codes[code] = [self.who, False]
        return code

    def take_code(self, code: str) -> str | None:
        entry = self.codes.get(code)
        if entry is None or entry[1]:
            return None  # unknown, or used already: codes are single-use
        entry[1] = True
        return entry[0]

    def paths(self) -> list[str]:
        return [r["path"] for r in self.requests]


def _handler(p: Platforms, private_key, kid: str):
    class Handler(BaseHTTPRequestHandler):
        def _send(self, status: int, body, headers=None):
            data = json.dumps(body, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _redirect(self, location: str):
            self.send_response(302)
            self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def _record(self, body: bytes):
            parts = urllib.parse.urlsplit(self.path)
            query = dict(urllib.parse.parse_qsl(parts.query))
            p.requests.append(
                {
                    "method": self.command,
                    "path": parts.path,
                    "query": query,
                    "headers": dict(self.headers.items()),
                    "body": body.decode(errors="replace"),
                }
            )
            return parts.path, query

        def do_GET(self):
            path, q = self._record(b"")
            self._route("GET", path, q, {})

        def do_POST(self):
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            path, q = self._record(raw)
            if self.headers.get("Content-Type", "").startswith("application/json"):
                body = json.loads(raw or b"{}")
            else:
                body = dict(urllib.parse.parse_qsl(raw.decode()))
            self._route("POST", path, q, body)

        def _back(self, q, **params):
            target = q["redirect_uri"]
            sep = "&" if "?" in target else "?"
            self._redirect(f"{target}{sep}{urllib.parse.urlencode(params)}")

        def _route(self, method, path, q, body):
            # --- WeCom ---
            if path in ("/connect/oauth2/authorize", "/wwlogin/sso/login"):
                if q.get("appid") != WECOM_CORP_ID or q.get("agentid") != WECOM_AGENT:
                    return self._send(400, {"errcode": 40013, "errmsg": "invalid corpid"})
                return self._back(q, code=p.issue_code(), state=q.get("state", ""))
            if path == "/cgi-bin/gettoken":
                if q.get("corpid") != WECOM_CORP_ID or q.get("corpsecret") != WECOM_SECRET:
                    return self._send(200, {"errcode": 40001, "errmsg": "invalid credential"})
                token = p._new("corp")
                p.corp_tokens.add(token)
                return self._send(
                    200,
                    {"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": 7200},
                )
            if path.startswith("/cgi-bin/"):
                token = q.get("access_token", "")
                if token in p.expired:
                    return self._send(200, {"errcode": 42001, "errmsg": "access_token expired"})
                if token not in p.corp_tokens:
                    return self._send(200, {"errcode": 40014, "errmsg": "invalid access_token"})
                if path == "/cgi-bin/auth/getuserinfo":
                    uid = p.take_code(q.get("code", ""))
                    if uid is None:
                        return self._send(200, {"errcode": 40029, "errmsg": "invalid code"})
                    user = p.users[uid]
                    if not user.member:
                        return self._send(200, {"errcode": 0, "errmsg": "ok", "openid": "o" + uid})
                    ticket = p._new("ticket")
                    p.tickets[ticket] = uid
                    return self._send(
                        200,
                        {"errcode": 0, "errmsg": "ok", "userid": uid, "user_ticket": ticket},
                    )
                if path == "/cgi-bin/user/get":
                    user = p.users.get(q.get("userid", ""))
                    if user is None:
                        return self._send(200, {"errcode": 60111, "errmsg": "userid not found"})
                    answer = {"errcode": 0, "errmsg": "ok", "userid": user.uid, "name": user.name}
                    if p.wecom_user_get_has_mobile and user.mobile:
                        answer["mobile"] = user.mobile
                    return self._send(200, answer)
                if path == "/cgi-bin/auth/getuserdetail" and method == "POST":
                    uid = p.tickets.get(body.get("user_ticket", ""))
                    if uid is None:
                        return self._send(200, {"errcode": 40029, "errmsg": "invalid user_ticket"})
                    user = p.users[uid]
                    return self._send(
                        200,
                        {"errcode": 0, "errmsg": "ok", "userid": uid, "mobile": user.mobile or ""},
                    )
            # --- DingTalk ---
            if path == "/oauth2/auth":
                if q.get("client_id") != DING_ID or q.get("prompt") != "consent":
                    return self._send(400, {"code": "invalidRequest", "message": "参数错误"})
                return self._back(q, authCode=p.issue_code(), state=q.get("state", ""))
            if path == "/v1.0/oauth2/userAccessToken" and method == "POST":
                if body.get("clientId") != DING_ID or body.get("clientSecret") != DING_SECRET:
                    return self._send(400, {"code": "invalidClientId", "message": "应用凭证无效"})
                uid = p.take_code(body.get("code", ""))
                if uid is None:
                    return self._send(
                        400, {"code": "InvalidAuthentication", "message": "不合法的临时授权码"}
                    )
                token = p._new("ding")
                p.tokens[token] = uid
                return self._send(
                    200, {"accessToken": token, "refreshToken": p._new("r"), "expireIn": 7200}
                )
            if path == "/v1.0/contact/users/me":
                token = self.headers.get("x-acs-dingtalk-access-token", "")
                if p.reject_member_tokens or token in p.expired or token not in p.tokens:
                    return self._send(
                        401, {"code": "InvalidAuthentication", "message": "不合法的access_token"}
                    )
                user = p.users[p.tokens[token]]
                answer = {"nick": user.name, "openId": user.uid, "unionId": "u" + user.uid}
                if user.mobile:
                    answer |= {"mobile": user.mobile, "stateCode": "86"}
                return self._send(200, answer)
            # --- OpenID Connect ---
            issuer = f"{p.url}/oidc"
            if path == "/oidc/.well-known/openid-configuration":
                return self._send(
                    200,
                    {
                        "issuer": issuer,
                        "authorization_endpoint": f"{issuer}/authorize",
                        "token_endpoint": f"{issuer}/token",
                        "userinfo_endpoint": f"{issuer}/userinfo",
                        "jwks_uri": f"{issuer}/jwks",
                        "response_types_supported": ["code"],
                        "subject_types_supported": ["public"],
                        "id_token_signing_alg_values_supported": ["RS256"],
                        "token_endpoint_auth_methods_supported": [
                            "client_secret_post",
                            "client_secret_basic",
                        ],
                        "scopes_supported": ["openid", "profile", "phone"],
                    },
                )
            if path == "/oidc/authorize":
                if q.get("client_id") != OIDC_ID or "openid" not in q.get("scope", "").split():
                    return self._back(q, error="invalid_request", state=q.get("state", ""))
                return self._back(q, code=p.issue_code(), state=q.get("state", ""))
            if path == "/oidc/token" and method == "POST":
                if body.get("client_id") != OIDC_ID or body.get("client_secret") != OIDC_SECRET:
                    return self._send(401, {"error": "invalid_client"})
                uid = p.take_code(body.get("code", ""))
                if uid is None:
                    return self._send(400, {"error": "invalid_grant"})
                token = p._new("oidc")
                p.tokens[token] = uid
                now = int(time.time())
                id_token = jwt.encode(
                    {"iss": issuer, "aud": OIDC_ID, "sub": uid, "iat": now, "exp": now + 300},
                    private_key,
                    algorithm="RS256",
                    headers={"kid": kid},
                )
                return self._send(
                    200,
                    {
                        "access_token": token,
                        "token_type": "Bearer",
                        "expires_in": 300,
                        "id_token": id_token,
                    },
                )
            if path == "/oidc/userinfo":
                token = self.headers.get("Authorization", "").removeprefix("Bearer ")
                if p.reject_member_tokens or token in p.expired or token not in p.tokens:
                    return self._send(
                        401, {"error": "invalid_token"}, {"WWW-Authenticate": "Bearer"}
                    )
                user = p.users[p.tokens[token]]
                claims = {"sub": user.uid, "name": user.name}
                if user.mobile:
                    claims |= {
                        "phone_number": user.mobile,
                        "phone_number_verified": user.phone_verified,
                    }
                return self._send(200, claims)
            if path == "/oidc/jwks":
                jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private_key.public_key()))
                return self._send(200, {"keys": [jwk | {"kid": kid, "use": "sig", "alg": "RS256"}]})
            return self._send(404, {"errcode": 404, "errmsg": "not found"})

        def log_message(self, *args):
            pass

    return Handler


@pytest.fixture
def platforms(settings):
    """The local platform server, with the three providers configured to use it."""
    from django.core.cache import cache

    p = Platforms()
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(p, key, "k1"))
    p.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.SOCIALACCOUNT_PROVIDERS = {
        "wecom": {
            "APPS": [
                {
                    "client_id": WECOM_CORP_ID,
                    "secret": WECOM_SECRET,
                    "settings": {
                        "agent_id": WECOM_AGENT,
                        "api_url": p.url,
                        "authorize_url": f"{p.url}/connect/oauth2/authorize",
                    },
                }
            ]
        },
        "dingtalk": {
            "APPS": [
                {
                    "client_id": DING_ID,
                    "secret": DING_SECRET,
                    "settings": {"api_url": p.url, "authorize_url": f"{p.url}/oauth2/auth"},
                }
            ]
        },
        "openid_connect": {
            "APPS": [
                {
                    "provider_id": "gov-idp",
                    "name": "政务统一身份认证",
                    "client_id": OIDC_ID,
                    "secret": OIDC_SECRET,
                    "settings": {"server_url": f"{p.url}/oidc"},
                }
            ]
        },
    }
    cache.clear()  # the WeCom organisation token is cached between requests
    yield p
    server.shutdown()
    server.server_close()
    cache.clear()
