"""One module per ``gateway-contracts`` subcommand: each has ``register(subparsers)`` and ``run(args) -> int``."""
