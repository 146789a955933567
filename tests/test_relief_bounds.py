"""Relief ledgers under hostile values and killed processes (issue 11, items 4 and 7).

Amounts and quantities that would overflow, and dates far from today, are row-level problems in
the preview; an import never stays "running" after its check failed or its worker died; a failed
or abandoned import can always be discarded and the same file uploaded again; refused uploads
are audited; files a killed process leaves in media storage are removed by an idempotent job.
"""

import os
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from fangkong.audit.models import AuditEvent
from fangkong.relief import services
from fangkong.relief.ledger import importer, store
from fangkong.relief.models import ImportStatus, LedgerImport, SourceFile
from tests import test_relief_views
from tests.test_relief_views import csv_upload, login, post_upload

HUGE = "99999999999999999999元"


@pytest.fixture
def team(world, settings, tmp_path):
    """A fresh project, as in tests/test_relief_views.py."""
    return test_relief_views.team.__wrapped__(world, settings, tmp_path)


def overflow_rows():
    return [
        ["收据编号", "日期", "捐赠方", "金额"],
        ["A1", "2020-02-01", "湖北某公司", HUGE],
        ["A2", "2099-02-01", "湖北某公司", "5000"],
        ["A3", "2020-02-02", "湖北某公司", "999999999999999万"],
        ["A4", "2020-02-03", "湖北某公司", "-" + "9" * 40],
        ["A5", "1900-01-01", "湖北某公司", "100"],
        ["A6", "2020-02-04", "湖北某公司", "1000000000000"],  # exactly the maximum: fine
    ]


def stock_rows():
    return [
        ["日期", "物资名称", "规格", "单位", "入库数量", "出库数量", "仓库"],
        ["2020-02-01", "医用口罩", "N95", "只", "999999999999999万", "", "市储备库"],
        ["2020-02-02", "医用口罩", "N95", "只", "9" * 30, "", "市储备库"],
        ["2020-02-03", "医用口罩", "N95", "只", "100", "", "市储备库"],
    ]


def upload(team, rows, name="捐赠资金登记.csv"):
    return services.file_upload(
        actor=team.users["auditor"], project=team.project, upload=csv_upload(name, rows)
    )


def test_overflowing_values_and_far_dates_are_row_errors(team):
    from fangkong.lib import plausible
    from fangkong.relief.ledger.parsing import ERR_AMOUNT_RANGE

    source = upload(team, overflow_rows())
    imp = services.run_check(import_id=source.imports.get().pk)
    assert imp.status == ImportStatus.PREVIEW
    earliest, latest = (d.isoformat() for d in plausible.window(plausible.LEDGER))
    date_error = importer.ERR_DATE_RANGE
    assert [(e["row"], e["column"], e["message"]) for e in imp.errors] == [
        (2, "D", ERR_AMOUNT_RANGE.format(value=HUGE)),
        (3, "B", date_error.format(value="2099-02-01", earliest=earliest, latest=latest)),
        (4, "D", ERR_AMOUNT_RANGE.format(value="999999999999999万")),
        (5, "D", ERR_AMOUNT_RANGE.format(value="-" + "9" * 40)),
        (6, "B", date_error.format(value="1900-01-01", earliest=earliest, latest=latest)),
    ]
    assert imp.error_count == 5
    assert not store.staging_path(team.project.pk, imp.pk).exists()


def test_overflowing_quantities_are_row_errors(team):
    from fangkong.relief.ledger.parsing import ERR_QUANTITY_RANGE

    source = upload(team, stock_rows(), name="物资出入库台账.csv")
    imp = source.imports.get()
    imp = services.run_check(import_id=imp.pk)
    assert imp.status == ImportStatus.PREVIEW, imp.errors
    assert [(e["row"], e["message"]) for e in imp.errors] == [
        (2, ERR_QUANTITY_RANGE.format(value="999999999999999万")),
        (3, ERR_QUANTITY_RANGE.format(value="9" * 30)),
    ]


def test_web_upload_of_an_overflowing_ledger_shows_the_problems(team):
    c = login(team, "auditor")
    r = post_upload(c, team.project, csv_upload("捐赠资金登记.csv", overflow_rows()))
    assert r.status_code == 302
    page = c.get(r["Location"]).content.decode()
    assert "金额超出合理范围" in page and "发现 5 处问题" in page


