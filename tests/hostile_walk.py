"""Every page of the URL conf, with the persona who opens it, for the hostile-names walk.

`PAGES` lists what a person sees (HTML pages that answer 200 to that persona); `NOT_PAGES` says
why the other URL names are not opened on their own (posts, files, JSON read by a page that is
walked). `all_url_names` enumerates the resolver as tests/test_scope.py does, so a new URL
without an entry fails tests/test_hostile_world.py.
"""

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.hostile import IMG
from tests.hostile_world import DAY, DIVISION_CODE, UNIT_CODE


@dataclass(frozen=True)
class Page:
    name: str
    persona: str  # a login of tests/world.py or tests/relief_fixtures.py; "" for anonymous
    path: Callable  # Ctx → path
    # Ctx → a path to open first, whose redirects (through the local sign-in platform of
    # tests/platforms.py) leave the session in the state the page shows
    via: Callable | None = None


@dataclass
class Ctx:
    w: object  # tests/world.py World
    rw: object  # tests/relief_fixtures.py ReliefWorld
    h: object  # tests/hostile_world.py Hostile
    platform_url: str = ""  # the local sign-in platform (tests/platforms.py)


def u(name, *args, query=""):
    return lambda c: reverse(name, args=[a(c) if callable(a) else a for a in args]) + query


def _form(c):
    return c.h.form.pk


def _pid(c):
    return c.rw.project.pk


D = DAY.isoformat()
ROLLUP_QUERY = f"?node=HG&day={D}"

