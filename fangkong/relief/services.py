"""Writes for the relief audit: projects and teams, imports, the catalogue and findings.

Every write is keyword-only, atomic, and records an audit event in the same transaction.
"""

import hashlib
import logging
import math
import re
import threading
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import File
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop as N_
from rapidfuzz import fuzz, process

from fangkong.audit.services import audit_record
from fangkong.lib import plausible, text
from fangkong.relief.ledger import importer, schema, store
from fangkong.relief.models import (
    AuditProject,
    ColumnSynonym,
    Evidence,
    Finding,
    FindingNote,
    FindingStatus,
    Grade,
    ImportStatus,
    Item,
    ItemName,
    LedgerImport,
    MemberRole,
    Party,
    PartyKind,
    PartyName,
    ProjectMember,
    SourceFile,
    UnitConversion,
)
from fangkong.relief.selectors import can_create_projects, is_lead, synonyms_for

ERR_NOT_AUDITOR = N_("只有审计人员可以创建审计项目。")
ERR_NOT_LEAD = N_("只有项目组长可以调整项目组成员。")
ERR_PERIOD = N_("审计期间的结束日期不能早于开始日期。")
ERR_DUPLICATE_FILE = N_("该文件已经上传过（{name}，{when}），不需要重复上传。")
ERR_TOO_LARGE = N_("文件超过 {limit} MB，请拆分后上传。")
ERR_NOT_READY = N_("该表还有 {n} 处问题，请先改正文件或映射后重新检查；本次没有导入任何数据。")
ERR_STATE = N_("该导入当前状态为“{status}”，不能进行此操作。")
ERR_KIND = N_("请选择台账类型。")
ERR_FIELD = N_("未知字段：{field}")
ERR_REASON = N_("排除问题必须填写理由。")
ERR_EVIDENCE = N_("找不到该证据行：{file} 第 {row} 行。")
ERR_LAST_LEAD = N_("项目至少要有一名组长。")
ERR_FILE_NAME = N_("文件名中有控制字符或不可见字符，请重命名文件后重新上传。")
ERR_BUSY = N_(
    "该表正在检查（{progress}%），请等检查结束后再操作；如果超过 {minutes} 分钟没有进展，就可以放弃。"
)
ERR_ABANDONED = N_(
    "检查中断（处理进程可能已停止），没有导入任何数据；请点“重新检查”，或放弃后重新上传。"
)
ERR_CHECK_CRASHED = N_(
    "检查该表时出错，没有导入任何数据；请放弃后重新上传，如仍出错请把文件交给系统管理员。"
)
# Imports that may be left for a new upload of the same file to take over.
_ENDED = (ImportStatus.DISCARDED, ImportStatus.FAILED)

logger = logging.getLogger(__name__)


@transaction.atomic
def project_create(
    *, actor, name: str, period_start: date, period_end: date, scope: str = "", bodies: str = ""
) -> AuditProject:
    """Create a project; its creator becomes the team lead."""
    if not can_create_projects(actor):
        raise PermissionDenied(_(ERR_NOT_AUDITOR))
    for field, value in (("period_start", period_start), ("period_end", period_end)):
        problem = plausible.date_problem(value, plausible.LEDGER)
        if problem:
            raise ValidationError({field: problem})
    if period_end < period_start:
        raise ValidationError({"period_end": _(ERR_PERIOD)})
    project = AuditProject.objects.create(
        name=name.strip(),
        scope=scope,
        period_start=period_start,
        period_end=period_end,
        bodies=bodies,
        created_by=actor,
    )
    ProjectMember.objects.create(project=project, user=actor, role=MemberRole.LEAD)
    audit_record(
        actor=actor, action="relief.project.create", obj=project, new={"name": project.name}
    )
    return project


@transaction.atomic
def member_set(*, actor, project: AuditProject, user, role: str | None) -> None:
    """Add, change or (role=None) remove a team member; only a lead may."""
    if not is_lead(actor, project):
        raise PermissionDenied(_(ERR_NOT_LEAD))
    if role is None:
        if project.members.filter(role=MemberRole.LEAD).exclude(user=user).count() == 0:
            raise ValidationError(_(ERR_LAST_LEAD))
        project.members.filter(user=user).delete()
    else:
        demoting = project.members.filter(user=user, role=MemberRole.LEAD).exists()
        others = project.members.filter(role=MemberRole.LEAD).exclude(user=user).exists()
        if role != MemberRole.LEAD and demoting and not others:
            raise ValidationError(_(ERR_LAST_LEAD))
        ProjectMember.objects.update_or_create(project=project, user=user, defaults={"role": role})
    audit_record(
        actor=actor,
        action="relief.member.set",
        obj=project,
        new={"user": user.get_username(), "role": role},
    )


