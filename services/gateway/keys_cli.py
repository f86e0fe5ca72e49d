"""`jetscribe-keys`: make an API key for a tenant, or hash an existing one."""

from __future__ import annotations

import typer
from rich.console import Console

from .auth import hash_key, new_key

app = typer.Typer(help="API keys of the jetscribe gateway (configured as SHA-256 hashes).")
console = Console()


@app.command()
def new(tenant: str = typer.Argument(..., help="The tenant the key belongs to.")) -> None:
    """Make a key: give the key to the client, put the entry into API_KEYS."""
    key = new_key()
    console.print(f"key (give to the client, shown once): [bold]{key}[/bold]")
    console.print(f"API_KEYS entry: {tenant}:{hash_key(key)}")


@app.command("hash")
def hash_existing(tenant: str, key: str = typer.Option(..., prompt=True, hide_input=True)) -> None:
    """The API_KEYS entry of an existing key."""
    console.print(f"{tenant}:{hash_key(key)}")


def main() -> None:
    app()
