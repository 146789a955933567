"""Bidirectional controls (U+202E and its kin) are refused in every text input, as control
characters are: forms (and the names of uploaded files), API bodies, addresses, and the cells of a
roster (issue 11: "…txt." spoofs, dates and quantities shown backwards).

The message constant is imported inside each test, after the behaviour it checks, so on the old
code the tests fail on the behaviour rather than on the import.
"""

import sys
import unicodedata

from django.core.files.uploadedfile import SimpleUploadedFile

from fangkong.health.models import CheckIn
from fangkong.org.models import Person, RosterUpload
from tests.test_bounds import MORNING, post_json, subject
from tests.test_health import household_post
from tests.test_roster import PEOPLE_HEADERS, csv_bytes, new_id, person_row, problems, upload

RLO, PDF, LRE, RLM, LRI, PDI = "\u202e", "\u202c", "\u202a", "\u200f", "\u2066", "\u2069"
# Unicode's Bidi_Control property: the explicit formatting characters and the three marks.
EXPLICIT = {"LRE", "RLE", "PDF", "LRO", "RLO", "LRI", "RLI", "FSI", "PDI"}
MARKS = {"\u200e", "\u200f", "\u061c"}


def test_the_rule_refuses_exactly_the_bidi_controls():
    from fangkong.lib import text

    explicit = {
        chr(c) for c in range(sys.maxunicode + 1) if unicodedata.bidirectional(chr(c)) in EXPLICIT
    }
    assert len(explicit) == 9
    for ch in explicit | MARKS:
        for multiline in (False, True):
            assert text.refusal(f"2020-02-{ch}03", multiline=multiline) == text.ERR_BIDI, hex(
                ord(ch)
            )
    # Zero-width joiners and spaces reorder nothing (emoji sequences use them): allowed.
    for ch in ("\u200b", "\u200c", "\u200d"):
        assert text.refusal(f"黄{ch}冈") is None
    # A control character and a bidi control: the control character is named first.
    assert text.refusal("a\x00" + RLO) == text.ERR_CONTROL


def test_forms_refuse_bidi_controls_in_text(world, client_for, clock):
    clock.freeze(MORNING)
    c = client_for("staff")
    r = c.post("/health/checkin/", household_post(world, **{"self-current_city": "黄冈" + RLO}))
    assert r.status_code == 200
    from fangkong.lib.text import ERR_BIDI

    assert r.context["forms"][0].errors["current_city"] == [ERR_BIDI]
    # A mark between digits moves them ("1<RLM>-<RLM>2" shows as "12-"): refused as well.
    r = c.post("/health/checkin/", household_post(world, **{"self-current_city": f"1{RLM}-{RLM}2"}))
    assert r.context["forms"][0].errors["current_city"] == [ERR_BIDI]
    assert not CheckIn.objects.exists()
    # Multi-line text too.
    post = {"title": "勤洗手", "unit": "HG", "published_from": "2020-02-03"}
    r = client_for("city_coord").post(
        "/screen/posts/", post | {"body": f"第一行\r\n{LRI}第二行{PDI}"}
    )
    assert r.status_code == 200
    assert r.context["form"].errors["body"] == [ERR_BIDI]


def test_uploaded_file_names_arrive_without_them(world, client_for, clock):
    """A notice attachment named "通知<RLO>txt.exe" would show as "通知exe.txt": Django's multipart
    parser drops non-printable characters from file names, so it is stored as "通知txt.exe".
    (Not a regression test: this held before; it fails if a Django upgrade changes it.)"""
    from fangkong.notices.models import NoticeAttachment

    clock.freeze(MORNING)
    c = client_for("city_coord")
    r = c.post(
        "/notices/new/",
        {
            "kind": "notice",
            "title": "关于做好防控工作的通知",
            "body": "请各单位认真落实。",
            "unit": "HG",
            "audiences": ["liaison"],
            "files": [SimpleUploadedFile(f"通知{RLO}txt.exe", b"MZ")],
        },
    )
    assert r.status_code == 302
    assert [a.name for a in NoticeAttachment.objects.all()] == ["通知txt.exe"]


def test_api_bodies_and_addresses_refuse_bidi_controls(world, client_for, clock):
    clock.freeze(MORNING)
    c = client_for("staff")
    body = {"attested": True, "subjects": [subject(symptom_other=f"咳嗽{LRI}3天{PDI}")]}
    r = post_json(c, "/api/v1/checkins", body)
    assert r.status_code == 422
    from fangkong.lib.text import ERR_BIDI

    assert r.json()["errors"] == {"subjects.0.symptom_other": [ERR_BIDI]}
    assert not CheckIn.objects.exists()
    r = client_for("prov_coord").get("/api/v1/units", {"parent": "HG" + RLO})
    assert r.status_code == 422 and r.json()["errors"] == {"parent": [ERR_BIDI]}
    r = client_for("prov_coord").get("/org/", {"q": "黄冈" + RLO})
    assert r.status_code == 400 and r.content.decode() == ERR_BIDI


def test_roster_cells_with_bidi_controls_are_row_errors(world, client_for):
    """A name with U+202E, and a mobile copied from Windows contacts (wrapped in U+202A…U+202C):
    each a problem at its row and column; nothing is imported. Control characters other than
    tabs and line breaks (which a cell may hold) are refused there the same way."""
    c = client_for("county_liaison")
    data = csv_bytes(
        [
            PEOPLE_HEADERS,
            person_row("王" + RLO + "芳", "HG-HZ", new_id(901)),
            person_row("李强", "HG-HZ", new_id(902), 手机号码=f"{LRE}13900001111{PDF}"),
            person_row("赵六", "HG-HZ", new_id(903)),
            person_row("钱\x07七", "HG-HZ", new_id(904), 职务="科员\t（兼）"),
        ]
    )
    people = Person.objects.count()
    r = upload(c, "名册.csv", data)
    assert r.status_code == 302
    up = RosterUpload.objects.get()
    from fangkong.lib.text import ERR_BIDI, ERR_CONTROL_MULTILINE

    assert problems(up) == [
        ("人员", 2, "姓名", ERR_BIDI),
        ("人员", 3, "手机号码", ERR_BIDI),
        ("人员", 5, "姓名", ERR_CONTROL_MULTILINE),
    ]
    assert up.status == RosterUpload.Status.FAILED
    assert Person.objects.count() == people