def _sha256(fh) -> str:
    digest = hashlib.sha256()
    for chunk in iter(lambda: fh.read(1 << 20), b""):
        digest.update(chunk)
    fh.seek(0)
    return digest.hexdigest()


def file_upload(
    *, actor, project: AuditProject, upload, body: str = "", kind: str = ""
) -> SourceFile:
    """Store the file as received (with its SHA-256) and propose an import for each of its sheets.

    Unreadable files raise LedgerFileError and store nothing. Checking runs inline for small
    files and in the worker for large ones (`schedule_check`). A file whose earlier upload
    ended in failed or discarded imports may be uploaded again: its record is taken over.
    A refused upload is recorded in the audit trail (name, size, SHA-256, reason; never content).
    """
    sha = _sha256(upload)
    imports_expire_stale(project=project)  # a dead worker's import no longer blocks the file
    try:
        return _file_store(
            actor=actor, project=project, upload=upload, sha=sha, body=body, kind=kind
        )
    except (importer.LedgerFileError, ValidationError) as exc:
        reason = (
            exc.text() if isinstance(exc, importer.LedgerFileError) else "；".join(exc.messages)
        )
        audit_record(
            actor=actor,
            action="relief.file.refuse",
            obj=project,
            new={
                "name": str(upload.name)[:200],
                "size": upload.size,
                "sha256": sha,
                "reason": reason,
            },
        )
        raise