PAGES = [
    Page("accounts:login", "", u("accounts:login")),
    Page("api:openapi-view", "staff", u("api:openapi-view")),
    *[Page("home", p, u("home")) for p in ("admin", "city_coord", "county_liaison", "staff")],
    Page("accounts:password_change", "staff", u("accounts:password_change")),
    *[Page("accounts:tokens", p, u("accounts:tokens")) for p in ("staff", "city_coord")],
    Page("accounts:users", "admin", u("accounts:users")),
    Page("accounts:activate", "", u("accounts:activate", query="?u=" + IMG)),
    Page("accounts:unit_accounts", "city_coord", u("accounts:unit_accounts", "HG-HZ")),
    Page("accounts:batch", "city_coord", u("accounts:batch", lambda c: c.h.batch.pk)),
    *[
        Page("accounts:unit_roles", "city_coord", u("accounts:unit_roles", c))
        for c in ("HG", "HG-HZ")
    ],
    Page("accounts:unit_roles", "county_liaison", u("accounts:unit_roles", "HG-HZ")),
    Page("sso:confirm", "", u("sso:confirm"), via=lambda c: c.h.sso_login),
    Page("sso:adoption", "admin", u("sso:adoption", query="?node=HG")),
    Page("sso:adoption", "city_coord", u("sso:adoption", query="?node=HG-HZ")),
    Page("audit:events", "admin", u("audit:events")),
    Page("org:tree", "admin", u("org:tree")),
    Page("org:tree", "staff", u("org:tree")),
    *[Page("org:unit", "city_coord", u("org:unit", c)) for c in ("HG", "HG-HZ", DIVISION_CODE)],
    Page("org:unit", "county_liaison", u("org:unit", UNIT_CODE)),
    Page("org:person", "county_liaison", u("org:person", lambda c: c.h.person.pk)),
    Page("org:person", "staff", u("org:person", lambda c: c.w.people["staff"].pk)),
    Page("org:family", "staff", u("org:family", lambda c: c.w.people["staff"].pk)),
    Page("org:family", "county_liaison", u("org:family", lambda c: c.h.person.pk)),
    *[
        Page("org:leading_group", p, u("org:leading_group", "HG-HZ"))
        for p in ("city_coord", "leader")
    ],
    Page("org:roster_import", "county_liaison", u("org:roster_import")),
    Page("org:roster_preview", "county_liaison", u("org:roster_preview", lambda c: c.h.upload.pk)),
    Page("health:checkin", "staff", u("health:checkin")),
    Page(
        "health:checkin_proxy", "county_liaison", u("health:checkin_proxy", lambda c: c.h.person.pk)
    ),
    Page("health:history", "staff", u("health:history")),
    *[
        Page("health:checkin_detail", "county_liaison", u("health:checkin_detail", pk))
        for pk in (lambda c: c.h.checkins[0].pk, lambda c: c.h.checkins[-1].pk)
    ],
    Page("health:unit_day", "county_liaison", u("health:unit_day", "HG-HZ")),
    Page("health:unit_day", "city_coord", u("health:unit_day", UNIT_CODE)),
    *[Page("health:cases", p, u("health:cases")) for p in ("county_liaison", "city_coord")],
    Page("health:case", "county_liaison", u("health:case", lambda c: c.h.cases[-1].pk)),
    *[Page("reports:today", p, u("reports:today")) for p in ("county_liaison", "city_coord")],
    Page("reports:verify", "admin", u("reports:verify")),
    Page("reports:report", "city_coord", u("reports:report", lambda c: c.h.reports[0].pk)),
    Page("reports:rollup", "city_coord", u("reports:rollup", _form, query=ROLLUP_QUERY)),
    Page("reports:rollup", "prov_coord", u("reports:rollup", _form, query=f"?day={D}")),
    Page("reports:history", "city_coord", u("reports:history", _form, "HG-HZ")),
    Page("reports:history", "city_coord", u("reports:history", _form, UNIT_CODE)),
    Page("reports:submit", "county_liaison", u("reports:submit", _form, "HG-HZ", D)),
    Page("notify:inbox", "staff", u("notify:inbox")),
    Page("notify:inbox_message", "staff", u("notify:inbox_message", lambda c: c.h.messages[0].pk)),
    Page("notify:outbox", "admin", u("notify:outbox")),
    Page("screen:posts", "city_coord", u("screen:posts")),
    Page("screen:links", "city_coord", u("screen:links")),
    Page("screen:unit", "city_coord", u("screen:unit", "HG")),
    Page("screen:display", "", u("screen:display", lambda c: c.h.display_token)),
    *[Page("notices:list", p, u("notices:list")) for p in ("staff", "city_coord")],
    Page("notices:new", "city_coord", u("notices:new")),
    Page("notices:detail", "staff", u("notices:detail", lambda c: c.h.notice.pk)),
    Page("notices:detail", "city_coord", u("notices:detail", lambda c: c.h.notice.pk)),
    Page("notices:receipts", "city_coord", u("notices:receipts", lambda c: c.h.notice.pk)),
    Page("relief:projects", "auditor", u("relief:projects")),
    Page("relief:project_new", "auditor", u("relief:project_new")),
    Page("relief:project", "auditor", u("relief:project", _pid)),
    Page("relief:members", "auditor", u("relief:members", _pid)),
    Page("relief:import", "auditor", u("relief:import", _pid, lambda c: c.h.relief_import.pk)),
    Page("relief:parties", "auditor", u("relief:parties", _pid)),
    Page("relief:party", "auditor", u("relief:party", _pid, lambda c: c.h.party.pk)),
    Page("relief:items", "auditor", u("relief:items", _pid)),
    Page("relief:item", "auditor", u("relief:item", _pid, lambda c: c.h.item.pk)),
    Page("relief:synonyms", "auditor", u("relief:synonyms", _pid)),
    Page("relief:trace_index", "auditor", u("relief:trace_index", _pid)),
    Page(
        "relief:trace_donation",
        "auditor",
        u("relief:trace_donation", _pid, lambda c: c.h.donation_ref),
    ),
    Page(
        "relief:trace_recipient",
        "auditor",
        u("relief:trace_recipient", _pid, lambda c: c.h.party.pk),
    ),
    Page("relief:row", "auditor", u("relief:row", _pid, lambda c: c.h.row_id)),
    Page("relief:findings", "auditor", u("relief:findings", _pid)),
    Page("relief:finding_new", "auditor", u("relief:finding_new", _pid)),
    Page("relief:finding", "auditor", u("relief:finding", _pid, lambda c: c.h.finding.pk)),
    Page("relief:catalogue", "auditor", u("relief:catalogue", _pid)),
    Page("relief:run", "auditor", u("relief:run", _pid, lambda c: c.h.run.pk)),
]

