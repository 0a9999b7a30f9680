"""Event streams and scrub inputs that are binary, endless, one huge line or nested beyond the parser, against
``sse-lint`` and ``scrub`` (and ``check --log-file`` on endless files); and the SSE validators themselves on
generated payloads."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from gateway_contracts.errors import EXIT_BAD_LOG, EXIT_FAILED, EXIT_USAGE
from tests.harness.hostile.cases import (
    SEED,
    TIMEOUT,
    Case,
    Endless,
    assert_all_pass,
    bad_log_lines,
    run_all,
    suite_argv,
)

START = (
    b'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_1","type":"message",'
    b'"role":"assistant","model":"m","content":[],"stop_reason":null,"stop_sequence":null,'
    b'"usage":{"input_tokens":1,"output_tokens":1}}}\n\n'
    b'event: content_block_start\ndata: {"type":"content_block_start","index":0,'
    b'"content_block":{"type":"text","text":""}}\n\n'
)
DELTA = (
    b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,'
    b'"delta":{"type":"text_delta","text":"Hello"}}\n\n'
)


def stream_inputs(files: dict[str, Path], base: Path) -> Iterator[tuple[str, tuple[str, ...], Any, set[int]]]:
    """(name, arguments, stdin, statuses) for sse-lint: 1 is a stream with violations, 2 an input that cannot
    be read or is over a limit."""
    small = ("--max-total-bytes", "8MiB")
    yield "dev-zero-file", ("/dev/zero",), None, {EXIT_USAGE}
    yield "dev-zero-stdin", ("-",), Endless(b"\x00"), {EXIT_USAGE}
    yield "endless-valid-default-limits", ("-",), Endless(DELTA, START), {EXIT_USAGE}
    yield "endless-valid", ("-", *small), Endless(DELTA, START), {EXIT_USAGE}
    yield "endless-violations", ("-",), Endless(b"data: x\n\n"), {EXIT_FAILED}
    yield "endless-one-event", ("-", "--max-event-bytes", "1MiB"), Endless(b"data: x\n"), {EXIT_USAGE}
    yield "endless-cr-lines", ("-", "--max-event-bytes", "1MiB"), Endless(b"data: x\r"), {EXIT_USAGE}
    yield "sparse-line", (str(files["sparse_line"]),), None, {EXIT_USAGE}
    yield "binary", (str(files["binary"]),), None, {EXIT_FAILED, EXIT_USAGE}
    yield "directory", (str(files["directory"]),), None, {EXIT_USAGE}
    yield "missing", (str(files["missing"]),), None, {EXIT_USAGE}
    for name, line in bad_log_lines():
        for dialect in ("anthropic", "openai"):
            path = base / f"{name}-{dialect}.sse"
            path.write_bytes(b"data: " + line + b"\n\n")
            yield f"{name}-{dialect}", (str(path), "--dialect", dialect), "here", {EXIT_FAILED}
    huge = base / "huge-line.sse"
    huge.write_bytes(b"data: " + b"a" * (17 * 1024 * 1024))
    yield "huge-line", (str(huge),), None, {EXIT_USAGE}


def scrub_inputs(files: dict[str, Path], base: Path) -> Iterator[tuple[str, tuple[str, ...], Any, set[int]]]:
    """(name, arguments, stdin, statuses) for scrub: 0 scrubbed, 1 --check found secrets, 2 unreadable or over
    a limit."""
    yield "dev-zero-file", ("/dev/zero",), None, {EXIT_USAGE}
    yield "dev-zero-stdin", (), Endless(b"\x00"), {EXIT_USAGE}
    yield "dev-zero-check", ("--check", "/dev/zero"), None, {EXIT_USAGE}
    yield "endless-lines", ("--max-total-bytes", "4MiB"), Endless(b'{"password":"hunter2"}\n'), {EXIT_USAGE}
    yield (
        "endless-lines-check",
        ("--check", "--max-total-bytes", "1MiB"),
        Endless(b"x" * 99 + b"\n"),
        {EXIT_USAGE},
    )
    yield "sparse-line", (str(files["sparse_line"]),), None, {EXIT_USAGE}
    yield "directory", (str(files["directory"]),), None, {EXIT_USAGE}
    yield "missing", (str(files["missing"]),), None, {EXIT_USAGE}
    yield "binary", (str(files["binary"]),), None, {0}
    for name, line in bad_log_lines():
        path = base / f"{name}.log"
        path.write_bytes(line + b"\n" + b'{"password": "hunter2"}\n')
        yield f"{name}", (str(path),), "here", {0}
        yield f"{name}-check", ("--check", str(path)), "here", {EXIT_FAILED}
        yield f"{name}-stdin", ("--summary",), (line + b"\n") * 3, {0}


def test_sse_lint_and_scrub_on_hostile_inputs(files: dict[str, Path], tmp_path: Path) -> None:
    """Binary, endless, one huge line, nested beyond the parser: a verdict or one line and exit 2, in bounded
    time and memory; never a traceback or a MemoryError."""
    cases = []
    for name, args, stdin, statuses in stream_inputs(files, tmp_path):
        # 256 MiB of valid stream at the default limit takes ~10 s alone, more beside the other cases.
        timeout = 3 * TIMEOUT if "default-limits" in name else TIMEOUT
        here = stdin == "here"  # a small file: through cli.main in this process
        feed = None if here else stdin
        argv = ("sse-lint", *args)
        cases.append(Case(f"sse-lint-{name}", argv, frozenset(statuses), feed, timeout, in_process=here))
    for name, args, stdin, statuses in scrub_inputs(files, tmp_path):
        here = stdin == "here"
        feed = None if here else stdin
        cases.append(Case(f"scrub-{name}", ("scrub", *args), frozenset(statuses), feed, in_process=here))
    assert_all_pass(run_all(cases))


def test_sse_validators_never_raise_on_generated_payloads() -> None:
    """Every JSON value of every valid vector replaced, in turn, by a value nested beyond the parser's reach or
    a number too long: each stream gets violations (or none), never an exception."""
    from gateway_contracts.sse import validate
    from tests.sse.vectors import VECTOR_DIR

    deep: list[Callable[[int], str]] = [
        lambda d: "[" * d + "]" * d,
        lambda d: '{"a":' * d + "1" + "}" * d,
    ]
    rng = random.Random(SEED + 6)
    checked = 0
    for vector in sorted(VECTOR_DIR.glob("*/valid*.sse")):
        dialect = vector.parent.name
        frames = vector.read_text(encoding="utf-8").split("\n\n")
        for i, frame in enumerate(frames):
            head, _, data = frame.rpartition("data: ")
            try:
                payload = json.loads(data)
            except ValueError:
                continue
            for where in _paths(payload):
                make = rng.choice(deep)
                depth = rng.choice([127, 129, 990, 5000])
                value = make(depth) if rng.random() < 0.8 else "9" * 5000
                mutated = json.dumps(_replaced(payload, where, "@@@")).replace('"@@@"', value, 1)
                stream = "\n\n".join([*frames[:i], head + "data: " + mutated, *frames[i + 1 :]])
                validate(stream, dialect)  # type: ignore[arg-type]
                checked += 1
    assert checked > 500


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*prefix, index))


def _replaced(value: Any, where: tuple[Any, ...], new: Any) -> Any:
    if not where:
        return new
    copy = json.loads(json.dumps(value))
    cursor = copy
    for key in where[:-1]:
        cursor = cursor[key]
    cursor[where[-1]] = new
    return copy


def test_endless_and_huge_inputs_end_in_one_line_within_bounded_memory(
    stub_target: str, files: dict[str, Path], tmp_path: Path
) -> None:
    """``check --log-file /dev/zero`` (and a named pipe that never closes) is refused at once; ``sse-lint`` and
    ``scrub`` on endless input or one huge line stop at their limits: one line, exit 2 or 5, under 2 GiB of
    address space, within seconds."""
    report = str(tmp_path / "r")
    cases = [
        Case(
            "check-dev-zero",
            suite_argv("check", stub_target, "--log-file", "/dev/zero", "--report-dir", report),
            frozenset({EXIT_BAD_LOG}),
        ),
        Case(
            "check-fifo",
            suite_argv("check", stub_target, "--log-file", str(files["fifo"]), "--report-dir", report),
            frozenset({EXIT_BAD_LOG}),
        ),
        Case("sse-lint-dev-zero", ("sse-lint", "/dev/zero"), frozenset({EXIT_USAGE})),
        Case("sse-lint-endless-stdin", ("sse-lint", "-"), frozenset({EXIT_USAGE}), Endless(b"data: ")),
        Case("scrub-dev-zero", ("scrub", "/dev/zero"), frozenset({EXIT_USAGE})),
        Case("scrub-endless-stdin", ("scrub",), frozenset({EXIT_USAGE}), Endless(b"\x00" * 4096)),
        Case("scrub-huge-line", ("scrub", str(files["sparse_line"])), frozenset({EXIT_USAGE})),
    ]
    outcomes = run_all(cases)
    assert_all_pass(outcomes)
    said = {o.case.id: o.stderr for o in outcomes}
    assert "not a regular file" in said["check-dev-zero"] and "not a regular file" in said["check-fifo"]
    assert (
        "longer than 16 MiB" in said["sse-lint-dev-zero"] and "--max-event-bytes" in said["sse-lint-dev-zero"]
    )
    assert "longer than 1 MiB" in said["scrub-dev-zero"] and "--max-line-bytes" in said["scrub-dev-zero"]
    assert all(o.seconds < 10 for o in outcomes), [(o.case.id, round(o.seconds, 1)) for o in outcomes]
