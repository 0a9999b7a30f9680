"""What the network benchmarks share, one job per module.

- :mod:`.settings`: the fixed set-up (loopback host, the client key, the concurrency, the time bounds);
- :mod:`.processes`: starting the servers as processes of their own (the scripted upstream, the reference
  gateway, anything that prints a ready line) and stopping them;
- :mod:`.proxy`: the bare aiohttp pass-through proxy, the ceiling for an aiohttp gateway;
- :mod:`.portkey`: Portkey's open-source gateway (pinned in examples/portkey) as a subject;
- :mod:`.load`: the load generator and what one run of calls measured (:class:`~.load.Sample`);
- :mod:`.rounds`: warm-up, alternating rounds, cells and the pooled results;
- :mod:`.procfs`: CPU time and peak memory of a process or a process tree, from ``/proc``;
- :mod:`.record`: whether the gateway's database holds every call and its audit chain verifies;
- :mod:`.table`: percentiles and plain-text tables;
- :mod:`.cli`: running a benchmark so that a failure is one line, not a traceback.
"""
