"""``ctk completion SHELL``: print the shell completion script (Click's own mechanism)."""

from __future__ import annotations

import click

SHELLS = ("bash", "zsh", "fish")
COMPLETE_VAR = "_CTK_COMPLETE"


@click.command("completion")
@click.argument("shell", type=click.Choice(SHELLS))
def command(shell: str) -> None:
    """Print the completion script for SHELL (bash, zsh or fish).

    \b
    bash:  eval "$(ctk completion bash)"    (in ~/.bashrc)
    zsh:   eval "$(ctk completion zsh)"     (in ~/.zshrc)
    fish:  ctk completion fish > ~/.config/fish/completions/ctk.fish
    """
    from click.shell_completion import get_completion_class

    completion_class = get_completion_class(shell)
    if completion_class is None:  # pragma: no cover - Click ships all three
        raise click.UsageError(f"Click has no completion for {shell}.")
    root = click.get_current_context().find_root().command  # the `ctk` group
    script = completion_class(root, {}, "ctk", COMPLETE_VAR).source()
    click.echo(script, nl=not script.endswith("\n"))
