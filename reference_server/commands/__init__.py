"""One module per ``reference-gateway`` subcommand: each has ``register(subparsers)`` and ``run(args) -> int``."""
