"""`manage.py demo_accounts HG-HZ`: the demo's usernames in one unit, to sign in as anyone there."""

from django.core.management.base import BaseCommand, CommandError

from fangkong.demo import organisation as demo
from fangkong.org.models import OrgUnit, Person
from fangkong.org.selectors import roles_by_user


class Command(BaseCommand):
    help = "List the people of a demo unit and its divisions with their usernames and roles."

    def add_arguments(self, parser):
        parser.add_argument("unit", nargs="?", default="HG-HZ", help="unit code, e.g. HG-HZ")

    def handle(self, *args, **options):
        if not demo.is_loaded():
            raise CommandError("演示数据尚未加载：先运行 manage.py load_demo。")
        unit = OrgUnit.objects.filter(code=options["unit"]).first()
        if unit is None:
            raise CommandError(f"没有编码为 {options['unit']} 的单位。")
        units = list(OrgUnit.objects.filter(pk=unit.pk) | unit.children.all())
        people = (
            Person.objects.filter(unit__in=units)
            .select_related("unit", "user", "rank")
            .order_by("unit__path", "rank__order", "pk")
        )
        leaders = {u.first_responsible_id for u in units}
        liaisons = set(
            OrgUnit.liaisons.through.objects.filter(orgunit__in=units).values_list(
                "person_id", flat=True
            )
        )
        roles = {
            user_id: [f"{role}@{code or '*'}" for role, code in held]
            for user_id, held in roles_by_user(
                [p.user_id for p in people if p.user_id is not None]
            ).items()
        }
        self.stdout.write(f"{unit.name}（{unit.code}）及直属科室 · 密码均为 {demo.PASSWORD}")
        rows = [("用户名", "姓名", "单位", "职务", "角色")]
        for p in people:
            held = (["第一责任人"] if p.pk in leaders else []) + (
                ["联络员"] if p.pk in liaisons else []
            )
            held += roles.get(p.user_id, [])
            username = p.user.username if p.user_id else "（无账号）"
            rows.append((username, p.name, p.unit.name, p.post, "、".join(held)))
        widths = [max(demo.display_width(r[i]) for r in rows) for i in range(5)]
        for row in rows:
            cells = [
                c + " " * (w - demo.display_width(c)) for c, w in zip(row, widths, strict=True)
            ]
            self.stdout.write("  ".join(cells).rstrip())
