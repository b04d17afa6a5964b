"""Referrals: refer, referral accept|decline|complete|withdraw, inbox, ledger."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import click

from .. import referrals, render
from ..errors import LabelError, ReferralError
from ..store import Store
from .base import json_option, open_store


def push_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--push",
        is_flag=True,
        help="Then push to your own remote (origin), where your friends pull from.",
    )(f)


def _report_referral(
    store: Store, change: referrals.ReferralChange, push: bool, as_json: bool, done: str
) -> None:
    """Push the change when asked (--push), then print it: `done` and its commit, or JSON."""
    pushed = referrals.push(store, change, show_progress=sys.stderr.isatty()) if push else None
    if as_json:
        click.echo(render.envelope("referral", {**change.to_json(), "pushed": pushed}))
        return
    click.echo(f"{render.safe(done, lines=False)} in commit {(change.commit or '')[:10]}")
    if pushed:
        click.echo(pushed)


@click.command()
@click.argument("contact")
@click.option(
    "--to", "to", required=True, metavar="HANDLE|anyone", help="A friend's handle, or anyone."
)
@click.option(
    "--title", required=True, help="The job in a few words, e.g. 'Data pipeline, 3 months'."
)
@click.option("--details", help="What the job is, what it needs, whom to talk to.")
@click.option("--budget", help="Rate or budget as text, e.g. 'EUR 600/day'.")
@click.option("--deadline", metavar="YYYY-MM-DD", help="When to answer or start by.")
@push_option
@click.option(
    "--private", is_flag=True, help="Keep the referral to yourself (its client may be private)."
)
@json_option
@click.pass_context
def refer(
    ctx: click.Context,
    contact: str,
    to: str,
    title: str,
    details: str | None,
    budget: str | None,
    deadline: str | None,
    push: bool,
    private: bool,
    as_json: bool,
) -> None:
    """Offer a job you cannot take to a friend, or to anyone, as one commit.

    Writes referrals/<id>.yaml (status open, from you) and commits it as
    'Refer "TITLE" (CLIENT) to FRIEND'. CONTACT is the client: a contact's label,
    id, unique id prefix or name. --to is a friend's pinned handle (see 'jobshare
    friend list') or 'anyone', for whoever accepts first.

    \b
    Example:
      jobshare refer acme-recruiting-7k2q --to bob --title "Data pipeline, 3 months" \\
        --budget "EUR 600/day" --deadline 2026-12-15 --push
      jobshare refer my-direct-client --to bob --title "Audit" --private
    """
    store = open_store(ctx)
    if private:
        from ..private.side import refer_private

        if push:
            raise click.UsageError("a private referral is never pushed: leave out --push")
        change = refer_private(
            store, contact, to, title, details=details, budget=budget, deadline=deadline
        )
        _report_referral(store, change, False, as_json, f"Referred {change.label} privately")
        return
    try:
        change = referrals.refer(
            store, contact, to, title, details=details, budget=budget, deadline=deadline
        )
    except LabelError:
        _refuse_private_client(store, contact)
        raise
    _report_referral(store, change, push, as_json, f"Referred {change.label} to {to}")


def _refuse_private_client(store: Store, contact: str) -> None:
    """A shared referral naming a private contact would give its id to every friend."""
    from ..private.views import private_record

    found = private_record(store, contact)
    if found is not None:
        raise ReferralError(
            f"{found.label} is private: a shared referral would show its id to friends; "
            "share it first ('jobshare share'), or keep the referral private (--private)"
        )


@click.group()
def referral() -> None:
    """Answer or close a referral: accept, decline, complete, withdraw (each a commit).

    \b
    Example:
      jobshare referral accept data-pipeline-3-months-7k2q --push
    """


REFERRAL_HELP = {
    "accept": (
        "Take on a referral offered to you, or to anyone (first come, first served).",
        "Only the recipient may accept; a referral to anyone goes to whoever accepts first\n"
        "and was not its sender. Two friends who accept it at once each get a commit; the\n"
        "pull that brings both together stops at a conflict on its status, naming both.",
        'jobshare referral accept data-pipeline-3-months-7k2q --note "Starting Monday" --push',
    ),
    "decline": (
        "Say no to a referral offered to you.",
        "Only the recipient may decline, while it is open. A referral to anyone cannot be\n"
        "declined: leave it open for others.",
        'jobshare referral decline data-pipeline-3-months-7k2q --note "Booked until March"',
    ),
    "complete": (
        "Mark an accepted referral as done.",
        "The friend who accepted it, or its sender, may complete it.",
        "jobshare referral complete data-pipeline-3-months-7k2q --push",
    ),
    "withdraw": (
        "Take back a referral you made, while it is open or accepted.",
        "Only its sender may withdraw it (the client changed their mind, say).",
        'jobshare referral withdraw data-pipeline-3-months-7k2q --note "Project postponed"',
    ),
}


def _referral_command(action: str) -> None:
    summary, rules, example = REFERRAL_HELP[action]
    status = referrals.ACTIONS[action]
    help_text = (
        f"{summary}\n\n{rules}\n\nLABEL is referrals/<id>, an id, a unique id prefix or the title.\n"
        f"The commit sets status '{status}', updates 'updated' and adds a history entry\n"
        f"(when, by you, from which status, --note). Declined, completed and withdrawn\n"
        f"are final; a change the rules do not allow is refused with the reason (exit 13).\n\n"
        f"\b\nExample:\n  {example}"
    )

    @referral.command(action, help=help_text, short_help=summary)
    @click.argument("label")
    @click.option("--note", help="Why, in a few words (kept in the history and the commit).")
    @push_option
    @json_option
    @click.pass_context
    def command(
        ctx: click.Context, label: str, note: str | None, push: bool, as_json: bool
    ) -> None:
        store = open_store(ctx)
        change = referrals.transition(store, label, action, note)
        done = f"{change.label}: {change.previous} -> {change.data['status']} ({change.message})"
        _report_referral(store, change, push, as_json, done)


for _action in referrals.ACTIONS:
    _referral_command(_action)


@click.command()
@click.option(
    "--all", "include_all", is_flag=True, help="Every referral: yours and closed ones too."
)
@json_option
@click.pass_context
def inbox(ctx: click.Context, include_all: bool, as_json: bool) -> None:
    """List open referrals offered to you or to anyone, newest first.

    Shows each one's title, client, sender and deadline; your own referrals and
    closed ones only with --all.

    \b
    Examples:
      jobshare inbox
      jobshare inbox --all --json
    """
    items = referrals.inbox(open_store(ctx), include_all=include_all)
    if as_json:
        click.echo(render.envelope("inbox", render.to_json(items)))
    else:
        click.echo(render.inbox(items, include_all))


@click.command()
@json_option
@click.pass_context
def ledger(ctx: click.Context, as_json: bool) -> None:
    """Per friend: referrals you gave and got, accepted and completed, and the balance.

    A referral to a friend counts for that friend; one to anyone for whoever
    accepted it. Accepted counts those the other side took on (even if later
    withdrawn). The balance is the referrals you gave a friend that they accepted,
    minus the referrals they gave you that you accepted: positive when you have
    sent more work their way than you took.

    \b
    Examples:
      jobshare ledger
      jobshare ledger --json
    """
    store = open_store(ctx)
    rows = referrals.ledger(store)
    if as_json:
        click.echo(render.envelope("ledger", render.to_json(rows)))
    else:
        click.echo(render.ledger(rows, referrals.totals(rows)))


COMMANDS = (refer, referral, inbox, ledger)
