"""Subcommands of `station`. Each module defines `register(subparsers, common)`, adding its commands with
`set_defaults(handler=...)`; a handler takes (args, settings) and returns the exit status (or a coroutine of it).
A command that must work without a config file sets `no_config=True` in its defaults."""
