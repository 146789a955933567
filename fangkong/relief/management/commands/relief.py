"""The relief audit from the command line: create a project, import a folder of ledgers, list the
catalogue and the findings. Every subcommand acts as --user and sees only that user's projects.

See docs/relief-cli.md for examples.
"""

import argparse
import hashlib
import json
from datetime import date
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.http import Http404

from fangkong.lib.money import yuan
from fangkong.relief import selectors, services
from fangkong.relief.findings import report
from fangkong.relief.ledger import importer, schema
from fangkong.relief.models import Evidence, FindingStatus, ImportStatus, PartyName

ERR_USER = "找不到用户“{name}”，请用 --user 指定一个已有的登录名。"
ERR_NOT_MEMBER = (
    "用户“{user}”不是审计项目 {project} 的成员（或该项目不存在），不能查看或导入其数据。"
)
ERR_DATE = "日期“{value}”无法识别，请写成 2020-01-23 的形式。"
ERR_PATH = "找不到文件或文件夹：{path}"
ERR_EMPTY_FOLDER = "文件夹 {path} 中没有可导入的文件。"
# Exit codes: 1 refused (CommandError), 2 a usage error (argparse), 3 some files were not imported.
EXIT_NOT_IMPORTED = 3
ERR_PROBLEMS = "以下文件或工作表有问题，未导入：{names}。请按上面的提示改正后重新运行。"

# Office lock files and hidden files are not ledgers; anything else is tried, and said if unreadable.
SKIP_PREFIXES = ("~$", ".")


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(ERR_DATE.format(value=value)) from exc


def _messages(exc: ValidationError | PermissionDenied) -> str:
    if isinstance(exc, ValidationError):
        return "；".join(str(m) for m in exc.messages)
    return str(exc)


