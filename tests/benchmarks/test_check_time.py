"""benchmarks.check_time splits a run's whole wall time into phases that add up to it, tests under their profile."""

from __future__ import annotations

from benchmarks.check_time import Run, phases, slowest


def test_phases_add_up_to_the_wall_time() -> None:
    run = Run(
        wall=10.0,
        cpu=12.0,
        code=0,
        launched=100.0,
        lines=[
            (100.5, "gateway-contracts: starting the embedded reference gateway on a fresh SQLite database"),
            (102.0, "gateway-contracts: checking the gateway at http://127.0.0.1:1 (profiles: wire; seed 0)"),
            (109.5, "gateway-contracts: PASS"),
        ],
    )
    events = [
        {"event": "configure", "t": 102.2},
        {"event": "collected", "t": 102.5},
        {
            "event": "test",
            "nodeid": "a",
            "when": "setup",
            "start": 102.5,
            "stop": 102.6,
            "clauses": ["WIRE-001"],
        },
        {
            "event": "test",
            "nodeid": "a",
            "when": "call",
            "start": 102.6,
            "stop": 104.6,
            "clauses": ["WIRE-001"],
        },
        {
            "event": "test",
            "nodeid": "b",
            "when": "call",
            "start": 104.7,
            "stop": 105.7,
            "clauses": ["CAP-001"],
        },
        {"event": "test", "nodeid": "c", "when": "call", "start": 105.8, "stop": 106.0, "clauses": []},
        {"event": "sessionfinish", "t": 106.5},
        {"event": "unconfigure", "t": 107.0},
    ]
    split = dict(phases(run, events, {"WIRE-001": "wire", "CAP-001": "capture"}))
    assert abs(sum(split.values()) - run.wall) < 1e-9
    assert split["interpreter, CLI imports"] == 0.5
    assert split["target start, preflight"] == 1.5
    assert round(split["tests: wire"], 6) == 2.1
    assert round(split["tests: capture"], 6) == 1.0
    assert round(split["tests: (not a clause test)"], 6) == 0.2
    assert round(split["pytest between tests"], 6) == 0.7
    assert round(split["target stop, report files"], 6) == 2.5
    assert round(split["exit"], 6) == 0.5
    assert [name for name, _ in slowest(events, 2)] == ["a", "b"]


def test_without_check_s_lines_start_up_is_one_phase() -> None:
    run = Run(wall=5.0, cpu=1.0, code=2, launched=0.0, lines=[])
    split = dict(phases(run, [], {}))
    assert abs(sum(split.values()) - 5.0) < 1e-9
    assert "start-up (before pytest)" in split and "after pytest" in split
