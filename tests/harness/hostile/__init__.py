"""The harness's hostile-input corpus, one test module per kind of input: its commands given bad arguments and bad input files, as a CI script can.

Generated, not listed: URLs for ``--target`` and ``--db-url`` are built from schemes, separators, authorities
and tails (a seeded sample of their product); log files from bad lines (nesting, number size, NaN, every
truncation of a good record, binary, non-objects) crossed with repetitions and line endings, plus the files that
are not files (``/dev/zero``, a named pipe that never closes, a directory, a sparse file of gigabytes); event
streams and scrub inputs that are binary, endless, one huge line or nested beyond the parser.

Every case runs the real command line (``python -m gateway_contracts.cli``) in a subprocess under
``RLIMIT_AS`` (a memory blow-up is a failure, not a machine that swaps) and a timeout, and must end with one of
the statuses its command documents, one line on stderr and no traceback. Network traffic stays on 127.0.0.1:
the only hosts generated are 127.0.0.1 or URLs that cannot be parsed.

Alongside, in-process corpora push thousands of generated lines and streams through the readers themselves
(``gateway_contracts.logs``, the SSE validators), which must never raise.
"""
