"""API: who am I and what may I do."""

from ninja import Router, Schema

from fangkong.org.selectors import grants

router = Router(tags=["accounts"])


class GrantOut(Schema):
    role: str
    unit_code: str | None
    unit_name: str


class MeOut(Schema):
    username: str
    person_id: int | None
    person_name: str | None
    unit_code: str | None
    grants: list[GrantOut]


@router.get("/me", response=MeOut, summary="当前用户及其权限范围")
def me(request):
    user = request.auth
    person = getattr(user, "person", None)
    return {
        "username": user.username,
        "person_id": person.pk if person else None,
        "person_name": person.name if person else None,
        "unit_code": person.unit.code if person else None,
        "grants": [
            {"role": g.role, "unit_code": g.unit_code or None, "unit_name": g.unit_name}
            for g in grants(user)
        ],
    }