def _file_store(*, actor, project, upload, sha: str, body: str, kind: str) -> SourceFile:
    from django.conf import settings

    if upload.size > settings.RELIEF_MAX_UPLOAD_BYTES:
        raise ValidationError(
            _(ERR_TOO_LARGE).format(limit=settings.RELIEF_MAX_UPLOAD_BYTES // 2**20)
        )
    name = Path(upload.name).name[:200]
    if text.has_control(name):
        raise ValidationError(_(ERR_FILE_NAME))
    existing = SourceFile.objects.filter(project=project, sha256=sha).first()
    if existing and existing.imports.exclude(status__in=_ENDED).exists():
        raise ValidationError(
            _(ERR_DUPLICATE_FILE).format(
                name=existing.name,
                when=timezone.localtime(existing.uploaded_at).strftime("%Y-%m-%d %H:%M"),
            )
        )
    stored = None
    try:
        with transaction.atomic():
            if existing:
                source = SourceFile.objects.select_for_update().get(pk=existing.pk)
                if source.imports.exclude(status__in=_ENDED).exists():
                    raise ValidationError(_(ERR_STATE).format(status=_("导入中")))
                if not source.content or not Path(source.content.path).exists():
                    source.content.save(name, File(upload), save=False)
                    stored = source.content.name
                ended = list(source.imports.filter(status=ImportStatus.FAILED))
            else:
                source = SourceFile(
                    project=project,
                    name=name,
                    sha256=sha,
                    size=upload.size,
                    body=body,
                    uploaded_by=actor,
                )
                source.content.save(name, File(upload), save=False)
                stored = source.content.name
                ended = []
            sheets = importer.read_file(Path(source.content.path))
            if body:
                source.body = body
            source.save()
            # The failed imports of the earlier upload are superseded by this one.
            for old in ended:
                old.status = ImportStatus.DISCARDED
                old.save(update_fields=["status"])
            created = _propose_imports(actor, project, source, sheets, name, kind)
            # Handed to the caller's checks, so this upload is parsed once (never kept further).
            source.sheets_read = sheets
            audit_record(
                actor=actor,
                action="relief.file.reupload" if existing else "relief.file.upload",
                obj=source,
                new={"sha256": sha, "sheets": len(created), "superseded": [o.pk for o in ended]},
            )
    except BaseException:
        # Nothing of a failed upload stays behind, the stored bytes included.
        if stored:
            source.content.storage.delete(stored)
        raise
    return source


def _propose_imports(actor, project, source, sheets, name: str, kind: str) -> list:
    synonyms = synonyms_for(project)
    created = []
    for sheet in sheets:
        det = importer.detect(sheet.name, sheet.head(), name, synonyms)
        if not det.header_row and len(sheets) > 1:
            continue  # a notes sheet in a workbook with ledgers
        if kind:
            det.kind = kind
        created.append(_new_import(actor, project, source, det))
    if not created:
        det = importer.detect(sheets[0].name, sheets[0].head(), name, synonyms)
        created.append(_new_import(actor, project, source, det))
    return created


def _new_import(actor, project, source, det: importer.Detection) -> LedgerImport:
    return LedgerImport.objects.create(
        project=project,
        source=source,
        sheet=det.sheet,
        kind=det.kind,
        header_row=det.header_row,
        header_rows=det.header_rows,
        title=det.title[:200],
        headers=det.headers,
        mapping=det.mapping,
        scales=det.scales,
        message="\n".join(det.problems),
        status=ImportStatus.PREVIEW,
        created_by=actor,
    )


def schedule_check(imp: LedgerImport, *, sheets: list | None = None) -> None:
    """Check now when the file is small (with its `sheets` when already read), else queue it for
    the worker (the page shows progress)."""
    from django.conf import settings

    if imp.source.size <= settings.RELIEF_BACKGROUND_BYTES:
        run_check(import_id=imp.pk, sheets=sheets)
        return
    LedgerImport.objects.filter(pk=imp.pk).update(
        status=ImportStatus.QUEUED, done_rows=0, heartbeat_at=timezone.now()
    )
    from fangkong.relief.tasks import check_import_task

    check_import_task(imp.pk)


def run_check(*, import_id: int, sheets: list | None = None) -> LedgerImport:
    """Parse every row of the import's sheet; on success keep a staging Parquet ready to accept.

    `sheets`: the file as already read in this request (`SourceFile.sheets_read` after an upload),
    so an upload is parsed once; else the stored file is read.

    Never leaves the import "running": an unexpected error marks it failed (audited), and a
    worker that dies mid-way leaves a heartbeat that ages until the import may be discarded.
    An import discarded meanwhile stays discarded.
    """
    imp = LedgerImport.objects.select_related("source", "project").get(pk=import_id)
    staging = store.staging_path(imp.project_id, imp.pk)
    if imp.status in (ImportStatus.DONE, ImportStatus.DISCARDED):
        return imp
    staging.unlink(missing_ok=True)
    if not imp.kind or not imp.header_row:
        imp.error_count = 1
        imp.errors = [
            {"row": None, "column": "", "message": imp.message or _(importer.ERR_NO_KIND)}
        ]
        imp.status = ImportStatus.PREVIEW
        imp.save(update_fields=["error_count", "errors", "status"])
        return imp
    claimed = (
        LedgerImport.objects.filter(pk=imp.pk)
        .exclude(status__in=(ImportStatus.DONE, ImportStatus.DISCARDED))
        .update(status=ImportStatus.RUNNING, done_rows=0, heartbeat_at=timezone.now())
    )
    if not claimed:
        imp.refresh_from_db()
        return imp

    def progress(done, total):
        LedgerImport.objects.filter(pk=imp.pk, status=ImportStatus.RUNNING).update(
            done_rows=done, total_rows=total, heartbeat_at=timezone.now()
        )

    try:
        with _heartbeat(imp.pk):
            if sheets is None:
                sheets = importer.read_file(Path(imp.source.content.path))
            by_name = {s.name: s for s in sheets}
            sheet = by_name.get(imp.sheet) or next(iter(by_name.values()))
            det = importer.Detection(
                sheet=imp.sheet,
                kind=imp.kind,
                header_row=imp.header_row,
                header_rows=imp.header_rows,
                headers=imp.headers,
                mapping=imp.mapping,
                scales=imp.scales,
            )
            result = importer.check(
                sheet,
                det,
                import_id=imp.pk,
                file_id=imp.source_id,
                year=imp.project.period_start.year,
                out_path=staging,
                progress=progress,
            )
    except importer.LedgerFileError as exc:
        return _check_failed(imp, staging, exc.text())
    except Exception:
        logger.exception("relief import %s: the check failed", imp.pk)
        return _check_failed(imp, staging, _(ERR_CHECK_CRASHED), crashed=True)
    skipped = "、".join(str(r) for r in result.skipped[:20])
    with transaction.atomic():
        locked = LedgerImport.objects.select_for_update().get(pk=imp.pk)
        if locked.status != ImportStatus.RUNNING:
            staging.unlink(missing_ok=True)  # discarded while it was being checked
            return locked
        locked.total_rows = result.total
        locked.done_rows = result.total if not result.error_count else 0
        locked.skipped_rows = len(result.skipped)
        locked.error_count = result.error_count
        locked.errors = result.errors
        locked.preview = [
            {k: (str(v) if v is not None else "") for k, v in r.items()} for r in result.preview
        ]
        locked.message = _("已跳过合计行：第 {rows} 行").format(rows=skipped) if skipped else ""
        locked.status = ImportStatus.PREVIEW
        locked.heartbeat_at = timezone.now()
        locked.save()
    return locked


@contextmanager
def _heartbeat(import_id: int):
    """While the check runs, touch the import's heartbeat from a side thread: a live worker
    keeps its lease however long one step takes; a killed one stops touching it."""
    from django.conf import settings
    from django.db import connection

    every = max(1.0, min(60.0, settings.RELIEF_IMPORT_STALE_MINUTES * 60 / 4))
    stop = threading.Event()

    def beat():
        try:
            while not stop.wait(every):
                LedgerImport.objects.filter(pk=import_id, status=ImportStatus.RUNNING).update(
                    heartbeat_at=timezone.now()
                )
        except Exception:
            logger.exception("relief import %s: heartbeat failed", import_id)
        finally:
            connection.close()

    thread = threading.Thread(target=beat, name=f"relief-import-{import_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def _check_failed(imp: LedgerImport, staging: Path, message: str, *, crashed=False):
    """Mark a running import failed with one problem that says what to do (audited)."""
    staging.unlink(missing_ok=True)
    with transaction.atomic():
        updated = LedgerImport.objects.filter(pk=imp.pk, status=ImportStatus.RUNNING).update(
            status=ImportStatus.FAILED,
            error_count=1,
            errors=[{"row": None, "column": "", "message": message}],
            heartbeat_at=timezone.now(),
        )
        if updated:
            _audit_import_failed(imp, "crashed" if crashed else message)
    imp.refresh_from_db()
    return imp


def _audit_import_failed(imp: LedgerImport, reason: str) -> None:
    audit_record(
        actor=None,
        action="relief.import.fail",
        obj=imp,
        new={
            "project": imp.project_id,
            "file": imp.source.name,
            "size": imp.source.size,
            "sha256": imp.source.sha256,
            "sheet": imp.sheet,
            "reason": reason,
            "uploaded_by": imp.created_by.get_username(),
        },
    )


def stale_before():
    """Imports queued or running with no sign of life since this moment were abandoned."""
    from django.conf import settings

    return timezone.now() - timedelta(minutes=settings.RELIEF_IMPORT_STALE_MINUTES)


def is_stalled(imp: LedgerImport) -> bool:
    busy = imp.status in (ImportStatus.QUEUED, ImportStatus.RUNNING)
    return busy and (imp.heartbeat_at is None or imp.heartbeat_at < stale_before())


def imports_expire_stale(*, project: AuditProject | None = None, imp: LedgerImport | None = None):
    """Mark failed the imports whose worker died (no heartbeat for the stale period), so they
    can be checked again or discarded; each one audited. Idempotent; returns how many."""
    cutoff = stale_before()
    qs = LedgerImport.objects.filter(status__in=(ImportStatus.QUEUED, ImportStatus.RUNNING)).filter(
        Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=cutoff)
    )
    if project is not None:
        qs = qs.filter(project=project)
    if imp is not None:
        qs = qs.filter(pk=imp.pk)
    expired = 0
    for stale in qs.select_related("source", "project", "created_by"):
        with transaction.atomic():
            # Conditional: a worker that comes back to life in between keeps its import.
            claimed = (
                LedgerImport.objects.filter(pk=stale.pk, status=stale.status)
                .filter(Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=cutoff))
                .update(
                    status=ImportStatus.FAILED,
                    error_count=1,
                    errors=[{"row": None, "column": "", "message": _(ERR_ABANDONED)}],
                )
            )
            if claimed:
                _audit_import_failed(stale, "abandoned")
                expired += 1
    return expired


