"""Accounts from the roster, in bulk: plan who gets which username, then create the accounts and
their activation codes in chunks, as a background job with a progress bar.

Nobody chooses an initial password. Each new account has an unusable password and a single-use
activation code (accounts/codes.py, stored as an HMAC), sent by SMS through the outbox or
printed on a sealed slip (accounts/slips.py); the person sets their own password on the
activation page. No password hashing happens here: that is what lets 100,000 accounts be made
in seconds (bench/bench_accounts.py).

Re-running creates only what is missing: people who still have no account, and a new SMS code
for accounts never activated whose code has expired. Nothing is ever deleted or overwritten.

Writes go through `fangkong.lib.bulk.insert` (COPY / executemany); each chunk is one
transaction holding its users, codes, links to the people, outbox messages, audit events and
the batch's progress, so a killed worker loses at most the chunk it was writing and its
successor resumes after the last committed one (the batch's `cursor`).
"""

import json
import logging
import secrets
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.db import connection, transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop as N_

from fangkong.accounts import codes
from fangkong.accounts.models import AccessCode, AccountBatch, User
from fangkong.audit.actions import AuditAction
from fangkong.audit.models import AuditEvent
from fangkong.audit.services import actor_name, audit_record
from fangkong.jobs.queue import enqueue_on_commit
from fangkong.lib import bulk, clock
from fangkong.lib.masking import mask_mobile, mask_username
from fangkong.lib.request_context import client_ip
from fangkong.notify.models import ChannelKind
from fangkong.notify.services import Outgoing, messages_add
from fangkong.org.models import OrgUnit, Person, in_post_q

log = logging.getLogger(__name__)

RULE_MOBILE, RULE_STAFF_NUMBER = "mobile", "staff_number"
RULES = {RULE_MOBILE: N_("手机号码"), RULE_STAFF_NUMBER: N_("工号")}
# Username of someone the rule gives none (no mobile number, no staff number): unique by id.
FALLBACK_PREFIX = "fk"
CHUNK = 5000
# What a batch counts: people in post in the subtree, of whom had an account already; accounts
# created; SMS codes queued; codes re-sent to accounts never activated.
COUNTS = ("people", "had_account", "created", "sms", "reissued")
BATCH_LEASE = timedelta(minutes=2)
_IN = 900  # stays under SQLite's historical limit of 999 bound parameters

# Problems reported per person (the person gets no account until the roster is fixed).
PROBLEM_DUPLICATE_MOBILE = "duplicate_mobile"
PROBLEM_USERNAME_TAKEN = "username_taken"
PROBLEMS = {
    PROBLEM_DUPLICATE_MOBILE: N_(
        "手机号码 {detail} 在名册中登记给了不止一人，无法作为用户名，也不能发送激活码。"
        "请在名册中更正后重新开通。"
    ),
    PROBLEM_USERNAME_TAKEN: N_(
        "用户名 {detail} 已被另一个账号使用。请核对名册中的手机号码或工号后重新开通。"
    ),
}

ERR_RULE = N_("用户名规则设置有误（ACCOUNT_USERNAME_RULE 只能是 mobile 或 staff_number）。")
ACTIVATION_SMS = N_(
    "{name}您好：您的防控系统账号已开通，用户名 {username}，激活码 {code}，{days} 天内有效。"
    "请打开 {url} 填写激活码并设置密码。激活码只能使用一次，请勿转告他人。"
)


def username_rule() -> str:
    rule = settings.ACCOUNT_USERNAME_RULE
    if rule not in RULES:
        raise ValueError(ERR_RULE)
    return rule


def active_q(prefix: str = "") -> Q:
    """People in post today (server clock): joined on or before today and not yet left."""
    return in_post_q(clock.today(), prefix)


def live_activation_q(now=None) -> Q:
    """Activation codes that can still be used."""
    return Q(
        purpose=AccessCode.Purpose.ACTIVATE,
        used_at__isnull=True,
        revoked_at__isnull=True,
        expires_at__gt=now or clock.now(),
    )


# --- The plan (reads only). ---


@dataclass
class Item:
    """One person to act on: give an account (`username`), or send a new code (`user_id`)."""

    person_id: int
    name: str
    mobile: str
    username: str
    user_id: int | None = None  # set for a re-sent code (and once the account exists)
    reissue: bool = False