def test_a_crashed_check_fails_the_import_and_is_audited(team, monkeypatch):
    source = upload(team, overflow_rows())
    imp = source.imports.get()

    def crash(*args, **kwargs):
        raise RuntimeError("DuckDB fell over")

    monkeypatch.setattr(importer, "check", crash)
    imp = services.run_check(import_id=imp.pk)
    assert imp.status == ImportStatus.FAILED
    assert imp.errors == [{"row": None, "column": "", "message": services.ERR_CHECK_CRASHED}]
    event = AuditEvent.objects.get(action="relief.import.fail")
    assert event.new["sha256"] == source.sha256 and event.new["reason"] == "crashed"
    assert event.new["file"] == "捐赠资金登记.csv" and event.new["size"] == source.size
    # Failed: it can be discarded, and the same file uploaded again.
    services.import_discard(actor=team.users["auditor"], imp=imp)


def test_failed_or_discarded_imports_do_not_block_the_same_file(team):
    rows = overflow_rows()
    first = upload(team, rows)
    imp = services.run_check(import_id=first.imports.get().pk)
    assert imp.error_count
    # While its import is open, the file is not taken twice.
    with pytest.raises(ValidationError):
        upload(team, rows)
    services.import_discard(actor=team.users["auditor"], imp=imp)
    again = upload(team, rows, name="捐赠资金登记（改）.csv")
    assert again.pk == first.pk  # the record of the file is taken over
    fresh = again.imports.exclude(pk=imp.pk).get()
    assert fresh.status == ImportStatus.PREVIEW
    assert AuditEvent.objects.filter(action="relief.file.reupload").count() == 1


def test_an_import_whose_worker_died_becomes_discardable(team, settings):
    settings.RELIEF_IMPORT_STALE_MINUTES = 10
    source = upload(team, overflow_rows())
    imp = source.imports.get()
    # A worker took it and was killed at 50 %.
    LedgerImport.objects.filter(pk=imp.pk).update(
        status=ImportStatus.RUNNING, total_rows=6, done_rows=3, heartbeat_at=timezone.now()
    )
    imp.refresh_from_db()
    with pytest.raises(ValidationError) as err:
        services.import_discard(actor=team.users["auditor"], imp=imp)
    assert err.value.messages == [services.ERR_BUSY.format(progress=50, minutes=10)]
    with pytest.raises(ValidationError):
        upload(team, overflow_rows())  # still someone's work in progress
    # No sign of life for longer than the stale period: the page shows it failed.
    LedgerImport.objects.filter(pk=imp.pk).update(
        heartbeat_at=timezone.now() - timedelta(minutes=11)
    )
    c = login(team, "auditor")
    page = c.get(reverse("relief:import", args=[team.project.pk, imp.pk])).content.decode()
    imp.refresh_from_db()
    assert imp.status == ImportStatus.FAILED
    assert services.ERR_ABANDONED in page
    assert AuditEvent.objects.get(action="relief.import.fail").new["reason"] == "abandoned"
    r = c.post(reverse("relief:import_discard", args=[team.project.pk, imp.pk]))
    assert r.status_code == 302
    imp.refresh_from_db()
    assert imp.status == ImportStatus.DISCARDED
    assert upload(team, overflow_rows()).pk == source.pk


def test_a_worker_killed_without_a_heartbeat_does_not_block_the_file(team, settings):
    """Imports queued before heartbeats existed (or whose queue entry was lost) expire too."""
    source = upload(team, overflow_rows())
    imp = source.imports.get()
    LedgerImport.objects.filter(pk=imp.pk).update(status=ImportStatus.QUEUED, heartbeat_at=None)
    assert upload(team, overflow_rows()).pk == source.pk


def test_an_import_discarded_during_its_check_stays_discarded(team, monkeypatch):
    source = upload(team, [["收据编号", "日期", "捐赠方", "金额"], ["A1", "2020-02-01", "某", "5"]])
    imp = source.imports.get()
    real_check = importer.check

    def check_then_discard(*args, **kwargs):
        result = real_check(*args, **kwargs)
        LedgerImport.objects.filter(pk=imp.pk).update(status=ImportStatus.DISCARDED)
        return result

    monkeypatch.setattr(importer, "check", check_then_discard)
    imp = services.run_check(import_id=imp.pk)
    assert imp.status == ImportStatus.DISCARDED
    assert not store.staging_path(team.project.pk, imp.pk).exists()


