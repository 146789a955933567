"""API: submit a household check-in (idempotent), read one's history, and a unit's day for liaisons."""

from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Header, Router, Schema, Status

from fangkong.health import selectors, services
from fangkong.health.forms import SelfForm, SubjectForm
from fangkong.health.models import Channel
from fangkong.lib import clock
from fangkong.org import selectors as org

router = Router(tags=["health"])


class SubjectIn(Schema):
    family_member_id: int | None = None
    temperature: float | str | None = None
    symptoms: list[str] = []
    symptom_other: str = ""
    contact: str = "none"
    risk_travel: bool = False
    quarantine: str = "none"
    quarantine_place: str = ""
    quarantine_start: date | None = None
    work_mode: str = ""
    current_city: str = ""
    out_of_town: bool = False


class CheckInIn(Schema):
    person_id: int | None = None
    attested: bool = False
    subjects: list[SubjectIn]


class CheckInResult(Schema):
    id: int
    family_member_id: int | None
    version: int
    abnormal: bool
    submitted_at: str
    updated_at: str


class SubmitOut(Schema):
    day: str
    checkins: list[CheckInResult]


class ErrorOut(Schema):
    detail: str
    errors: dict[str, list[str]] = {}


class CheckInOut(Schema):
    id: int
    day: date
    family_member_id: int | None
    temperature: str
    symptoms: list[str]
    contact: str
    risk_travel: bool
    quarantine: str
    work_mode: str
    abnormal: bool
    version: int
    channel: str
    submitted_at: str
    updated_at: str

    @staticmethod
    def resolve_temperature(c):
        return str(c.temperature)

    @staticmethod
    def resolve_submitted_at(c):
        return c.submitted_at.isoformat()

    @staticmethod
    def resolve_updated_at(c):
        return c.updated_at.isoformat()


class DayPersonOut(Schema):
    person_id: int
    name: str
    unit_code: str
    reported: bool
    abnormal: bool
    exempt: bool
    family_total: int
    family_done: int
    family_abnormal: int


class UnitDayOut(Schema):
    unit_code: str
    day: date
    counts: dict[str, int]
    people: list[DayPersonOut]


def _form_data(s: SubjectIn) -> dict:
    data = s.dict()
    data["risk_travel"] = "1" if s.risk_travel else "0"
    data["out_of_town"] = "1" if s.out_of_town else "0"
    data["temperature"] = "" if s.temperature is None else str(s.temperature)
    return data


@router.post(
    "/checkins",
    response={200: SubmitOut, 422: ErrorOut, 403: ErrorOut},
    summary="提交本人及家属今日打卡（支持 Idempotency-Key 防重复）",
)
def submit(
    request, payload: CheckInIn, idempotency_key: str | None = Header(None, alias="Idempotency-Key")
):
    user = request.auth
    if payload.person_id is None:
        person = getattr(user, "person", None)
        if person is None:
            raise Http404("no person")
    else:
        person = org.get_person_for(user, payload.person_id, org.CAP_REPORT)
    errors, answers = {}, []
    for i, s in enumerate(payload.subjects):
        cls = SubjectForm if s.family_member_id else SelfForm
        form = cls(_form_data(s), subject_name="", family_member_id=s.family_member_id)
        if form.is_valid():
            answers.append(form.answers(attested=payload.attested))
        else:
            for field, messages in form.errors.items():
                errors[f"subjects.{i}.{field}"] = list(messages)
    if not payload.subjects:
        errors["subjects"] = [_("至少填写一人的打卡信息。")]
    if errors:
        return Status(422, {"detail": _("打卡信息有误，请按提示修改。"), "errors": errors})
    try:
        result = services.checkin_submit(
            actor=user,
            person=person,
            answers=answers,
            channel=Channel.API,
            idempotency_key=idempotency_key,
        )
    except ValidationError as exc:
        field_errors = (
            {k: [str(m) for m in v] for k, v in exc.message_dict.items()}
            if hasattr(exc, "error_dict")
            else {"__all__": [str(m) for m in exc.messages]}
        )
        return Status(422, {"detail": _("打卡信息有误，请按提示修改。"), "errors": field_errors})
    except PermissionDenied as exc:
        return Status(403, {"detail": str(exc)})
    return Status(200, result)


@router.get(
    "/checkins/mine", response=list[CheckInOut], summary="本人及家属的打卡记录（最近 60 天）"
)
def mine(request):
    person = getattr(request.auth, "person", None)
    if person is None:
        return []
    return list(
        selectors.checkins_for(request.auth)
        .filter(person=person)
        .order_by("-day", "family_member_id")[: 60 * 6]
    )


@router.get(
    "/units/{code}/checkins",
    response=UnitDayOut,
    summary="单位某日打卡情况（联络员、负责人、上级协调员）",
)
def unit_day(request, code: str, day: date | None = None):
    unit = org.get_unit_for(request.auth, code, org.CAP_HEALTH_VIEW)
    day = day or clock.today()
    people, counts = selectors.unit_day(request.auth, unit, day)
    selectors.record_health_view(actor=request.auth, unit=unit, what=f"api unit day {day}")
    return {
        "unit_code": unit.code,
        "day": day,
        "counts": counts,
        "people": [
            {
                "person_id": p.pk,
                "name": p.name,
                "unit_code": p.unit.code,
                "reported": bool(p.checkin_id),
                "abnormal": bool(p.checkin_abnormal),
                "exempt": p.exempt,
                "family_total": p.family_total,
                "family_done": p.family_done,
                "family_abnormal": p.family_abnormal,
            }
            for p in people
        ],
    }