@dataclass
class Plan:
    items: list[Item] = field(default_factory=list)  # by person id
    problems: list[dict] = field(default_factory=list)
    counts: Counter = field(default_factory=Counter)


def _username(person: dict, rule: str) -> str:
    value = (person["mobile"] if rule == RULE_MOBILE else person["staff_number"]).strip()
    return value or f"{FALLBACK_PREFIX}{person['id']:06d}"


def plan(unit: OrgUnit, *, rule: str, delivery: str) -> Plan:
    """Who in `unit`'s subtree gets an account, under which username, and who is reported."""
    result = Plan()
    people = list(
        Person.objects.filter(unit__in=OrgUnit.objects.subtree_of(unit).values("pk"))
        .filter(active_q())
        .order_by("pk")
        .values("id", "name", "mobile", "staff_number", "user_id", "unit__name")
    )
    result.counts["people"] = len(people)
    wanted = [p for p in people if p["user_id"] is None]
    result.counts["had_account"] = len(people) - len(wanted)
    # A mobile number on the roster of more than one person in post (anywhere in the tree) can
    # be nobody's username, and an SMS to it could reach the wrong person.
    shared = set()
    if rule == RULE_MOBILE:
        shared = set(
            Person.objects.filter(active_q())
            .exclude(mobile="")
            .values("mobile")
            .annotate(n=Count("id"))
            .filter(n__gt=1)
            .values_list("mobile", flat=True)
        )
    names = {p["id"]: _username(p, rule) for p in wanted}
    taken: set[str] = set()
    values = sorted(set(names.values()))
    for i in range(0, len(values), _IN):
        taken.update(
            User.objects.filter(username__in=values[i : i + _IN]).values_list("username", flat=True)
        )
    repeats = Counter(names.values())
    for p in wanted:
        username = names[p["id"]]
        if (rule == RULE_MOBILE and p["mobile"] in shared) or repeats[username] > 1:
            result.problems.append(_problem(p, PROBLEM_DUPLICATE_MOBILE, mask_mobile(p["mobile"])))
            continue
        if username in taken:
            result.problems.append(_problem(p, PROBLEM_USERNAME_TAKEN, mask_username(username)))
            continue
        result.items.append(Item(p["id"], p["name"], p["mobile"], username))
    # Accounts never activated whose code has expired: a new SMS code (slips are printed later).
    if delivery == AccountBatch.Delivery.SMS:
        have = {p["id"] for p in people if p["user_id"] is not None}
        stale = (
            Person.objects.filter(pk__in=[p["id"] for p in people if p["id"] in have])
            if len(have) <= _IN
            else Person.objects.filter(unit__in=OrgUnit.objects.subtree_of(unit).values("pk"))
        )
        stale = (
            stale.filter(active_q(), user__password__startswith=UNUSABLE_PASSWORD_PREFIX)
            .exclude(mobile="")
            .exclude(mobile__in=shared)
            .filter(
                ~Exists(AccessCode.objects.filter(live_activation_q(), user=OuterRef("user_id")))
            )
            .values_list("id", "name", "mobile", "user__username", "user_id")
        )
        result.items.extend(Item(*row, reissue=True) for row in stale)
        result.items.sort(key=lambda item: item.person_id)
    return result


def _problem(person: dict, kind: str, detail: str) -> dict:
    return {"person": person["name"], "unit": person["unit__name"], "kind": kind, "detail": detail}


def problem_text(problem: dict) -> str:
    return _(PROBLEMS[problem["kind"]]).format(detail=problem["detail"])


# --- The writes. ---


def activation_url() -> str:
    return settings.FANGKONG_SITE_URL.rstrip("/") + "/accounts/activate/"


