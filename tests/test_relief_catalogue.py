"""The test catalogue as a whole: clean data finds nothing, runs are recorded and reproducible,
re-running never duplicates findings under review, parameters are per project."""

import csv
import io

import pytest
from django.core.exceptions import ValidationError

from fangkong.relief import catalogue, services
from fangkong.relief.ledger import store
from fangkong.relief.models import CatalogueRun, Finding

DETERMINISTIC = [t.id for t in catalogue.load().values() if not t.screen]


def test_every_test_is_documented():
    for t in catalogue.load().values():
        assert t.title and t.description and t.rule, t.id
        assert t.category in catalogue.CATEGORIES, t.id
        for p in t.params:
            assert p.label, (t.id, p.name)


def test_clean_world_finds_nothing(relief_world):
    with store.project_db(relief_world.project.pk) as con:
        hits = catalogue.evaluate(con, DETERMINISTIC, {})
    fired = {t: [h.detail for h in hs[:3]] for t, hs in hits.items() if hs}
    assert fired == {}


def _upload_csv(rw, name, header, rows):
    buf = io.StringIO()
    csv.writer(buf).writerows([header, *rows])
    path = rw.tmp / name
    path.write_bytes(buf.getvalue().encode("gbk"))
    upload = services.source_for_upload_path(path)
    source = services.file_upload(actor=rw.users["auditor"], project=rw.project, upload=upload)
    upload.close()
    imp = services.run_check(import_id=source.imports.get().pk)
    assert imp.error_count == 0, imp.errors
    return services.import_accept(actor=rw.users["auditor"], imp=imp)


@pytest.fixture
def with_duplicates(relief_world, tmp_path):
    relief_world.tmp = tmp_path
    _upload_csv(
        relief_world,
        "补充资金支付明细.csv",
        ["支付日期", "凭证号", "付款单位", "收款单位", "支付金额", "发票号码", "资金来源编号"],
        [
            [
                "2020-02-10",
                "BC-1",
                "黄冈市中心医院",
                "湖北某某医疗器械有限公司",
                "12,000.00",
                "FP0001",
                "CZ9",
            ],
            [
                "2020-02-12",
                "BC-2",
                "黄冈市中心医院",
                "湖北某某医疗器械有限公司",
                "12,000.00",
                "FP0001",
                "CZ9",
            ],
        ],
    )
    return relief_world


def test_run_records_parameters_snapshot_and_does_not_duplicate(with_duplicates):
    rw = with_duplicates
    actor = rw.users["auditor"]
    first = services.catalogue_start(
        actor=actor, project=rw.project, tests=["PAY-DUP-INVOICE", "PAY-DUP-NEAR"]
    )
    assert first.status == "done" and first.counts == {"PAY-DUP-INVOICE": 1, "PAY-DUP-NEAR": 0}
    assert first.parameters["PAY-DUP-NEAR"] == {"days": 7} and len(first.snapshot) == 64
    finding = Finding.objects.get(project=rw.project, test_id="PAY-DUP-INVOICE")
    assert finding.amount_fen == 1_200_000 and finding.evidence.count() == 2
    assert sorted(finding.evidence.values_list("row_no", flat=True)) == [2, 3]
    services.finding_decide(actor=actor, finding=finding, status="confirmed")

    second = services.catalogue_start(actor=actor, project=rw.project, tests=["PAY-DUP-INVOICE"])
    assert second.counts == {"PAY-DUP-INVOICE": 1}  # found again …
    assert (
        Finding.objects.filter(project=rw.project, test_id="PAY-DUP-INVOICE").count() == 1
    )  # … not added again
    assert second.snapshot == first.snapshot  # same data, same snapshot: reproducible
    finding.refresh_from_db()
    assert finding.status == "confirmed"


def test_project_parameters_change_what_is_found(with_duplicates):
    rw = with_duplicates
    actor = rw.users["auditor"]
    services.catalogue_params_set(
        actor=actor, project=rw.project, test_id="PAY-DUP-NEAR", values={"days": "1"}
    )
    rw.project.refresh_from_db()
    assert catalogue.effective_params(rw.project, ["PAY-DUP-NEAR"])["PAY-DUP-NEAR"]["days"] == 1
    with pytest.raises(ValidationError):
        services.catalogue_params_set(
            actor=actor, project=rw.project, test_id="PAY-DUP-NEAR", values={"days": "一周"}
        )
    run = services.catalogue_start(actor=actor, project=rw.project, tests=["PAY-DUP-NEAR"])
    assert run.parameters == {"PAY-DUP-NEAR": {"days": 1}}


def test_run_page_and_catalogue_page(with_duplicates, client_for):
    rw = with_duplicates
    c = client_for("auditor")
    page = c.get(f"/relief/p/{rw.project.pk}/catalogue/")
    assert page.status_code == 200 and "PAY-DUP-INVOICE" in page.content.decode()
    r = c.post(f"/relief/p/{rw.project.pk}/catalogue/run/", {"tests": ["PAY-DUP-INVOICE"]})
    run = CatalogueRun.objects.get(project=rw.project)
    assert r.status_code == 302 and r["Location"].endswith(f"/runs/{run.pk}/")
    body = c.get(r["Location"]).content.decode()
    assert "已完成" in body and "PAY-DUP-INVOICE" in body
    assert (
        c.post(f"/relief/p/{rw.project.pk}/catalogue/run/", {}).status_code == 302
    )  # nothing chosen: message