@transaction.atomic
def import_remap(*, actor, imp: LedgerImport, kind: str, mapping: dict[str, str]) -> LedgerImport:
    """The auditor's choice of kind and columns; the sheet must be checked again."""
    if imp.status not in (ImportStatus.PREVIEW, ImportStatus.FAILED):
        raise ValidationError(_(ERR_STATE).format(status=imp.get_status_display()))
    if kind not in schema.KINDS:
        raise ValidationError(_(ERR_KIND))
    clean = {}
    for col, f in mapping.items():
        if not f:
            continue
        if f not in schema.FIELDS:
            raise ValidationError(_(ERR_FIELD).format(field=f))
        clean[str(int(col))] = f
    old = {"kind": imp.kind, "mapping": imp.mapping}
    imp.kind, imp.mapping = kind, clean
    imp.scales = {c: s for c, s in imp.scales.items() if c in clean}
    imp.errors, imp.error_count, imp.message = [], 0, ""
    imp.save()
    audit_record(
        actor=actor,
        action="relief.import.remap",
        obj=imp,
        old=old,
        new={"kind": kind, "mapping": clean},
    )
    return imp


def import_accept(*, actor, imp: LedgerImport) -> LedgerImport:
    """Move the checked rows into the project's store and add new names to the catalogue.

    All or nothing: the Parquet file is renamed into place and the database updated in one
    transaction; if the transaction fails the file is moved back.
    """
    imp.refresh_from_db()
    if imp.status != ImportStatus.PREVIEW:
        raise ValidationError(_(ERR_STATE).format(status=imp.get_status_display()))
    staging = store.staging_path(imp.project_id, imp.pk)
    if imp.error_count or not staging.exists():
        raise ValidationError(_(ERR_NOT_READY).format(n=imp.error_count or 1))
    final = store.ledger_path(imp.project_id, imp.pk)
    final.parent.mkdir(parents=True, exist_ok=True)
    staging.replace(final)
    try:
        with transaction.atomic():
            # A double-clicked accept: the second sees the row already done and stops here.
            locked = LedgerImport.objects.select_for_update().get(pk=imp.pk)
            if locked.status != ImportStatus.PREVIEW:
                raise ValidationError(_(ERR_STATE).format(status=locked.get_status_display()))
            catalogue_update(project=imp.project, parquet=final)
            locked.status = ImportStatus.DONE
            locked.finished_at = timezone.now()
            locked.parquet = str(final)
            locked.save(update_fields=["status", "finished_at", "parquet"])
            audit_record(
                actor=actor,
                action="relief.import.accept",
                obj=locked,
                new={
                    "rows": locked.total_rows,
                    "kind": locked.kind,
                    "file": imp.source.name,
                    "sha256": imp.source.sha256,
                },
            )
    except BaseException:
        if not LedgerImport.objects.filter(pk=imp.pk, status=ImportStatus.DONE).exists():
            final.replace(staging)
        raise
    imp.refresh_from_db()
    return imp