def _write_chunk(batch: AccountBatch, items: list[Item], actor: User) -> Counter:
    """Create the chunk's accounts and codes, link them to their people, queue the SMS and write
    one audit event per account. Runs inside the caller's transaction."""
    now = clock.now()
    expires = now + timedelta(days=settings.ACCOUNT_ACTIVATION_DAYS)
    counts: Counter = Counter()
    new = [item for item in items if not item.reissue]
    bulk.insert(
        User,
        ["username", "password", "is_superuser", "first_name", "last_name", "email"]
        + ["is_staff", "is_active", "date_joined", "must_change_password"],
        # An unusable password ("!…", see Django's make_password(None)): only activation sets one.
        [
            (
                i.username,
                UNUSABLE_PASSWORD_PREFIX + secrets.token_hex(10),
                False,
                "",
                "",
                "",
                False,
                True,
                now,
                False,
            )
            for i in new
        ],
    )
    ids: dict[str, int] = {}
    usernames = [i.username for i in new]
    for i in range(0, len(usernames), _IN):
        ids.update(
            User.objects.filter(username__in=usernames[i : i + _IN]).values_list("username", "pk")
        )
    for item in new:
        item.user_id = ids[item.username]
    linked = _link(new, now)
    if linked != len(new):
        # Someone gave one of these people an account meanwhile: undo the chunk, run again.
        raise RuntimeError("roster changed while accounts were being created")
    counts["created"] = len(new)
    by_sms = batch.delivery == AccountBatch.Delivery.SMS
    codes_rows, messages, audits = [], [], []
    url = activation_url()
    text, subject = _(ACTIVATION_SMS), _("防控系统账号开通")  # translated once, not per person
    days = settings.ACCOUNT_ACTIVATION_DAYS
    for item in items:
        if not (by_sms and item.mobile):
            continue
        raw = codes.new_activation_code()
        codes_rows.append(
            (item.user_id, AccessCode.Purpose.ACTIVATE, AccessCode.Channel.SMS,
             codes.code_hash(raw), "", batch.pk, now, expires, 0)
        )  # fmt: skip
        body = text.format(name=item.name, username=item.username, code=raw, days=days, url=url)
        messages.append(
            Outgoing(f"account.activation.{batch.pk}.{item.user_id}", "account.activation",
                     ChannelKind.SMS, item.user_id, item.mobile, subject, body)
        )  # fmt: skip
    # A re-sent code replaces the user's earlier (expired or printed) ones.
    resent = [i.user_id for i in items if i.reissue]
    if resent:
        AccessCode.objects.filter(
            user_id__in=resent, purpose=AccessCode.Purpose.ACTIVATE, used_at__isnull=True
        ).order_by().update(revoked_at=now)
    bulk.insert(
        AccessCode,
        ["user", "purpose", "channel", "code_hash", "binding", "batch", "created_at"]
        + ["expires_at", "failures"],
        codes_rows,
    )
    messages_add(messages, now=now)
    counts["sms"] = len(messages)
    counts["reissued"] = len(items) - len(new)
    ip = client_ip()
    logged_at = clock.now()  # as AuditEvent.at's default would write it
    by = actor_name(actor)
    for item in items:
        delivery = "sms" if by_sms and item.mobile else "slip"
        # The event's JSON, written out: json.dumps per row would cost as much as the insert.
        values = f'{{"person": {item.person_id}, "batch": {batch.pk}, "delivery": "{delivery}"'
        if not item.reissue:
            shown = mask_username(item.username)
            values += f', "username": {json.dumps(shown, ensure_ascii=False)}'
        audits.append(
            (logged_at, actor.pk, by,
             (AuditAction.USER_ACTIVATION_REISSUE if item.reissue else AuditAction.USER_CREATE).value,
             "accounts.user", str(item.user_id), f"{item.name}（{mask_username(item.username)}）"[:200],
             values + "}", "", ip)
        )  # fmt: skip
    bulk.insert(
        AuditEvent,
        ["at", "actor", "actor_name", "action", "object_type", "object_id", "object_repr", "new"]
        + ["detail", "ip"],
        audits,
    )
    return counts


def _link(items: list[Item], now) -> int:
    """Point each person at their new account (only people still without one)."""
    if not items:
        return 0
    table = connection.ops.quote_name(Person._meta.db_table)
    now = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"UPDATE {table} AS p SET user_id = v.u, updated_at = %s"  # noqa: S608
                " FROM unnest(%s::bigint[], %s::bigint[]) AS v(p, u)"
                " WHERE p.id = v.p AND p.user_id IS NULL",
                [now, [i.person_id for i in items], [i.user_id for i in items]],
            )
            return cursor.rowcount
        cursor.executemany(
            f"UPDATE {table} SET user_id = %s, updated_at = %s WHERE id = %s AND user_id IS NULL",  # noqa: S608
            [(i.user_id, now, i.person_id) for i in items],
        )
        return cursor.rowcount


# --- The batch: created by a page, run here or by the worker. ---


