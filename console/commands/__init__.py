"""Subcommands of `station`. Each module defines `register(subparsers, common)`, adding its commands with
`set_defaults(handler=...)`; a handler takes (args, settings) and returns the exit status (or a coroutine of it).
A command that must work without a station sets `language_only=True` in its defaults: it takes `--config` like
every command, but reads only the language from it (and needs no config file at all)."""