_POST = "a form's target: the page it redirects to, or re-renders, is walked"
_FILE = "a file download (exports neutralise formulas: another part of issue 11)"
_JSON = "JSON read by a walked page's script (escaped by the browser's JSON parser)"
_PLATFORM = "a redirect to the sign-in platform (outside the machine; tests/platforms.py here)"
_CALLBACK = (
    "the platform's redirect back: ends on sso:confirm (walked, reached through wecom_login) "
    "or on a refusal that names nobody in clear (tests/test_sso.py)"
)
NOT_PAGES = {
    "accounts:logout": _POST,
    "accounts:unlock": _POST + " (the sign-in or activation form, both walked)",
    "accounts:unit_slips": "a PDF drawn by WeasyPrint on the server (no script runs)",
    "accounts:batch_progress": "an htmx fragment polled by the batch page while the worker runs; "
    "a finished batch redirects to the batch page (walked)",
    "accounts:unit_role_revoke": _POST,
    "org:family_move_out": _POST,
    "org:leading_group_end": _POST,
    "wecom_login": _PLATFORM,
    "dingtalk_login": _PLATFORM,
    "openid_connect_login": _PLATFORM,
    "wecom_callback": _CALLBACK,
    "dingtalk_callback": _CALLBACK,
    "openid_connect_callback": _CALLBACK,
    "accounts:token_revoke": _POST,
    "accounts:user_reset": _POST,
    "org:person_reveal": "an htmx fragment: the walk clicks it on the person page",
    "org:roster_export": _FILE,
    "health:unit_day_chase": _POST,
    "health:unit_day_export": _FILE,
    "health:exemption_add": _POST,
    "reports:rollup_pdf": "a PDF drawn by WeasyPrint on the server (no script runs)",
    "reports:ledger": _FILE,
    "reports:dhis2": "JSON for another system",
    "reports:signal_review": _POST,
    "reports:unlock": _POST,
    "notify:outbox_retry": _POST,
    "screen:post_unpublish": _POST,
    "screen:link_revoke": _POST,
    "screen:unit_data": _JSON,
    "screen:display_data": _JSON,
    "notices:ack": _POST,
    "notices:attachment": _FILE,
    "relief:upload": _POST,
    "relief:import_progress": "an htmx fragment polled by the import page while checking",
    "relief:import_remap": _POST,
    "relief:import_accept": _POST,
    "relief:import_discard": _POST,
    "relief:file_download": _FILE,
    "relief:sankey_data": _JSON,
    "relief:finding_decide": _POST,
    "relief:finding_note": _POST,
    "relief:report_docx": _FILE,
    "relief:findings_xlsx": _FILE,
    "relief:catalogue_params": _POST,
    "relief:catalogue_run": _POST,
    "set_language": _POST,
}
NOT_PAGES_PREFIXES = {
    "api:": "JSON API (the walk opens its Swagger UI page, api:openapi-view)",
    "admin:": "Django admin: no persona has the staff flag",
}


def all_url_names(resolver=None, namespace="") -> set[str]:
    names = set()
    for p in (resolver or get_resolver()).url_patterns:
        if isinstance(p, URLResolver):
            ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
            names |= all_url_names(p, ns)
        elif isinstance(p, URLPattern) and p.name:
            names.add(namespace + p.name)
    return names


def unwalked() -> set[str]:
    """URL names that are neither walked nor explained."""
    walked = {p.name for p in PAGES}
    return {
        n
        for n in all_url_names()
        if n not in walked
        and n not in NOT_PAGES
        and not (n.startswith(tuple(NOT_PAGES_PREFIXES)) and n != "api:openapi-view")
    }


def follow(client, path: str, platform_url: str):
    """Open `path` with a Django test client and follow its redirects, those to the local sign-in
    platform (tests/platforms.py) fetched over HTTP as a browser would; the last answer."""
    import requests

    r = client.get(path)
    while r.status_code in (301, 302, 303):
        location = r["Location"]
        if location.startswith(platform_url):
            back = requests.get(location, allow_redirects=False, timeout=5)
            assert back.status_code == 302, back.text
            location = back.headers["Location"]
        parts = urlsplit(location)
        r = client.get(f"{parts.path}?{parts.query}" if parts.query else parts.path)
    return r


def quoted(path: str) -> str:
    """The path as a browser sends it (reverse() leaves some characters of codes unquoted)."""
    return quote(path, safe="/?=&%-._~")