@transaction.atomic
def account_batch_create(*, actor, unit: OrgUnit, delivery: str) -> AccountBatch:
    """Record a request to open accounts for `unit`'s subtree (the caller checked the scope)."""
    batch = AccountBatch(
        unit=unit,
        created_by=actor,
        delivery=delivery,
        username_rule=username_rule(),
        created_at=clock.now(),
    )
    batch.full_clean()
    batch.save()
    audit_record(
        actor=actor,
        action=AuditAction.ACCOUNTS_BATCH,
        obj=batch,
        new={"unit": unit.code, "delivery": delivery, "username_rule": batch.username_rule},
    )
    return batch


def _claim(batch_id: int) -> bool:
    """Take the batch: queued, or running with a heartbeat older than the lease (dead worker).
    A conditional UPDATE, so two workers never run one batch."""
    now = clock.now()
    return bool(
        AccountBatch.objects.filter(
            Q(status=AccountBatch.Status.QUEUED)
            | Q(status=AccountBatch.Status.RUNNING, heartbeat_at__lt=now - BATCH_LEASE),
            pk=batch_id,
        )
        .order_by()
        .update(status=AccountBatch.Status.RUNNING, heartbeat_at=now, started_at=now)
    )


def account_batch_run(*, batch_id: int) -> AccountBatch:
    """Carry out a batch (idempotent: a finished or busy batch is left alone)."""
    if not _claim(batch_id):
        return AccountBatch.objects.get(pk=batch_id)
    batch = AccountBatch.objects.select_related("unit", "created_by").get(pk=batch_id)
    try:
        the_plan = plan(batch.unit, rule=batch.username_rule, delivery=batch.delivery)
        todo = [item for item in the_plan.items if item.person_id > batch.cursor]
        counts = Counter(dict.fromkeys(COUNTS, 0))
        counts.update(batch.counts)
        if not batch.counts:
            counts.update({k: the_plan.counts[k] for k in ("people", "had_account")})
            AccountBatch.objects.filter(pk=batch.pk).update(
                total=len(the_plan.items),
                problems=the_plan.problems,
                counts=dict(counts),
            )
        done = batch.done
        for start in range(0, len(todo), CHUNK):
            chunk = todo[start : start + CHUNK]
            with transaction.atomic():
                counts.update(_write_chunk(batch, chunk, batch.created_by))
                done += len(chunk)
                AccountBatch.objects.filter(pk=batch.pk).update(
                    done=done,
                    cursor=chunk[-1].person_id,
                    counts=dict(counts),
                    heartbeat_at=clock.now(),
                )
        with transaction.atomic():
            AccountBatch.objects.filter(pk=batch.pk).update(
                status=AccountBatch.Status.DONE, finished_at=clock.now(), counts=dict(counts)
            )
            batch.refresh_from_db()
            audit_record(
                actor=batch.created_by,
                action=AuditAction.ACCOUNTS_BATCH_DONE,
                obj=batch,
                new=dict(counts) | {"problems": len(batch.problems)},
            )
    except Exception as exc:
        log.exception("account batch %s failed", batch_id)
        AccountBatch.objects.filter(pk=batch_id).update(
            status=AccountBatch.Status.FAILED, error=f"{type(exc).__name__}: {exc}"[:500]
        )
    return AccountBatch.objects.get(pk=batch_id)


def account_batch_start(*, actor, unit: OrgUnit, delivery: str) -> AccountBatch:
    """Create a batch and run it now when the subtree is small, else hand it to the worker."""
    batch = account_batch_create(actor=actor, unit=unit, delivery=delivery)
    size = Person.objects.filter(unit__in=OrgUnit.objects.subtree_of(unit).values("pk")).count()
    if size <= settings.ACCOUNT_BATCH_INLINE:
        return account_batch_run(batch_id=batch.pk)
    enqueue_on_commit("accounts.tasks.run_account_batch", batch.pk)
    return batch


def resumable_batches() -> list[int]:
    """Batches a worker should pick up: queued a while ago, or running with a stale heartbeat."""
    now = clock.now()
    return list(
        AccountBatch.objects.filter(
            Q(status=AccountBatch.Status.QUEUED, created_at__lt=now - timedelta(minutes=1))
            | Q(status=AccountBatch.Status.RUNNING, heartbeat_at__lt=now - BATCH_LEASE)
        ).values_list("pk", flat=True)
    )
