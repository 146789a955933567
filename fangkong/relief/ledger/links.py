"""Links between ledger rows: one definition, used by the trace pages and the catalogue's tests alike.

- A bank credit of a donation account and a donation register entry are one gift when the bank
  memo quotes the entry's donation or receipt number and the amounts agree, or else when they have
  the same donor (names as both sides can agree on them: see `_LOOSE`) and the same amount and are
  dated at most `days` apart, paired in date order (a donor who gives the same sum twice makes two
  pairs). Credits whose memo holds one of `skip_words` (interest, refunds…) are not gifts.
- A bank debit and a payment ledger row are one payment when the memo quotes the payment's ref, or
  by payee, amount and date at most `days` apart, the nearest date first, one to one.
- A day's subsidy rows of one payer are paid from the appropriation to that payer of the same
  total, made at most `BATCH_DAYS` before.

`days` and `skip_words` are the project's parameters of the BANK-UNBOOKED test (default 5 days), so
the trace page and the finding can never disagree about a credit.
"""

import re

# The catalogue test whose parameters are the project's link rule.
LINK_TEST = "BANK-UNBOOKED"
BANK_DAYS = 5
BATCH_DAYS = 7
# Bank credits that are not gifts: interest, refunds, reversals, transfers between own accounts.
NOT_GIFTS = "结息,利息,退款,退回,冲正,内部转账"

# A party as both sides can agree on it: the normalised name without its company suffix, so that
# 湖北某某实业集团 in the bank and 湖北某某实业集团有限公司 in the register meet; names the catalogue
# (or the auditor) tied to one party all take that party's first such name.
_LOOSE = "regexp_replace({key}, '(有限责任公司|股份有限公司|有限公司|公司)$', '')"
_PARTY = "coalesce(c_{col}.canon, " + _LOOSE.format(key="e.{col}_key") + ")"


def words(value) -> list[str]:
    """A list parameter as an auditor types it: "车辆, 装修、办公家具" → [车辆, 装修, 办公家具]."""
    return [w for w in re.split(r"[,，、;；\s]+", str(value or "")) if w]


def words_regex(items: list[str]) -> str:
    """An RE2 alternation matching any of the words literally ('' when there are none)."""
    return "|".join(re.escape(w) for w in items)


def link_params(test_params: dict | None) -> dict:
    """The project's link rule: {days, skip_words}, its BANK-UNBOOKED values over the defaults."""
    own = (test_params or {}).get(LINK_TEST) or {}
    return {
        "days": int(own.get("days", BANK_DAYS)),
        "skip_words": own.get("skip_words", NOT_GIFTS),
    }


