"""Remove what killed processes leave behind in relief media storage; idempotent, audited.

A web process killed while storing a large upload leaves the file under
MEDIA_ROOT/relief/p<project>/files/ with no SourceFile row; a worker killed mid-check leaves its
staging Parquet (or a .tmp half of one); an upload cut off mid-transfer leaves Django's spool file
in FILE_UPLOAD_TEMP_DIR. Anything there that no row points at and that is older than the grace
period (RELIEF_ORPHAN_GRACE_HOURS; uploads in progress are younger) is removed. Imports whose
worker died are marked failed on the same pass, so they can be discarded.
"""

import logging
import time
from pathlib import Path

from django.conf import settings

from fangkong.audit.services import audit_record
from fangkong.relief.models import ImportStatus, LedgerImport, SourceFile

logger = logging.getLogger(__name__)

# Staging files of these imports may still be accepted (or are being written).
_STAGING_KEPT = (ImportStatus.PREVIEW, ImportStatus.QUEUED, ImportStatus.RUNNING)


def _old(path: Path, cutoff: float) -> bool:
    try:
        return path.stat().st_mtime < cutoff
    except FileNotFoundError:
        return False


def _import_id(path: Path) -> int | None:
    stem = path.name.split(".", 1)[0]
    return int(stem) if stem.isdigit() else None


def orphans(*, grace_hours: int | None = None) -> list[Path]:
    """The files the clean-up would remove now (older than the grace period, no row)."""
    grace = settings.RELIEF_ORPHAN_GRACE_HOURS if grace_hours is None else grace_hours
    cutoff = time.time() - grace * 3600
    media = Path(settings.MEDIA_ROOT)
    found: list[Path] = []
    root = media / "relief"
    if root.is_dir():
        stored = set(SourceFile.objects.values_list("content", flat=True))
        statuses = dict(LedgerImport.objects.values_list("id", "status"))
        for project_dir in sorted(p for p in root.iterdir() if p.is_dir()):
            for path in sorted((project_dir / "files").glob("*")):
                if path.is_file() and path.relative_to(media).as_posix() not in stored:
                    found.append(path)
            for path in sorted((project_dir / "staging").glob("*")):
                if not path.is_file():
                    continue
                status = statuses.get(_import_id(path))
                if path.suffix != ".parquet" or status not in _STAGING_KEPT:
                    found.append(path)
            for path in sorted((project_dir / "ledger").glob("*")):
                if path.is_file() and statuses.get(_import_id(path)) != ImportStatus.DONE:
                    found.append(path)
    spool = Path(settings.FILE_UPLOAD_TEMP_DIR or "")
    if settings.FILE_UPLOAD_TEMP_DIR and spool.is_dir():
        found += sorted(p for p in spool.iterdir() if p.is_file())
    return [p for p in found if _old(p, cutoff)]


def relief_cleanup(*, grace_hours: int | None = None) -> dict:
    """Remove orphaned relief files and stale temporary files; mark dead workers' imports failed.

    Safe to run at any time and any number of times; one audit event lists what went.
    """
    from fangkong.relief.services import imports_expire_stale

    expired = imports_expire_stale()
    media = Path(settings.MEDIA_ROOT)
    removed, size = [], 0
    for path in orphans(grace_hours=grace_hours):
        try:
            n = path.stat().st_size
            path.unlink()
        except FileNotFoundError:
            continue  # another run took it
        shown = path.relative_to(media).as_posix() if path.is_relative_to(media) else str(path)
        logger.warning("relief clean-up removed %s (%d bytes): no database row", shown, n)
        removed.append(shown)
        size += n
    if removed:
        audit_record(
            actor=None,
            action="relief.cleanup",
            new={"removed": removed, "bytes": size, "expired_imports": expired},
        )
    return {"removed": removed, "bytes": size, "expired_imports": expired}
