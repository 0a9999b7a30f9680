"""Log files that are not JSON lines (nesting, number size, NaN, every truncation of a good record, binary,
non-objects, crossed with repetitions and line endings) or not files, against ``check --log-file``; and the log
reader itself on thousands of generated lines."""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway_contracts.errors import EXIT_BAD_LOG
from gateway_contracts.logs import LogFileError, check_is_json_lines, line_count, parse_record, read_lines
from tests.harness.hostile.cases import (
    SEED,
    Case,
    assert_all_pass,
    bad_log_lines,
    run_all,
    run_case,
    suite_argv,
)


def log_files(base: Path) -> Iterator[tuple[str, Path]]:
    """Each bad line once, and 25 times with LF, CRLF or no final ending."""
    for (name, line), (count, ending) in itertools.product(
        bad_log_lines(), [(1, b"\n"), (25, b"\r\n"), (2, b"")]
    ):
        path = base / f"{name}-x{count}-{ending.hex() or 'none'}.log"
        path.write_bytes((line + b"\n") * (count - 1) + line + ending)
        yield path.stem, path


def test_check_on_bad_log_files(stub_target: str, files: dict[str, Path], tmp_path: Path) -> None:
    """Log files that are not JSON lines, or not files: exit 5, one line, bounded time and memory."""
    logs = tmp_path / "logs"
    logs.mkdir()
    inputs = [(name, path, True) for name, path in log_files(logs)]
    inputs += [(f"special-{name}", path, False) for name, path in files.items() if name != "garbage_db"]
    inputs += [("dev-zero", Path("/dev/zero"), False), ("dev-urandom", Path("/dev/urandom"), False)]
    cases = [
        Case(
            f"check-log-{name}",
            suite_argv("check", stub_target, "--log-file", str(path), "--report-dir", str(tmp_path / name)),
            frozenset({EXIT_BAD_LOG}),
            in_process=here,
        )
        for name, path, here in inputs
    ]
    assert_all_pass(run_all(cases))


def generated_lines(count: int) -> Iterator[bytes]:
    """Bad lines as above, and random splices of JSON fragments: brackets, numbers, strings, constants."""
    for _, line in bad_log_lines():
        yield line
    rng = random.Random(SEED + 5)
    atoms = [
        b"[",
        b"]",
        b"{",
        b"}",
        b'"a":',
        b",",
        b"1e999",
        b"9" * 4400,
        b"NaN",
        b'"\\ud800"',
        b"\xff",
        b"null",
    ]
    for _ in range(count):
        yield b"".join(rng.choice(atoms) for _ in range(rng.randint(1, 40))) * rng.choice([1, 2, 5])


def test_log_reader_never_raises_on_generated_lines(tmp_path: Path) -> None:
    """Thousands of generated lines through the log reader: each is a record or None with a reason."""
    path = tmp_path / "generated.log"
    lines = list(generated_lines(2000))
    path.write_bytes(b"\n".join(lines) + b"\n")
    read = read_lines(path)
    assert len(read) == len(lines) == line_count(path)
    for line in read:
        assert (line.record is None) == bool(line.reason), line
        assert "\n" not in line.reason
    assert [ln.number for ln in read_lines(path, 100)][:1] == [101]


def test_log_lines_nested_too_deeply_or_with_numbers_too_long_are_not_records(
    stub_target: str, tmp_path: Path
) -> None:
    """A log line nested 100,000 deep or holding a 5,000-digit number is "not a JSON object", with its reason;
    ``check --log-file`` on such a log is one line and exit 5, not a traceback."""
    assert parse_record("[" * 100_000 + "]" * 100_000) == (None, "not JSON (nested too deeply to read)")
    assert parse_record('{"n": ' + "9" * 5000 + "}") == (None, "not JSON (a number too long to read)")
    assert parse_record('{"t": NaN}')[0] is None
    assert parse_record('{"ok": 1}') == ({"ok": 1}, "")
    log = tmp_path / "gateway.log"
    log.write_text("[" * 100_000 + "]" * 100_000 + "\n" + '{"n": ' + "9" * 5000 + "}\n")
    with pytest.raises(LogFileError, match="nested too deeply"):
        check_is_json_lines(log)
    argv = suite_argv("check", stub_target, "--log-file", str(log), "--report-dir", str(tmp_path / "r"))
    outcome = run_case(Case("check-nested-log", argv, frozenset({EXIT_BAD_LOG})))
    assert not outcome.problems, outcome
    assert "not a JSON-lines log" in outcome.stderr and "nested too deeply" in outcome.stderr


def test_a_line_still_being_written_is_not_judged_until_it_ends(tmp_path: Path) -> None:
    """A gateway's write that crosses a page boundary shows a reader its first part first: the suite reads a live
    log, so a last line without its newline is not read yet (neither a record nor a bad line); once its end is
    written it is. The preflight, which judges a file before any call, still refuses a file of one bad line
    without an ending."""
    log = tmp_path / "gateway.log"
    first = b'{"level":"INFO","request_id":"a","message":"one"}\n'
    second = b'{"level":"INFO","request_id":"b","message":"two"}\n'
    log.write_bytes(first + second[:20])
    lines = read_lines(log)
    assert [ln.record for ln in lines] == [{"level": "INFO", "request_id": "a", "message": "one"}]
    assert line_count(log) == 2  # counted, so a call's lines start after it
    log.write_bytes(first + second)
    assert [ln.record["request_id"] for ln in read_lines(log) if ln.record] == ["a", "b"]
    assert [ln.number for ln in read_lines(log, start=1)] == [2]
    garbage = tmp_path / "garbage.log"
    garbage.write_bytes(b"not json at all")
    with pytest.raises(LogFileError, match="not a JSON-lines log"):
        check_is_json_lines(garbage)
