"""Following relief money and goods through the ledgers: one donation forward, one recipient back.

Every ledger row that carries a donation's `ref` is one step of its life (schema.STEPS: received →
booked → stored → allocated → issued → signed → paid → disclosed). Rows that carry no ref are tied
to one by the link rules of `ledger/links.py` (bank rows by the memo or by party, amount and date;
subsidy batches to their appropriation), the same rules the catalogue's tests use. From the steps
follow the conservation lines an auditor checks (booked = stored; stored = issued + in stock;
booked = paid + held; disclosed = booked; per recipient allocated = issued = signed) and the gaps,
in words, where they do not hold.

Reads only. Each function runs a fixed number of DuckDB and ORM queries, whatever the data size;
values are always passed as parameters. One module per job: `model` (shapes, words, URLs), `db`
(the connection and trace rows), `donation`, `search`, `recipient`, `sankey`, `balances`, `page`.
"""

from fangkong.relief.trace.balances import balances
from fangkong.relief.trace.donation import donation_trace
from fangkong.relief.trace.model import (
    ALL,
    DEFAULT_TOP,
    DonationTrace,
    Row,
    donation_url,
    recipient_url,
    ref_arg,
    ref_from_arg,
    row_url,
    sankey_url,
)
from fangkong.relief.trace.page import RowPage, row_page
from fangkong.relief.trace.recipient import recipient_trace
from fangkong.relief.trace.sankey import sankey, trace_sankey
from fangkong.relief.trace.search import donation_traces, find_donations

__all__ = [
    "ALL",
    "DEFAULT_TOP",
    "DonationTrace",
    "Row",
    "RowPage",
    "balances",
    "donation_trace",
    "donation_traces",
    "donation_url",
    "find_donations",
    "recipient_trace",
    "recipient_url",
    "ref_arg",
    "ref_from_arg",
    "row_page",
    "row_url",
    "sankey",
    "sankey_url",
    "trace_sankey",
]