def test_refused_uploads_are_audited_without_content(team, settings):
    c = login(team, "auditor")
    garbage = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100
    from django.core.files.uploadedfile import SimpleUploadedFile

    r = post_upload(c, team.project, SimpleUploadedFile("照片.csv", garbage))
    assert r.status_code == 200
    event = AuditEvent.objects.get(action="relief.file.refuse")
    assert event.actor == team.users["auditor"]
    assert event.object_type == "relief.auditproject" and event.object_id == str(team.project.pk)
    import hashlib

    assert event.new == {
        "name": "照片.csv",
        "size": len(garbage),
        "sha256": hashlib.sha256(garbage).hexdigest(),
        "reason": importer.LedgerFileError(importer.ERR_GARBAGE).text(),
    }
    settings.RELIEF_MAX_UPLOAD_BYTES = 10
    post_upload(c, team.project, csv_upload("大文件.csv", overflow_rows()))
    big = AuditEvent.objects.filter(action="relief.file.refuse").order_by("id").last()
    assert big.new["name"] == "大文件.csv" and "文件超过" in big.new["reason"]
    assert not SourceFile.objects.exists()


def _age(path: Path, hours: float) -> Path:
    then = time.time() - hours * 3600
    os.utime(path, (then, then))
    return path


def test_cleanup_removes_orphans_after_the_grace_period(team, settings, tmp_path):
    settings.FILE_UPLOAD_TEMP_DIR = tmp_path / "upload-tmp"
    settings.FILE_UPLOAD_TEMP_DIR.mkdir()
    media = Path(settings.MEDIA_ROOT)
    kept_source = upload(
        team, [["收据编号", "日期", "捐赠方", "金额"], ["A1", "2020-02-01", "某", "5"]]
    )
    kept_imp = services.run_check(import_id=kept_source.imports.get().pk)  # staging, in preview
    project_dir = store.project_dir(team.project.pk)
    files = project_dir / "files"
    # What killed processes leave: a stored upload with no row (old and fresh), a staging file of
    # a discarded import, a half-written staging file, a ledger file never accepted, a spool file.
    orphan = files / "0123456789abcdef-捐赠.xlsx"
    orphan.write_bytes(b"x" * 1000)
    _age(orphan, 30)
    fresh = files / "fedcba9876543210-进行中.xlsx"
    fresh.write_bytes(b"y")
    stale_staging = project_dir / "staging" / "999999.parquet"
    stale_staging.write_bytes(b"z")
    half = project_dir / "staging" / f"{kept_imp.pk}.tmp"
    half.write_bytes(b"t")
    (project_dir / "ledger").mkdir(exist_ok=True)
    never = project_dir / "ledger" / "888888.parquet"
    never.write_bytes(b"p")
    spool = settings.FILE_UPLOAD_TEMP_DIR / "tmpab12.upload.xlsx"
    spool.write_bytes(b"s" * 10)
    gone_project = media / "relief" / "p987654" / "files"
    gone_project.mkdir(parents=True)
    deleted_project_file = gone_project / "aaaa-旧.csv"
    deleted_project_file.write_bytes(b"d")
    for p in (stale_staging, half, never, spool, deleted_project_file):
        _age(p, 25)
    kept_file = Path(kept_source.content.path)
    kept_staging = store.staging_path(team.project.pk, kept_imp.pk)
    _age(kept_file, 48)
    _age(kept_staging, 48)

    call_command("relief_cleanup")
    assert not any(p.exists() for p in (orphan, stale_staging, half, never, spool))
    assert not deleted_project_file.exists()
    assert fresh.exists() and kept_file.exists() and kept_staging.exists()
    event = AuditEvent.objects.get(action="relief.cleanup")
    assert sorted(event.new["removed"]) == sorted(
        [
            orphan.relative_to(media).as_posix(),
            stale_staging.relative_to(media).as_posix(),
            half.relative_to(media).as_posix(),
            never.relative_to(media).as_posix(),
            deleted_project_file.relative_to(media).as_posix(),
            str(spool),
        ]
    )
    # Idempotent: a second run (the hourly job) finds nothing and records nothing.
    from fangkong.relief.tasks import relief_cleanup_task

    assert relief_cleanup_task.call_local() == {"removed": [], "bytes": 0, "expired_imports": 0}
    assert AuditEvent.objects.filter(action="relief.cleanup").count() == 1
    # The accepted import still reads.
    services.import_accept(actor=team.users["auditor"], imp=kept_imp)
    call_command("relief_cleanup", grace_hours=0)
    assert store.ledger_path(team.project.pk, kept_imp.pk).exists() and kept_file.exists()