@transaction.atomic
def import_discard(*, actor, imp: LedgerImport) -> None:
    """Drop a proposed, failed or abandoned import (its file stays on record, and may be uploaded
    again); accepted imports cannot be discarded, nor one a live worker is checking."""
    from django.conf import settings

    imp = LedgerImport.objects.select_for_update().get(pk=imp.pk)
    if imp.status == ImportStatus.DONE:
        raise ValidationError(_(ERR_STATE).format(status=imp.get_status_display()))
    if imp.status in (ImportStatus.QUEUED, ImportStatus.RUNNING) and not is_stalled(imp):
        raise ValidationError(
            _(ERR_BUSY).format(progress=imp.progress, minutes=settings.RELIEF_IMPORT_STALE_MINUTES)
        )
    store.staging_path(imp.project_id, imp.pk).unlink(missing_ok=True)
    imp.status = ImportStatus.DISCARDED
    imp.save(update_fields=["status"])
    audit_record(actor=actor, action="relief.import.discard", obj=imp)


@transaction.atomic
def synonym_add(*, actor, project: AuditProject | None, header: str, field: str) -> ColumnSynonym:
    if field not in schema.FIELDS:
        raise ValidationError(_(ERR_FIELD).format(field=field))
    syn, _created = ColumnSynonym.objects.update_or_create(
        project=project, header=header.strip(), defaults={"field": field, "created_by": actor}
    )
    audit_record(
        actor=actor,
        action="relief.synonym.set",
        obj=syn,
        new={"header": syn.header, "field": field},
    )
    return syn


# --- The catalogue: one name for each party and item however ledgers spell it. ---

FUZZY_CUTOFF = 90
_KIND_BY_COLUMN = {"warehouse": PartyKind.WAREHOUSE}
_KIND_WORDS = [
    (("医院", "卫生院", "医疗中心", "保健院", "疾控", "卫生服务中心"), PartyKind.HOSPITAL),
    (("红十字会", "慈善", "基金会"), PartyKind.CHARITY),
    (("仓库", "储备库", "物资库"), PartyKind.WAREHOUSE),
    (
        ("财政局", "卫健委", "卫生健康委", "民政局", "政府", "指挥部", "审计局"),
        PartyKind.GOVERNMENT,
    ),
]


def guess_party_kind(name: str, column: str, kind: str) -> str:
    for words, party_kind in _KIND_WORDS:
        if any(w in name for w in words):
            return party_kind
    if column == "warehouse":
        return PartyKind.WAREHOUSE
    if column == "source" and kind in ("contract", "delivery"):
        return PartyKind.SUPPLIER
    if column == "source" and kind in ("cash_donation", "goods_donation", "disclosure"):
        return PartyKind.DONOR
    if 2 <= len(name) <= 4 and not re.search(r"[公司会局院委部心厂店]", name):
        return PartyKind.PERSON
    return PartyKind.OTHER


def guess_grade(name: str, standard: str = "") -> str:
    text = f"{name} {standard}".upper().replace(" ", "")
    if "GB2626" in text or "KN95" in text or "民用" in text:
        return Grade.CIVIL
    if "GB19083" in text or "医用防护" in text or "N95" in text:
        return Grade.MEDICAL_PROTECTIVE
    if "YY0469" in text or "外科" in text:
        return Grade.SURGICAL
    return Grade.OTHER


