"""A bulk `registry import` parsed in another process, run in a process of its own for a test
to kill: it prints a line as each batch is loaded."""

from __future__ import annotations

import sys
from pathlib import Path

from civicstack.kit.cli_support import CLI_ACTOR
from civicstack.kit.db import make_engine, make_session_factory
from civicstack.registry.importer import import_persons


def main(url: str, path: str) -> None:
    import_persons(make_session_factory(make_engine(url)), Path(path), CLI_ACTOR,
                   batch_size=100, bulk=True, parser_process=True,
                   on_progress=lambda _bytes, rows: print(f"loaded {rows}", flush=True))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
