"""The answer key: where each planted problem and each look-alike sits in the written files."""

from __future__ import annotations

from collections import Counter

import fangkong.relief.synthetic.independent.build as B

from .forms import normalise

FORMAT = "fangkong-relief-world-b/1"
ALIASES = {
    "amount": ("amount", "expense", "income", "credit", "debit"),
    "date": ("date", "signed"),
    "card": ("card", "account"),
}
BODIES = {
    "财政局": "楚江市财政局：上级资金到账、专项资金拨付台账、国库集中支付明细、经济分类科目表",
    "红十字会": "楚江市红十字会：捐赠资金登记、工行捐赠专户对账单、捐赠物资登记、拨付明细、信息公示、工作人员名单、物资仓库（入库/出库/明细账/盘点）",
    "慈善总会": "楚江市慈善总会：捐赠收入明细账、建行募捐专户流水、物资捐赠台账、善款拨付、信息公示、工作人员名单",
    "市疫情防控指挥部物资保障组": "市疫情防控指挥部物资保障组（民政局）：市应急物资储备库入库/出库/明细账/盘点、分配方案（调拨单）、非医疗机构签收",
    "卫健委": "楚江市卫生健康委员会：医疗机构名录、一线医务人员花名册、补助标准、疫情前参考价、供应商名录、采购合同台账、到货验收记录",
    "医院": "每家医院一个子文件夹：专项资金收支明细账、防疫物资签收登记、物资申请、床位日报、值班考勤表、临时性工作补助发放表",
}


def parameters() -> dict:
    """The rules this world keeps (what a clean record obeys), for setting a scorer's parameters."""
    return {
        "cutoff": B.CUTOFF.isoformat(),
        "disclosure_window_days": [
            {"received_until": d.isoformat(), "days": n} for d, n in B.DISCLOSE_WINDOW
        ],
        "disclosure_rule_source": "各期公示表末尾注：接收的捐赠款物自接收之日起7日内公示（4月1日起为15日内）",
        "fund_idle_days": B.IDLE_DAYS,
        "payout_window_days": 15,
        "clean_payout_days": "hospitals use each receipt within 1-12 days; charities pay out every 3-7 days",
        "approval_limit_yuan": "100000.00",
        "approval_near_ratio": 0.9,
        "subsidy_rates_yuan_per_day": {k: f"{v / 100:.2f}" for k, v in B.RATES.items()},
        "subsidy_paid_month_offset": 1,
        "subsidy_rule": "a month's subsidy is paid between the 6th and the 20th of the next month",
        "goods_booking_days": 2,
        "sign_for_days": 2,
        "in_transit_days": 3,
        "non_designated_allowance": "at most 10 boxes per item and hospital (fever clinics)",
        "hoard_idle_days": "clean key batches are issued within 5 days of intake; planted ones sit 32-40 days",
        "price_week_ratio": "clean contracts within ±15% of the week's price; planted 3.5-5×",
        "price_benchmark_ratio": "clean contracts 1.1-2.3× the reference; planted 6-9×",
        "supplier_new": "planted suppliers founded after 2020-01-20, 6-20 days before their first contract",
    }


def _locate(books) -> dict:
    where: dict = {}
    for book in books:
        for sheet in book.sheets:
            for ref, row in sheet.refs.items():
                where.setdefault(ref, (book, sheet, row))
    return where


def _expand(w, evidence) -> list:
    out = []
    for item in evidence:
        if callable(item):
            out.extend(item(w))
        else:
            out.append(item)
    return out


def _cells(sheet, row, fields) -> dict:
    cells = {}
    for f in fields:
        for name in ALIASES.get(f, (f,)):
            if name not in sheet.cols:
                continue
            letter, header, kind = sheet.cols[name]
            col = sheet.getters[name]
            index = _col_index(letter)
            raw = sheet.cells.get((row, index), (None, None))[0]
            if raw is None and f in ALIASES and name != ALIASES[f][-1]:
                continue
            cells[name] = {
                "column": letter,
                "header": header,
                "kind": kind if kind != "int" else "qty",
                "value": normalise(kind if kind != "int" else "qty", raw),
            }
            del col
            break
    return cells


def _col_index(letter: str) -> int:
    n = 0
    for ch in letter:
        n = n * 26 + ord(ch) - 64
    return n - 1


def _resolve_keys(w, keys: dict) -> dict:
    out = {}
    for k, v in keys.items():
        if k == "_deferred":
            out.update(v(w))
        elif callable(v):
            out[k] = v(w)
        else:
            out[k] = v
    return out


def _entry(w, prob, where, books, prefix, n) -> dict:
    evidence = []
    for ref, fields, role in _expand(w, prob.evidence):
        if ref not in where:
            continue
        book, sheet, row = where[ref]
        evidence.append(
            {
                "file": book.path,
                "sheet": sheet.name if not book.fmt.startswith("csv") else None,
                "row": row,
                "role": role,
                "cells": _cells(sheet, row, fields),
            }
        )
    entry = {
        "id": f"{prefix}{n:04d}",
        "test_id": prob.test_id,
        "sentence": prob.sentence,
        "related_tests": list(prob.related),
        "keys": _resolve_keys(w, prob.keys),
        "evidence": evidence,
    }
    if prob.ledger:
        kind, ref = prob.ledger
        book = next(
            (b for b in books if b.kind == kind and getattr(b, "hospital", None) == ref), None
        )
        if book is not None:
            entry["ledger"] = {
                "file": book.path,
                "sheets": [s.name for s in book.sheets] if not book.fmt.startswith("csv") else None,
            }
    return entry


def answer_key(w, books, *, seed: int, scale: str, clean: bool, notes: dict) -> dict:
    where = _locate(books)
    problems = [_entry(w, p, where, books, "P", k) for k, p in enumerate(w.problems, start=1)]
    decoys = [_entry(w, p, where, books, "D", k) for k, p in enumerate(w.decoys, start=1)]
    decoys = [
        {
            "id": d["id"],
            "resembles": d["test_id"],
            **{k: v for k, v in d.items() if k not in ("id", "test_id")},
        }
        for d in decoys
    ]
    files = [
        {
            "path": b.path,
            "body": b.path.split("/")[0],
            "kind": b.kind,
            "format": b.fmt,
            "sheets": [s.name for s in b.sheets] if not b.fmt.startswith("csv") else None,
            "rows": b.rows,
        }
        for b in books
    ]
    return {
        "format": FORMAT,
        "generator": "fangkong.relief.synthetic.independent",
        "seed": seed,
        "scale": scale,
        "clean": clean,
        "city": B.CITY,
        "period": {"start": B.START.isoformat(), "cutoff": B.CUTOFF.isoformat()},
        "parameters": parameters(),
        "bodies": BODIES,
        "totals": {
            "files": len(files),
            "rows": sum(f["rows"] for f in files),
            "problems": len(problems),
            "decoys": len(decoys),
        },
        "counts": {
            "problems_by_test": dict(sorted(Counter(p["test_id"] for p in problems).items())),
            "decoys_by_test": dict(sorted(Counter(d["resembles"] for d in decoys).items())),
        },
        "notes": notes,
        "problems": problems,
        "decoys": decoys,
        "files": files,
    }