_PACK = re.compile(r"(\d+)\s*(只|个|片|套|副|瓶|支|件)\s*/\s*(盒|箱|包|袋|件|提)")


def catalogue_update(*, project: AuditProject, parquet: Path) -> dict[str, int]:
    """Add the names in a new ledger file to the catalogue (exact key, else a fuzzy match)."""
    con = store.connect()
    try:
        src = str(parquet).replace("'", "''")
        party_rows = con.execute(
            " UNION ALL ".join(
                f"SELECT DISTINCT {c} AS raw, {c}_key AS key, '{c}' AS col, kind FROM '{src}' WHERE {c}_key IS NOT NULL"  # noqa: S608
                for c in store.PARTY_COLUMNS
            )
        ).fetchall()
        item_rows = con.execute(
            f"SELECT item, item_key, any_value(standard), any_value(spec), list(DISTINCT uom) FROM '{src}' "  # noqa: S608
            "WHERE item_key IS NOT NULL GROUP BY item, item_key"
        ).fetchall()
        beds = con.execute(
            f"SELECT target_key, max(beds) FROM '{src}' WHERE beds IS NOT NULL AND target_key IS NOT NULL GROUP BY 1"  # noqa: S608
        ).fetchall()
    finally:
        con.close()
    known: dict[str, object] = dict(
        PartyName.objects.filter(project=project).values_list("key", "party_id")
    )
    new_parties: list[Party] = []
    new_names: list[tuple[str, str, object, int]] = []  # key, raw, party id or new Party, score
    for raw, key, col, kind in party_rows:
        if key in known:
            continue
        choice = (
            process.extractOne(key, list(known), scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF)
            if known
            else None
        )
        if choice:
            new_names.append((key, raw, known[choice[0]], int(choice[1])))
            known[key] = known[choice[0]]
            continue
        party = Party(project=project, name=raw, kind=guess_party_kind(raw, col, kind))
        new_parties.append(party)
        new_names.append((key, raw, party, 100))
        known[key] = party
    Party.objects.bulk_create(new_parties, batch_size=500)
    PartyName.objects.bulk_create(
        [
            PartyName(
                project=project,
                key=key,
                raw=raw,
                score=score,
                confirmed=score == 100,
                **({"party": p} if isinstance(p, Party) else {"party_id": p}),
            )
            for key, raw, p, score in new_names
        ],
        batch_size=500,
    )
    known = {k: (v.pk if isinstance(v, Party) else v) for k, v in known.items()}
    added = len(new_parties)
    matched = len(new_names) - added
    for key, n in beds:
        if key in known:
            Party.objects.filter(pk=known[key], beds__isnull=True).update(
                beds=n, kind=PartyKind.HOSPITAL
            )
    item_known = dict(ItemName.objects.filter(project=project).values_list("key", "item_id"))
    for name, key, standard, spec, uoms in item_rows:
        item_id = item_known.get(key)
        if item_id is None:
            grade = guess_grade(name, standard or "")
            # The base unit: the piece unit the ledgers use for it (套 for suits, 瓶 for bottles).
            base = next((u for u in uoms or [] if u and u in store.PIECE_UNITS), "只")
            item = Item.objects.create(
                project=project,
                name=name,
                base_uom=base,
                standard=standard or "",
                grade=grade,
                priority=grade in (Grade.MEDICAL_PROTECTIVE, Grade.SURGICAL) or "防护服" in name,
            )
            ItemName.objects.create(project=project, item=item, key=key, raw=name)
            item_known[key] = item_id = item.pk
        if spec and (m := _PACK.search(spec)):
            UnitConversion.objects.get_or_create(
                item_id=item_id, uom=m.group(3), defaults={"factor": int(m.group(1))}
            )
    return {"parties": added, "matched": matched}


@transaction.atomic
def party_confirm(*, actor, name: PartyName) -> None:
    """The auditor agrees that this spelling is the same party."""
    name.confirmed = True
    name.save(update_fields=["confirmed"])
    audit_record(actor=actor, action="relief.party.confirm", obj=name.party, new={"name": name.raw})


@transaction.atomic
def party_split(*, actor, name: PartyName) -> Party:
    """The auditor says this spelling is a different party: it becomes its own entry."""
    old = name.party
    party = Party.objects.create(project=old.project, name=name.raw, kind=old.kind)
    name.party, name.confirmed, name.score = party, True, 100
    name.save(update_fields=["party", "confirmed", "score"])
    audit_record(
        actor=actor,
        action="relief.party.split",
        obj=party,
        old={"party": old.name},
        new={"name": name.raw},
    )
    return party


