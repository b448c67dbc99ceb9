"""The ``pool`` subcommands: other laptops' shares behind this laptop's gateway, their state, the plan.

The work is ``toolkit.services.pool``; this module parses the options and prints. Text a member sent (its
model names, an error it answered) is made terminal-safe first. The pool key is never printed.
"""

from __future__ import annotations

from typing import Any

import click

from toolkit.cli.group import cli, current_settings
from toolkit.cli.output import emit_json, json_option
from toolkit.core.estimate.grades import grade_meaning
from toolkit.core.safe_text import terminal_safe


@cli.group()
def pool() -> None:
    """Put teammates' laptops behind this laptop's gateway: one URL, requests spread by load.

    \b
    On each teammate's laptop: `gpuless share --listen ADDR:PORT --add-key pool`
    (the key named "pool" is the one every member accepts). Here, sharing first:
    `gpuless pool add http://ADDR:PORT --key THAT-KEY`.
    """


def _capacity(capacity: Any) -> dict[str, Any] | None:
    return None if capacity is None else capacity.to_dict()


@pool.command("add")
@json_option
@click.argument("url")
@click.option("--key", help="The pool key that laptop's share accepts (`share --add-key pool` there).")
@click.option("--model", help="The model the pool serves (first member only; default: one both serve).")
def add(as_json: bool, url: str, key: str | None, model: str | None) -> None:
    """Add another laptop's share to the pool (checked first; the gateway reloads without cutting streams)."""
    from toolkit.services import pool as service

    new, member = service.add(current_settings(), url, key, model)
    if as_json:
        emit_json({"url": member.url, "model": new.model, "capacity": _capacity(member.capacity)})
        return
    click.echo(f"added {terminal_safe(member.url)} to the pool (model {terminal_safe(new.model or '')})")
    if member.capacity is None:
        click.echo("  it has published no measured capacity: it is weighted like the others until it has")
        click.echo("  (on that laptop: `gpuless bench`, then `gpuless share`; then `gpuless pool add` again)")
    else:
        users = ", ".join(f"{g} {member.capacity.at(g)}" for g in ("A", "B", "C"))
        click.echo(f"  measured users per grade: {users}")
    click.echo(f"{len(new.members) + 1} members (this laptop included); `gpuless pool status` shows them")


@pool.command("remove")
@json_option
@click.argument("url")
def remove(as_json: bool, url: str) -> None:
    """Take a laptop out of the pool (the gateway reloads; its streams in flight finish)."""
    from toolkit.services import pool as service

    left = service.remove(current_settings(), url)
    if as_json:
        emit_json({"removed": url, "members": [m.url for m in left.members]})
        return
    click.echo(f"removed {terminal_safe(url)}; {len(left.members) + 1} member(s) left, this laptop included")


@pool.command("status")
@json_option
def status(as_json: bool) -> None:
    """Each member now: up or down, whether it serves the pool's model, requests in flight, capacity."""
    from toolkit.services import pool as service

    state = service.status(current_settings())
    if as_json:
        rows = [
            {
                "name": row.name,
                "address": row.address,
                "up": row.health.up,
                "reason": row.health.reason or None,
                "models": list(row.health.models),
                "serves_model": row.serves,
                "in_flight": row.health.in_flight,
                "capacity": _capacity(row.capacity),
                "weight": row.weight,
            }
            for row in state.members
        ]
        emit_json({"url": state.url, "model": state.model, "in_flight": state.in_flight, "members": rows})
        return
    flight = "unreadable" if state.in_flight is None else str(state.in_flight)
    click.echo(f"pool at {state.url}  model {terminal_safe(state.model or 'not set')}  in flight {flight}")
    header = f"  {'member':<28} {'health':<6} {'model':<7} {'in flight':>9} {'users A/B/C':>12} {'weight':>6}"
    click.echo(header)
    for row in state.members:
        health = "up" if row.health.up else "down"
        serves = "yes" if row.serves else "no"
        flight = "—" if row.health.in_flight is None else str(row.health.in_flight)
        cap = row.capacity
        users = "unmeasured" if cap is None else f"{cap.at('A')}/{cap.at('B')}/{cap.at('C')}"
        name = terminal_safe(row.name, one_line=True)[:28]
        click.echo(f"  {name:<28} {health:<6} {serves:<7} {flight:>9} {users:>12} {row.weight:>6}")
        if not row.health.up:
            click.echo(f"      {terminal_safe(row.health.reason, one_line=True)}")
    click.echo(
        "  in flight: what each member's gateway is answering now, from every client (this laptop's"
        " Ollama has no counter: —)."
    )
    click.echo("  health is this probe's; nginx marks a member down after 2 failed requests, for 10 s.")


@pool.command("plan")
@json_option
@click.option("--users", type=click.IntRange(1, 10_000), required=True, help="Users at once.")
@click.option(
    "--grade",
    type=click.Choice(["A", "B", "C"], case_sensitive=False),
    default="C",
    show_default=True,
    help="Speed each user must get: A 70, B 30, C 15 tok/s.",
)
def plan(as_json: bool, users: int, grade: str) -> None:
    """Whether the pool's measured capacity holds N users at a grade, and if not, what would."""
    from toolkit.services import pool as service

    result = service.plan(current_settings(), users, grade.upper())
    if as_json:
        emit_json(
            {
                "users": result.users,
                "grade": result.grade,
                "held": result.held,
                "holds": result.holds,
                "floor": result.floor,
                "members": [{"name": name, "users": n} for name, n in result.members],
                "suggestions": list(result.suggestions),
            }
        )
        return
    for name, n in result.members:
        held = "unmeasured" if n is None else f"{n} users"
        click.echo(f"  {terminal_safe(name, one_line=True):<28} {held}")
    more = " (or more: a sweep stopped before the grade failed)" if result.floor else ""
    verdict = "holds" if result.holds else "does not hold"
    click.echo(
        f"The pool {verdict} {users} users at grade {grade_meaning(result.grade)}: "
        f"it holds {result.held}{more}, as measured."
    )
    for tip in result.suggestions:
        click.echo(f"  - {tip}")
