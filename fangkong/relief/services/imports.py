"""Relief writes: files uploaded, imports proposed, checked (inline or in the worker, with a
heartbeat), accepted or discarded; the synonym dictionary; folders imported from disk."""

import hashlib
import logging
import threading
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop as N_

from fangkong.audit.services import audit_record
from fangkong.jobs.queue import enqueue_on_commit
from fangkong.lib import clock, text
from fangkong.relief.ledger import importer, schema, store
from fangkong.relief.models import (
    AuditProject,
    ColumnSynonym,
    ImportStatus,
    LedgerImport,
    SourceFile,
)
from fangkong.relief.selectors import synonyms_for
from fangkong.relief.services.parties import catalogue_update

ERR_DUPLICATE_FILE = N_("该文件已经上传过（{name}，{when}），不需要重复上传。")
ERR_TOO_LARGE = N_("文件超过 {limit} MB，请拆分后上传。")
ERR_NOT_READY = N_("该表还有 {n} 处问题，请先改正文件或映射后重新检查；本次没有导入任何数据。")
ERR_STATE = N_("该导入当前状态为“{status}”，不能进行此操作。")
ERR_KIND = N_("请选择台账类型。")
ERR_FIELD = N_("未知字段：{field}")
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
        status=ImportStatus.QUEUED, done_rows=0, heartbeat_at=clock.now()
    )
    enqueue_on_commit("relief.tasks.check_import_task", imp.pk)


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
        .update(status=ImportStatus.RUNNING, done_rows=0, heartbeat_at=clock.now())
    )
    if not claimed:
        imp.refresh_from_db()
        return imp

    def progress(done, total):
        LedgerImport.objects.filter(pk=imp.pk, status=ImportStatus.RUNNING).update(
            done_rows=done, total_rows=total, heartbeat_at=clock.now()
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
        locked.heartbeat_at = clock.now()
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
                    heartbeat_at=clock.now()
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
            heartbeat_at=clock.now(),
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

    return clock.now() - timedelta(minutes=settings.RELIEF_IMPORT_STALE_MINUTES)


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
            locked.finished_at = clock.now()
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
