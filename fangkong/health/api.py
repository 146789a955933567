"""API: submit a household check-in (idempotent), read one's history, and a unit's day for liaisons."""

from datetime import date
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Field, Header, Router, Schema, Status

from fangkong.health import selectors, services
from fangkong.health.models import Channel
from fangkong.lib import clock, plausible, text
from fangkong.lib.schemas import InSchema
from fangkong.org import selectors as org

router = Router(tags=["health"])


class SubjectIn(InSchema):
    family_member_id: int | None = None
    temperature: float | str | None = None
    symptoms: list[str] = Field([], max_length=20)
    symptom_other: str = Field("", max_length=100)
    contact: str = Field("none", max_length=20)
    risk_travel: bool = False
    quarantine: str = Field("none", max_length=20)
    quarantine_place: str = Field("", max_length=100)
    quarantine_start: date | None = None
    work_mode: str = Field("", max_length=20)
    current_city: str = Field("", max_length=50)
    out_of_town: bool = False


class CheckInIn(InSchema):
    person_id: int | None = None
    attested: bool = False
    subjects: list[SubjectIn] = Field(..., max_length=services.MAX_SUBJECTS)

    # Documents the body (/api/v1/docs); the API fuzz sends these first (scripts/api_fuzz.py).
    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "attested": True,
                    "subjects": [
                        {"temperature": 36.5, "work_mode": "on_site", "current_city": "黄冈"},
                    ],
                },
                {
                    "attested": True,
                    "subjects": [
                        {
                            "temperature": "37.6",
                            "symptoms": ["cough"],
                            "contact": "none",
                            "work_mode": "home_post",
                        }
                    ],
                },
            ]
        }
    }


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


def _answers(s: SubjectIn, attested: bool) -> tuple[services.Answers, dict[str, str]]:
    """Build one subject's answers; problems come back field by field, in the forms' words."""
    errors = {}
    temperature = None
    if s.temperature not in (None, ""):
        # "NaN", "Infinity" and 1e999 are numbers to Decimal; none is a body temperature.
        number = plausible.finite_decimal(s.temperature)
        if number is None or not services.TEMPERATURE_MIN <= number <= services.TEMPERATURE_MAX:
            errors["temperature"] = services.ERR_TEMPERATURE_RANGE
        else:
            temperature = number.quantize(Decimal("0.1"))
    answers = services.Answers(
        temperature=temperature,
        family_member_id=s.family_member_id,
        symptoms=s.symptoms,
        symptom_other=s.symptom_other,
        contact=s.contact,
        risk_travel=s.risk_travel,
        quarantine=s.quarantine,
        quarantine_place=s.quarantine_place,
        quarantine_start=s.quarantine_start,
        work_mode="" if s.family_member_id else s.work_mode,
        current_city=s.current_city,
        out_of_town=s.out_of_town,
        attested=attested,
    )
    found = services.answer_errors(answers, is_staff_member=s.family_member_id is None)
    found.pop("attested", None)  # reported once for the whole submission
    return answers, found | errors


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
        subject, problems = _answers(s, payload.attested)
        answers.append(subject)
        errors |= {f"subjects.{i}.{field}": [message] for field, message in problems.items()}
    if not payload.attested:
        errors["attested"] = [services.ERR_NOT_ATTESTED]
    if not payload.subjects:
        errors["subjects"] = [_("至少填写一人的打卡信息。")]
    if idempotency_key and text.has_control(idempotency_key):
        errors["Idempotency-Key"] = [text.control_message()]
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
    except services.IdempotencyKeyReused:
        message = _(services.ERR_IDEMPOTENCY_REUSED)
        return Status(422, {"detail": message, "errors": {"Idempotency-Key": [message]}})
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
    response={200: UnitDayOut, 422: ErrorOut},
    summary="单位某日打卡情况（联络员、负责人、上级协调员）",
)
def unit_day(request, code: str, day: date | None = None):
    unit = org.get_unit_for(request.auth, code, org.CAP_HEALTH_VIEW)
    day = day or clock.today()
    problem = plausible.date_problem(day, plausible.VIEW)
    if problem:
        return Status(
            422, {"detail": _("请求参数有误，请按提示修改。"), "errors": {"day": [problem]}}
        )
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