@transaction.atomic
def party_merge(*, actor, party: Party, into: Party) -> None:
    """Two catalogue entries are one party: move every spelling to `into`."""
    PartyName.objects.filter(party=party).update(party=into, confirmed=True)
    audit_record(actor=actor, action="relief.party.merge", obj=into, old={"party": party.name})
    party.delete()


@transaction.atomic
def party_update(*, actor, party: Party, **fields) -> Party:
    old = {k: getattr(party, k) for k in fields}
    for k, v in fields.items():
        setattr(party, k, v)
    party.full_clean()
    party.save()
    audit_record(actor=actor, action="relief.party.update", obj=party, old=old, new=fields)
    return party


@transaction.atomic
def item_update(*, actor, item: Item, conversions: dict[str, int] | None = None, **fields) -> Item:
    old = {k: getattr(item, k) for k in fields}
    for k, v in fields.items():
        setattr(item, k, v)
    item.full_clean()
    item.save()
    for uom, factor in (conversions or {}).items():
        if factor:
            UnitConversion.objects.update_or_create(
                item=item, uom=uom, defaults={"factor": int(factor)}
            )
        else:
            UnitConversion.objects.filter(item=item, uom=uom).delete()
    audit_record(
        actor=actor,
        action="relief.item.update",
        obj=item,
        old=old,
        new=fields | {"conversions": conversions},
    )
    return item


# --- Findings. ---


@transaction.atomic
def finding_add(
    *,
    actor,
    project: AuditProject,
    title: str,
    severity: str,
    description: str = "",
    amount_fen: int | None = None,
    quantity: int | None = None,
    rule: str = "",
    test_id: str = "",
    evidence: list[dict] | None = None,
    fingerprint: str = "",
    run=None,
) -> Finding:
    """Record a finding with its evidence rows [{source_id, sheet, row_no, row_id?, note?}]."""
    finding = Finding.objects.create(
        project=project,
        test_id=test_id,
        title=title.strip(),
        description=description,
        severity=severity,
        amount_fen=amount_fen,
        quantity=quantity,
        rule=rule,
        fingerprint=fingerprint,
        run=run,
        created_by=actor,
    )
    files = set(SourceFile.objects.filter(project=project).values_list("id", flat=True))
    rows = []
    for ev in evidence or []:
        if ev["source_id"] not in files:
            raise ValidationError(_(ERR_EVIDENCE).format(file=ev["source_id"], row=ev["row_no"]))
        rows.append(
            Evidence(
                finding=finding,
                source_id=ev["source_id"],
                sheet=ev.get("sheet", ""),
                row_no=ev["row_no"],
                row_id=ev.get("row_id"),
                note=ev.get("note", "")[:300],
            )
        )
    Evidence.objects.bulk_create(rows)
    audit_record(
        actor=actor,
        action="relief.finding.add",
        obj=finding,
        new={"title": finding.title, "test": test_id, "evidence": len(rows)},
    )
    return finding


@transaction.atomic
def finding_decide(*, actor, finding: Finding, status: str, reason: str = "") -> Finding:
    """Confirm a finding, or dismiss it with a reason; reopening is allowed and recorded."""
    if status == FindingStatus.DISMISSED and not reason.strip():
        raise ValidationError({"reason": _(ERR_REASON)})
    old = {"status": finding.status}
    finding.status = status
    finding.reason = reason.strip() if status == FindingStatus.DISMISSED else ""
    finding.decided_by = actor if status != FindingStatus.OPEN else None
    finding.decided_at = timezone.now() if status != FindingStatus.OPEN else None
    finding.save(update_fields=["status", "reason", "decided_by", "decided_at"])
    audit_record(
        actor=actor,
        action=f"relief.finding.{status}",
        obj=finding,
        old=old,
        new={"status": status, "reason": finding.reason},
    )
    return finding


@transaction.atomic
def finding_annotate(*, actor, finding: Finding, text: str) -> FindingNote:
    note = FindingNote.objects.create(finding=finding, author=actor, text=text.strip())
    audit_record(
        actor=actor, action="relief.finding.note", obj=finding, new={"text": note.text[:200]}
    )
    return note


def evidence_for_rows(project: AuditProject, row_ids: list[int]) -> list[dict]:
    """Evidence dicts (file, sheet, row) for ledger rows named by row_id."""
    if not row_ids:
        return []
    with store.project_db(project.pk) as con:
        ids = ", ".join(str(int(r)) for r in row_ids)
        found = con.execute(
            f"SELECT row_id, file_id, sheet, row_no FROM raw_entries WHERE row_id IN ({ids})"
        ).fetchall()  # noqa: S608
    return [{"row_id": r[0], "source_id": r[1], "sheet": r[2], "row_no": r[3]} for r in found]


