"""``gateway-contracts fuzz``: schemathesis from the contract's OpenAPI documents, with the contract's checks.

* ``document``  - the public document with the internal ``/metrics`` merged in (one run, one seed);
* ``config``    - the run's ``schemathesis.toml``: checks, auth, sanitization, fuzz dictionaries;
* ``hooks``     - the contract checks registered with schemathesis (SSE grammar, error envelope, secret echo,
  capture invariant, valid data accepted); ``streams``, ``envelope``, ``canaries``, ``capture`` and
  ``refusals`` hold their logic as plain functions;
* ``runner``    - ``schemathesis run`` as a subprocess; ``events`` reads its NDJSON report;
* ``findings``  - one finding per operation, check and title, each with a curl reproduction; ``baseline``
  accepts known ones so CI fails only on new findings; ``summary`` shows what the run exercised.
"""