class Command(BaseCommand):
    help = "审计项目命令行：project-create / import / parties / items / findings（详见 docs/relief-cli.md）"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="子命令")

        def project_args(p):
            p.add_argument("project_id", type=int, help="审计项目编号（project-create 打印的数字）")
            p.add_argument("--user", required=True, help="以该用户身份操作，须是项目组成员")

        p = sub.add_parser("project-create", help="创建审计项目，打印项目编号")
        p.add_argument("--name", required=True, help="项目名称")
        p.add_argument("--start", required=True, type=_date, help="审计期间起，如 2020-01-23")
        p.add_argument("--end", required=True, type=_date, help="审计期间止，如 2020-03-31")
        p.add_argument("--scope", default="", help="审计范围")
        p.add_argument(
            "--bodies", default="", help="参与单位，用逗号或顿号分隔，如 财政局,红十字会"
        )
        p.add_argument(
            "--user", required=True, help="以该用户身份创建（须是审计人员），并成为项目组长"
        )

        p = sub.add_parser("import", help="检查并导入一个台账文件，或一个文件夹中的全部台账")
        project_args(p)
        p.add_argument("path", type=Path, help="台账文件或文件夹")
        p.add_argument(
            "--kind",
            choices=sorted(schema.KINDS),
            metavar="KIND",
            help="指定台账类型，不指定则自动识别；可选："
            + "、".join(f"{code}（{k.label}）" for code, k in schema.KINDS.items()),
        )
        p.add_argument(
            "--yes",
            action="store_true",
            help="导入没有问题的工作表；不加时只检查并列出将导入的内容",
        )

        p = sub.add_parser("parties", help="列出单位目录（捐赠方、受赠单位、仓库等）")
        project_args(p)
        p.add_argument("--unconfirmed", action="store_true", help="只列出待确认的近似写法")

        p = sub.add_parser("items", help="列出物资目录")
        project_args(p)

        p = sub.add_parser("findings", help="列出审计发现")
        project_args(p)
        p.add_argument("--json", action="store_true", help="输出 JSON")
        p.add_argument(
            "--status",
            choices=FindingStatus.values,
            help="只列出该状态：open（待复核）、confirmed（已确认）、dismissed（已排除）",
        )

    def handle(self, *args, action: str, **opts):
        user = self._user(opts.pop("user"))
        handler = {
            "project-create": self.project_create,
            "import": self.import_,
            "parties": self.parties,
            "items": self.items,
            "findings": self.findings,
        }[action]
        try:
            handler(user, **opts)
        except (ValidationError, PermissionDenied) as exc:
            raise CommandError(_messages(exc)) from exc

    def _user(self, name: str):
        try:
            return get_user_model().objects.get(username=name, is_active=True)
        except get_user_model().DoesNotExist as exc:
            raise CommandError(ERR_USER.format(name=name)) from exc

    def _project(self, user, project_id: int):
        try:
            return selectors.get_project_for(user, project_id)
        except Http404 as exc:
            raise CommandError(
                ERR_NOT_MEMBER.format(user=user.get_username(), project=project_id)
            ) from exc

    # --- project-create ---

    def project_create(self, user, *, name, start, end, scope, bodies, **_):
        lines = [b.strip() for b in bodies.replace("、", ",").replace("，", ",").split(",")]
        project = services.project_create(
            actor=user,
            name=name,
            period_start=start,
            period_end=end,
            scope=scope,
            bodies="\n".join(b for b in lines if b),
        )
        self.stdout.write(str(project.pk))

    # --- import ---

    def import_(self, user, *, project_id, path: Path, kind, yes, **_):
        project = self._project(user, project_id)
        paths = self._ledger_paths(path)
        problems: list[str] = []
        imported = 0
        for file_path in paths:
            bad, done = self._import_file(user, project, file_path, kind or "", yes)
            problems += bad
            imported += done
        self.stdout.write("")
        if yes:
            self.stdout.write(f"共导入 {imported} 个工作表。")
        else:
            self.stdout.write(
                f"检查完毕：{imported} 个工作表可以导入。以上只是检查，未导入任何数据；"
                "确认无误后加 --yes 重新运行即可导入。"
            )
        if problems:
            raise CommandError(
                ERR_PROBLEMS.format(names="、".join(problems)), returncode=EXIT_NOT_IMPORTED
            )

    def _ledger_paths(self, path: Path) -> list[Path]:
        if path.is_file():
            return [path]
        if not path.is_dir():
            raise CommandError(ERR_PATH.format(path=path))
        found = sorted(
            p for p in path.iterdir() if p.is_file() and not p.name.startswith(SKIP_PREFIXES)
        )
        if not found:
            raise CommandError(ERR_EMPTY_FOLDER.format(path=path))
        return found

    def _import_file(
        self, user, project, path: Path, kind: str, yes: bool
    ) -> tuple[list[str], int]:
        """Upload (or find the earlier upload of) one file, check its sheets, accept clean ones.

        Returns (the file or its sheets with problems, how many sheets were imported or would be).
        """
        self.stdout.write(f"\n{path.name}")
        sha = _sha256(path)
        source = project.files.filter(sha256=sha).first()
        sheets = None
        if source is not None:
            self.stdout.write(f"  已上传过（{source.name}），继续处理其中尚未导入的工作表。")
        else:
            upload = services.source_for_upload_path(path)
            try:
                source = services.file_upload(actor=user, project=project, upload=upload, kind=kind)
                sheets = source.sheets_read
            except importer.LedgerFileError as exc:
                self.stdout.write(f"  无法读取，未保存：{exc.text()}")
                return [path.name], 0
            except ValidationError as exc:
                self.stdout.write(f"  未保存：{_messages(exc)}")
                return [path.name], 0
            finally:
                upload.close()
        bad: list[str] = []
        done = 0
        for imp in source.imports.order_by("id"):
            label = f"  [{imp.sheet or 'CSV'}]"
            if imp.status == ImportStatus.DONE:
                self.stdout.write(f"{label} 已导入：{_kind(imp.kind)}，{imp.total_rows} 行")
                continue
            if imp.status == ImportStatus.DISCARDED:
                self.stdout.write(f"{label} 已放弃，跳过")
                continue
            imp = services.run_check(import_id=imp.pk, sheets=sheets)
            kind_text = _kind(imp.kind) if imp.kind else "未识别"
            if imp.error_count:
                bad.append(f"{path.name}{label.strip()}")
                self.stdout.write(
                    f"{label} {kind_text}，{imp.total_rows} 行，{imp.error_count} 处问题，未导入："
                )
                for e in imp.errors[:20]:
                    self.stdout.write(f"      {_error_text(e)}")
                if imp.error_count > 20:
                    self.stdout.write(f"      ……另有 {imp.error_count - 20} 处，请在网页上查看。")
                continue
            rows = imp.total_rows  # data rows; total rows were skipped
            skipped = f"（跳过合计行 {imp.skipped_rows} 行）" if imp.skipped_rows else ""
            if not yes:
                self.stdout.write(f"{label} {kind_text}，{rows} 行{skipped}，没有问题，可以导入")
                done += 1
                continue
            try:
                services.import_accept(actor=user, imp=imp)
            except ValidationError as exc:
                bad.append(f"{path.name}{label.strip()}")
                self.stdout.write(f"{label} 未导入：{_messages(exc)}")
                continue
            done += 1
            self.stdout.write(f"{label} {kind_text}，{rows} 行{skipped}，已导入")
        return bad, done

    # --- parties and items ---

    def parties(self, user, *, project_id, unconfirmed, **_):
        project = self._project(user, project_id)
        if unconfirmed:
            names = (
                PartyName.objects.filter(project=project, confirmed=False)
                .select_related("party")
                .order_by("party__name", "raw")
            )
            if not names:
                self.stdout.write("没有待确认的近似写法。")
            for n in names:
                self.stdout.write(
                    f"{n.party_id}\t{n.party.name}\t← “{n.raw}”（相似度 {n.score}）待确认"
                )
            return
        for party in project.parties.prefetch_related("names"):
            spellings = [n.raw for n in party.names.all() if n.raw != party.name]
            mark = "（定点医院）" if party.designated else ""
            also = f"\t又写作：{'、'.join(spellings)}" if spellings else ""
            self.stdout.write(f"{party.pk}\t{party.name}{mark}\t{party.get_kind_display()}{also}")

    def items(self, user, *, project_id, **_):
        project = self._project(user, project_id)
        for item in project.items.prefetch_related("names", "conversions"):
            conv = "、".join(f"1{c.uom}={c.factor}{item.base_uom}" for c in item.conversions.all())
            spellings = [n.raw for n in item.names.all() if n.raw != item.name]
            parts = [
                str(item.pk),
                item.name,
                item.get_grade_display(),
                "重点保障" if item.priority else "",
                f"基本单位：{item.base_uom}",
                conv,
                f"又写作：{'、'.join(spellings)}" if spellings else "",
            ]
            self.stdout.write("\t".join(parts).rstrip())

    # --- findings ---

    def findings(self, user, *, project_id, status, **opts):
        project = self._project(user, project_id)
        qs = project.findings.order_by("id")
        if status:
            qs = qs.filter(status=status)
        found = list(qs)
        evidence: dict[int, list] = {f.pk: [] for f in found}
        for ev in (
            Evidence.objects.filter(finding__in=found)
            .select_related("source")
            .order_by("finding_id", "source_id", "sheet", "row_no")
        ):
            evidence[ev.finding_id].append(ev)
        if opts["json"]:
            self.stdout.write(_dumps([_finding_json(f, evidence[f.pk]) for f in found]))
            return
        if not found:
            self.stdout.write("没有审计发现。")
        for f in found:
            amount = f"{yuan(f.amount_fen)} 元" if f.amount_fen is not None else ""
            self.stdout.write(
                "\t".join(
                    [
                        str(f.pk),
                        report.test_label(f.test_id),
                        f.get_severity_display(),
                        f.get_status_display(),
                        amount,
                        f.title,
                        f"证据 {len(evidence[f.pk])} 行",
                    ]
                )
            )


def _dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2)


def _finding_json(f, evidence: list) -> dict:
    return {
        "id": f.pk,
        "test_id": f.test_id,
        "title": f.title,
        "severity": f.severity,
        "status": f.status,
        "amount_fen": f.amount_fen,
        "amount_yuan": None if f.amount_fen is None else f"{f.amount_yuan:.2f}",
        "quantity": f.quantity,
        "rule": f.rule,
        "evidence": [
            {
                "file": ev.source.name,
                "sha256": ev.source.sha256,
                "sheet": ev.sheet,
                "row": ev.row_no,
            }
            for ev in evidence
        ],
    }


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _kind(code: str) -> str:
    k = schema.KINDS.get(code)
    return f"{k.label}（{code}）" if k else code


def _error_text(e: dict) -> str:
    if e.get("text"):
        return e["text"]
    where = []
    if e.get("row"):
        where.append(f"第 {e['row']} 行")
    if e.get("column"):
        where.append(f"{e['column']} 列")
    return f"{' '.join(where)}：{e.get('message', '')}" if where else e.get("message", "")