def path_import(
    *, actor, project: AuditProject, path: Path, accept: bool = True
) -> list[LedgerImport]:
    """Upload a file from disk, check every sheet inline and (when `accept`) accept the clean
    ones; returns the checked imports so the caller can report the others."""
    upload = source_for_upload_path(Path(path))
    try:
        source = file_upload(actor=actor, project=project, upload=upload)
    finally:
        upload.close()
    checked = []
    for imp in source.imports.all():
        imp = run_check(import_id=imp.pk, sheets=source.sheets_read)
        if accept and not imp.error_count:
            imp = import_accept(actor=actor, imp=imp)
        checked.append(imp)
    return checked


def source_for_upload_path(path: Path, name: str | None = None):
    """An uploaded-file-like object over a path on disk (the command line imports folders)."""
    fh = open(path, "rb")  # noqa: SIM115 - closed by the caller through .close()
    upload = File(fh, name=name or path.name)
    upload.size = path.stat().st_size
    return upload


# --- The test catalogue. ---

ERR_PARAM = N_("参数「{label}」应为{kind}：{value}")
ERR_PARAM_RANGE = N_("参数「{label}」应在 0 至 {max} 之间：{value}")
ERR_PARAM_TEXT = N_("参数「{label}」不能超过 {n} 个字，也不能包含控制字符。")
PARAM_MAX = 10**12  # no threshold (yuan, days, pieces, per cent) comes near it
PARAM_TEXT_MAX = 1000
ERR_NO_TESTS = N_("请至少选择一项测试。")
ERR_NO_DATA = N_("项目还没有已导入的台账，请先导入数据再运行测试。")
# Projects with more imported rows than this run the catalogue in the worker.
INLINE_RUN_ROWS = 300_000


@transaction.atomic
def _check_param(p, value, raw) -> None:
    """Numbers finite, not negative, not beyond any plausible amount; text without controls."""
    if isinstance(value, bool):
        return
    if isinstance(value, int | float):
        if not math.isfinite(value) or not 0 <= value <= PARAM_MAX:
            raise ValidationError(
                _(ERR_PARAM_RANGE).format(label=p.label, max=f"{PARAM_MAX:,}", value=raw)
            )
    elif text.has_control(value) or len(value) > PARAM_TEXT_MAX:
        raise ValidationError(_(ERR_PARAM_TEXT).format(label=p.label, n=PARAM_TEXT_MAX))


def catalogue_params_set(*, actor, project: AuditProject, test_id: str, values: dict) -> dict:
    """Store the project's own values for one test's parameters (typed like the defaults)."""
    from fangkong.relief import catalogue

    t = catalogue.load()[test_id]
    clean = {}
    for p in t.params:
        if p.name not in values or values[p.name] in ("", None):
            continue
        raw = values[p.name]
        try:
            if isinstance(p.default, bool):
                value = str(raw).lower() in ("1", "true", "yes", "on", "是")
            elif isinstance(p.default, int):
                value = int(str(raw).strip())
            elif isinstance(p.default, float):
                value = float(str(raw).strip())
            else:
                value = str(raw).strip()
        except ValueError as exc:
            kind = _("整数") if isinstance(p.default, int) else _("数字")
            raise ValidationError(_(ERR_PARAM).format(label=p.label, kind=kind, value=raw)) from exc
        _check_param(p, value, raw)
        if value != p.default:
            clean[p.name] = value
    old = project.test_params.get(test_id, {})
    params = dict(project.test_params)
    if clean:
        params[test_id] = clean
    else:
        params.pop(test_id, None)
    project.test_params = params
    project.save(update_fields=["test_params"])
    audit_record(
        actor=actor,
        action="relief.catalogue.params",
        obj=project,
        old={test_id: old},
        new={test_id: clean},
    )
    return clean


def catalogue_start(*, actor, project: AuditProject, tests: list[str]):
    """Record a run and execute it: inline for small projects, in the worker for large ones."""
    from fangkong.relief import catalogue

    if not tests:
        raise ValidationError(_(ERR_NO_TESTS))
    imports = LedgerImport.objects.filter(project=project, status=ImportStatus.DONE)
    if not imports.exists():
        raise ValidationError(_(ERR_NO_DATA))
    run = catalogue.start(actor=actor, project=project, tests=tests)
    rows = sum(imports.values_list("total_rows", flat=True))
    if rows <= INLINE_RUN_ROWS:
        return catalogue.run(actor=actor, project=project, run_row=run)
    from fangkong.relief.tasks import run_catalogue_task

    run_catalogue_task(run.pk)
    return run