def test_an_upload_killed_after_storing_leaves_nothing(team, monkeypatch):
    """A crash between storing the bytes and saving the row removes the bytes at once."""
    files = store.project_dir(team.project.pk) / "files"
    before = set(files.glob("*")) if files.exists() else set()

    def boom(path):
        raise MemoryError("killed")

    monkeypatch.setattr(importer, "read_file", boom)
    with pytest.raises(MemoryError):
        upload(team, overflow_rows())
    assert (set(files.glob("*")) if files.exists() else set()) == before
    assert not SourceFile.objects.exists()


def test_hand_made_findings_and_catalogue_entries_are_bounded(team):
    """Amounts, quantities, row numbers, bed counts and pack factors typed by an auditor."""
    from fangkong.relief.forms import ItemForm, PartyForm
    from fangkong.relief.ledger.parsing import ERR_AMOUNT_RANGE, ERR_QUANTITY_RANGE
    from fangkong.relief.views.findings import ERR_ROWS_BIG, MAX_ROW_NO

    source = upload(team, [["收据编号", "日期", "捐赠方", "金额"], ["A1", "2020-02-01", "某", "5"]])
    imp = services.run_check(import_id=source.imports.get().pk)
    services.import_accept(actor=team.users["auditor"], imp=imp)
    c = login(team, "auditor")
    url = reverse("relief:finding_new", args=[team.project.pk])
    base = {"title": "未按指定用途拨付", "severity": "high", "token": "t1"}
    r = c.post(
        url,
        base
        | {
            "amount": HUGE,
            "quantity": "9" * 30,
            "ev_file_0": source.pk,
            "ev_rows_0": "2, 99999999999999999999",
        },
    )
    assert r.status_code == 200
    errors = r.context["form"].errors
    assert errors["amount"] == [ERR_AMOUNT_RANGE.format(value=HUGE)]
    assert errors["quantity"] == [ERR_QUANTITY_RANGE.format(value="9" * 30)]
    assert errors["ev_rows_0"] == [ERR_ROWS_BIG.format(part="99999999999999999999", n=MAX_ROW_NO)]
    assert not team.project.findings.exists()
    party = PartyForm({"kind": "hospital", "beds": str(10**12)})
    assert not party.is_valid() and "beds" in party.errors
    item = ItemForm(
        {"grade": "other", "base_uom": "只", "new_uom_0": "箱", "new_factor_0": str(10**12)},
        uoms=[],
    )
    assert not item.is_valid() and "new_factor_0" in item.errors


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("share", "nan"),
        ("share", "inf"),
        ("share", "1e300"),
        ("min_yuan", "-1"),
        ("min_yuan", str(10**30)),
    ],
)
def test_catalogue_parameters_are_finite_and_bounded(team, name, value):
    from fangkong.relief import catalogue

    test = catalogue.load()["PAYOUT-SLOW"]
    param = next(p for p in test.params if p.name == name)
    with pytest.raises(ValidationError) as err:
        services.catalogue_params_set(
            actor=team.users["auditor"], project=team.project, test_id=test.id, values={name: value}
        )
    assert err.value.messages == [
        services.ERR_PARAM_RANGE.format(label=param.label, max="1,000,000,000,000", value=value)
    ]
    team.project.refresh_from_db()
    assert team.project.test_params == {}


@pytest.mark.django_db(transaction=True)
def test_a_long_check_keeps_its_lease(team, settings, monkeypatch):
    """A live worker touches the heartbeat however long one step takes, so its import is never
    taken for abandoned; the beat stops with the check."""
    settings.RELIEF_IMPORT_STALE_MINUTES = 0  # beat every second
    source = upload(team, [["收据编号", "日期", "捐赠方", "金额"], ["A1", "2020-02-01", "某", "5"]])
    imp = source.imports.get()
    real_check = importer.check
    seen = []

    def slow_check(*args, **kwargs):
        claimed = LedgerImport.objects.get(pk=imp.pk).heartbeat_at
        time.sleep(2.5)
        seen.append(LedgerImport.objects.get(pk=imp.pk).heartbeat_at > claimed)
        return real_check(*args, **kwargs)

    monkeypatch.setattr(importer, "check", slow_check)
    imp = services.run_check(import_id=imp.pk)
    assert seen == [True] and imp.status == ImportStatus.PREVIEW
    import threading

    assert not [t for t in threading.enumerate() if t.name.startswith("relief-import-")]
