"""``gpuless chat``: the command; its REPL (rich, the streaming client) is imported when it runs."""

from __future__ import annotations

import sys

import click

from toolkit.cli.group import cli, current_settings
from toolkit.cli.options import server_options, think_option
from toolkit.core.target import check_target
from toolkit.services.server_url import server_url, typed_by_user


@cli.command()
@click.option("--model", help="Model to chat with (default: the first one the server lists).")
@server_options
@think_option
@click.option("--num-predict", type=click.IntRange(1), help="Cap on tokens per answer.")
@click.option("--timeout", type=click.FloatRange(0.01), default=300.0, show_default=True,
              help="Seconds to wait for the next bytes of an answer (Ctrl-C stops one sooner).")  # fmt: skip
def chat(
    model: str | None, url: str | None, api: str, think: bool, num_predict: int | None, timeout: float
) -> None:
    """Chat with a model in the terminal (Ctrl-C stops an answer, /help lists commands)."""
    from toolkit.cli.chat_repl import ChatRepl

    settings = current_settings()
    options = {"num_predict": num_predict} if num_predict else {}
    resolved = server_url(url, settings)
    repl = ChatRepl(
        check_target(resolved, explicit=typed_by_user(url, resolved, settings), command="chat"),
        model or "",
        api=api,  # type: ignore[arg-type]
        save_dir=settings.data_dir / "chats",
        options=options,
        timeout=timeout,
        think=think,
    )
    try:
        if model is None:
            from toolkit.services.models import server_default_model

            repl.conversation.model = repl.settle(server_default_model(repl._client()))
        else:
            repl.check_model(model)
    except BaseException:
        repl.close()
        raise
    sys.exit(repl.run())