def bank_credit_pairs(con, *, days: int, skip_words: str = NOT_GIFTS) -> None:
    """Pair every bank credit of a donation account with at most one register entry.

    Leaves the credits in `mb_bank`, the register entries in `mb_reg` and the pairs in `mb_pair`
    (b_id, r_id, how: 'memo' or 'party').
    """
    skip = words_regex(words(skip_words))
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE mb_canon AS
            SELECT party_id, min({_LOOSE.format(key="key")}) AS canon
            FROM party_map GROUP BY party_id"""
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE mb_bank AS
            SELECT e.row_id, e.import_id, e.file_id, e.day, e.amount, e.counterparty, e.ref,
                   {_PARTY.format(col="counterparty")} AS party, coalesce(e.purpose, '') AS memo
            FROM entries e LEFT JOIN mb_canon c_counterparty
              ON c_counterparty.party_id = e.counterparty_id
            WHERE e.kind = 'bank' AND e.step = 'received' AND e.amount > 0
              AND (? = '' OR NOT regexp_matches(coalesce(e.purpose, ''), ?))""",
        [skip, skip],
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE mb_reg AS
            SELECT e.row_id, e.import_id, e.file_id, e.day, e.amount, e.source, e.ref, e.doc_no,
                   {_PARTY.format(col="source")} AS party
            FROM entries e LEFT JOIN mb_canon c_source ON c_source.party_id = e.source_id
            WHERE e.kind = 'cash_donation' AND e.amount > 0"""
    )
    con.execute(
        """CREATE OR REPLACE TEMP TABLE mb_pair AS
           WITH tokens AS (
               SELECT row_id, unnest(regexp_extract_all(memo, '[A-Za-z0-9][A-Za-z0-9_-]{3,}')) AS t
               FROM mb_bank),
           numbers AS (  -- what a memo may quote: the donation number or the receipt number
               SELECT row_id AS r_id, amount, ref AS t FROM mb_reg WHERE ref IS NOT NULL
               UNION
               SELECT row_id, amount, doc_no FROM mb_reg WHERE doc_no IS NOT NULL),
           by_number AS (
               SELECT DISTINCT b.row_id AS b_id, n.r_id
               FROM tokens t JOIN mb_bank b ON b.row_id = t.row_id
               JOIN numbers n ON n.t = t.t AND n.amount = b.amount),
           per_credit AS (  -- one register entry per credit and one credit per entry
               SELECT b_id, r_id FROM by_number
               QUALIFY row_number() OVER (PARTITION BY b_id ORDER BY r_id) = 1),
           one AS (
               SELECT b_id, r_id FROM per_credit
               QUALIFY row_number() OVER (PARTITION BY r_id ORDER BY b_id) = 1),
           lb AS (
               SELECT *, row_number() OVER (PARTITION BY party, amount ORDER BY day, row_id) AS k
               FROM mb_bank WHERE party IS NOT NULL AND row_id NOT IN (SELECT b_id FROM one)),
           lr AS (
               SELECT *, row_number() OVER (PARTITION BY party, amount ORDER BY day, row_id) AS k
               FROM mb_reg WHERE party IS NOT NULL AND row_id NOT IN (SELECT r_id FROM one))
           SELECT b_id, r_id, 'memo' AS how FROM one
           UNION ALL
           SELECT lb.row_id, lr.row_id, 'party' FROM lb JOIN lr
             ON lb.party = lr.party AND lb.amount = lr.amount AND lb.k = lr.k
            AND abs(date_diff('day', lr.day, lb.day)) <= ?""",
        [int(days)],
    )


def build_links(con, *, days: int, skip_words: str = NOT_GIFTS) -> None:
    """The `links` table (row_id, ref, how, doc_id — the ledger row it was matched to, days — the window it was matched in) of every row
    that names no ref but belongs to one: bank credits and debits, subsidy batches."""
    bank_credit_pairs(con, days=days, skip_words=skip_words)
    con.execute(
        """CREATE OR REPLACE TEMP TABLE link_src AS
        SELECT row_id, kind, step, ref, day, amount, source_key, target_id, target_key,
               counterparty_id, counterparty_key, purpose
        FROM entries WHERE kind IN ('bank', 'payment', 'appropriation', 'subsidy')"""
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE links AS
WITH debits AS (
    SELECT row_id, day, amount, counterparty_id, counterparty_key, purpose
    FROM link_src WHERE kind = 'bank' AND step = 'paid' AND ref IS NULL
),
payments AS (
    SELECT row_id, ref, day, amount, target_id AS party_id, target_key AS party_key
    FROM link_src WHERE kind = 'payment' AND ref IS NOT NULL
),
memo AS (
    SELECT row_id, unnest(regexp_extract_all(coalesce(purpose, ''), '[A-Za-z0-9-]{{4,}}')) AS token
    FROM debits
),
candidates AS (
    SELECT b.row_id AS bank_id, d.row_id AS doc_id, d.ref, 0 AS prio,
           abs(date_diff('day', d.day, b.day)) AS apart, 'memo' AS how
    FROM memo m JOIN debits b ON b.row_id = m.row_id JOIN payments d ON d.ref = m.token
    UNION ALL
    SELECT b.row_id, d.row_id, d.ref, 1, abs(date_diff('day', d.day, b.day)), 'party'
    FROM debits b JOIN payments d
      ON b.amount = d.amount
     AND (b.counterparty_id = d.party_id OR b.counterparty_key = d.party_key)
     AND abs(date_diff('day', d.day, b.day)) <= {int(days)}
),
ranked AS (
    SELECT *,
           row_number() OVER (PARTITION BY bank_id ORDER BY prio, apart, doc_id) AS by_bank,
           row_number() OVER (PARTITION BY doc_id ORDER BY prio, apart, bank_id) AS by_doc
    FROM candidates
),
batches AS (
    SELECT source_key, day, sum(amount) AS amount FROM link_src
    WHERE kind = 'subsidy' AND ref IS NULL AND source_key IS NOT NULL AND amount IS NOT NULL
    GROUP BY source_key, day
),
batch_pairs AS (
    SELECT a.ref, a.row_id AS doc_id, b.source_key, b.day,
           row_number() OVER (PARTITION BY a.row_id ORDER BY b.day, b.source_key) AS by_doc,
           row_number() OVER (PARTITION BY b.source_key, b.day ORDER BY a.day DESC, a.row_id)
             AS by_batch
    FROM batches b JOIN link_src a
      ON a.kind = 'appropriation' AND a.ref IS NOT NULL AND a.amount = b.amount
     AND a.target_key = b.source_key
     AND date_diff('day', a.day, b.day) BETWEEN 0 AND {BATCH_DAYS}
)
SELECT p.b_id AS row_id, r.ref, p.how, p.r_id AS doc_id, {int(days)} AS days
FROM mb_pair p JOIN mb_bank b ON b.row_id = p.b_id JOIN mb_reg r ON r.row_id = p.r_id
WHERE b.ref IS NULL AND r.ref IS NOT NULL
UNION ALL
SELECT bank_id, ref, how, doc_id, {int(days)} FROM ranked
WHERE by_bank = 1 AND (prio = 0 OR by_doc = 1)
UNION ALL
SELECT s.row_id, p.ref, 'batch', p.doc_id, {BATCH_DAYS} FROM batch_pairs p
JOIN link_src s ON s.kind = 'subsidy' AND s.ref IS NULL AND s.source_key = p.source_key
 AND s.day = p.day
WHERE p.by_doc = 1 AND p.by_batch = 1"""  # noqa: S608 - numbers are ours
    )
