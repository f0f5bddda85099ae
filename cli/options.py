"""Options that several commands take, spelled once."""

from __future__ import annotations

from typing import Annotated

import typer

School = Annotated[str, typer.Option(help="School id")]
JsonReport = Annotated[bool, typer.Option("--json", help="Machine-readable report")]
