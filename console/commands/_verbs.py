"""A command with verbs (`station allocation add …`): each verb a parser of its own that takes the common options
(`--config`, `--operator`) and names the handler that runs it."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any


class Verbs:
    def __init__(self, sub: argparse._SubParsersAction, common: argparse.ArgumentParser, command: str,
                 help: str) -> None:  # fmt: skip
        parser = sub.add_parser(command, help=help)
        self._verbs = parser.add_subparsers(dest="verb", metavar="VERB", required=True)
        self._common = common

    def add(self, verb: str, help: str, handler: Callable[..., Any], **defaults: Any) -> argparse.ArgumentParser:
        """The verb's parser, for its own arguments; `defaults` are set on its namespace besides the handler."""
        parser = self._verbs.add_parser(verb, parents=[self._common], help=help)
        parser.set_defaults(handler=handler, **defaults)
        return parser
