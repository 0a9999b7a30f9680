"""The scrubber (BRIEF §5): key rules and shape rules, on structures, text, % arguments, exceptions and
tracebacks; innocent look-alikes untouched."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from contracts.scrub import Scrubber, default_scrubber, load_rules, normalize_key
from contracts.scrub.lines import scrub_line
from contracts.scrub.rules import compile_rules

REPO = Path(__file__).resolve().parents[2]
S = default_scrubber()
AWS = "AKIA" + "QYLPMN5HHHFPZAM2"
ANTHROPIC = "sk-ant-api03-" + "R2d2C3po" * 11 + "AA"
OPENAI = "sk-proj-" + "Xy9_kL2m" * 8
GITHUB = "ghp_" + "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY2z4A"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"


def load_corpus() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "scrub_corpus_generate", REPO / "fixtures/scrub_corpus/generate.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


# --- keys -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    ["api_key", "API-Key", "apiKey", "x-api-key", "X_API_KEY", "password", "db_password", "passwordConfirmation",
     "secret", "client_secret", "token", "access_token", "refresh-token", "authorization", "Proxy-Authorization",
     "cookie", "Set-Cookie", "prompt", "system_prompt", "messages", "content", "Content", "contents",
     "private_key", "aws_secret_access_key", "X-Ainfera-Internal-Key", "credentials"],
)  # fmt: skip
def test_sensitive_keys_redacted_case_and_separator_insensitive(key: str) -> None:
    """KEY: the sensitive keys match regardless of case and of '-' versus '_' (and camelCase), at any depth."""
    out = S.scrub_value({"outer": [{key: "value-7f3a"}]})
    assert "value-7f3a" not in json.dumps(out)


@pytest.mark.parametrize(
    "key",
    ["max_tokens", "prompt_tokens", "input_tokens", "output_tokens", "completion_tokens", "total_tokens",
     "cache_read_input_tokens", "token_type", "tokenizer", "token_count", "content_type", "Content-Length",
     "message", "model", "request_id", "trace_id", "secret_name", "keyboard", "monkey", "passage"],
)  # fmt: skip
def test_innocent_keys_kept(key: str) -> None:
    """KEY: keys that merely contain a sensitive word (token counts, content type, ids) keep their values."""
    assert S.scrub_value({key: "value-7f3a"}) == {key: "value-7f3a"}
    assert S.scrub_value({key: 512}) == {key: 512}


def test_prompt_content_is_never_logged() -> None:
    """KEY: prompt-bearing fields are redacted whole, whatever they hold (strings, lists of blocks)."""
    body = {
        "model": "ainfera-inference",
        "max_tokens": 64,
        "system": "be brief",
        "messages": [{"role": "user", "content": [{"type": "text", "text": "my ssn is 078-05-1120"}]}],
        "prompt": "complete this",
    }
    out = S.scrub_value(body)
    assert out["messages"] == "[REDACTED:prompt-content]" and out["prompt"] == "[REDACTED:prompt-content]"
    assert out["max_tokens"] == 64 and out["model"] == "ainfera-inference"
    assert "078-05-1120" not in json.dumps(out)


def test_none_under_sensitive_key_is_kept() -> None:
    """KEY: a None value shows an absent credential and is kept (it carries nothing to redact)."""
    assert S.scrub_value({"api_key": None}) == {"api_key": None}


def test_key_normalisation() -> None:
    """KEY: case, '-', '_' and '.' do not matter when keys are compared."""
    assert normalize_key("X-Api_Key") == normalize_key("xApiKey") == normalize_key("x.api.key") == "xapikey"


# --- structures -------------------------------------------------------------------------------------------


def test_nested_containers_bytes_and_json_in_strings() -> None:
    """STRUCTURE: values are found in nested dicts, lists, tuples, sets, bytes and JSON inside strings; the result
    is JSON-ready and keeps what is innocent."""
    value = {
        "a": ({"b": [AWS, {"authorization": "x"}]},),
        "raw": f"token={GITHUB}".encode(),
        "tags": {ANTHROPIC},
        "doc": json.dumps({"headers": {"Cookie": "session=abc"}, "n": 3, "key": OPENAI}),
        "n": 7,
        "ok": True,
        "nan": float("nan"),
    }
    out = S.scrub_value(value)
    text = json.dumps(out, allow_nan=False)
    for secret in (AWS, GITHUB, ANTHROPIC, OPENAI, "session=abc"):
        assert secret not in text
    assert json.loads(out["doc"])["n"] == 3
    assert out["n"] == 7 and out["ok"] is True and out["nan"] == "nan"


def test_cycles_and_depth_are_bounded() -> None:
    """STRUCTURE: a self-referencing structure or a very deep one scrubs without recursion errors."""
    loop: list[Any] = [AWS]
    loop.append(loop)
    out = S.scrub_value(loop)
    assert AWS not in json.dumps(out)
    deep: Any = ANTHROPIC
    for _ in range(200):
        deep = [deep]
    assert ANTHROPIC not in json.dumps(S.scrub_value(deep))


def test_secret_used_as_a_key() -> None:
    """STRUCTURE: a secret used as a mapping key is redacted too."""
    out = S.scrub_value({ANTHROPIC: 1})
    assert ANTHROPIC not in json.dumps(out)


# --- text -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, secret",
    [
        (f"retrying with {AWS}", AWS),
        (f"key {ANTHROPIC} rejected", ANTHROPIC),
        (f"openai {OPENAI}", OPENAI),
        (f"Authorization: Bearer {JWT}", JWT),
        ("Authorization: Basic c3ZjLWdhdGV3YXk6aHVudGVyMi1zZWNyZXQ=", "c3ZjLWdhdGV3YXk6aHVudGVyMi1zZWNyZXQ="),
        ("GET /v1/x?api_key=abc123def456&page=2", "abc123def456"),
        ("GET /v1/x?page=2&access_token=abc123def456", "abc123def456"),
        ("postgresql://gateway:hunter2-Secret@db:5432/app", "hunter2-Secret"),
        ("password=hunter2-Secret user=bob", "hunter2-Secret"),
        ("{'api_key': 'plain-value-1', 'n': 1}", "plain-value-1"),
        ('"client_secret": "plain-value-2"', "plain-value-2"),
        (
            "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7\nabc\n-----END RSA PRIVATE KEY-----",
            "MIIEowIBAAKCAQEA7",
        ),
        ("xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx", "AbCdEfGhIjKlMnOpQrStUvWx"),
        ("ai_infera_" + "Q7x2" * 8, "Q7x2" * 8),
    ],
)
def test_shapes_in_free_text(text: str, secret: str) -> None:
    """SHAPE: secrets are found by shape (and key=value) in free text, leaving the surrounding words."""
    out = S.scrub_text(text)
    assert secret not in out and "[REDACTED:" in out


@pytest.mark.parametrize(
    "text",
    [
        "request req_0123456789abcdef01234567 finished",
        "tool toolu_01A09q90qw90lq917835lq9 and call_AbCdEf0123456789GhIjKlMn",
        "hash 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "uuid 123e4567-e89b-12d3-a456-426614174000 and 123E4567-E89B-12D3-A456-426614174000",
        "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "the task-list is risk-free, ask-me-anything, sk-learn estimators",
        "max_tokens=1024 prompt_tokens=5 input_tokens: 3 output_tokens: 9",
        "Bearer authentication is required; basic information; the token limit was reached",
        "Content-Type: application/json",
        "token=None password: null",
    ],
)
def test_innocent_look_alikes_stay(text: str) -> None:
    """SHAPE: request and tool-call ids, hashes, UUIDs, trace context, words containing sk-, token counts and prose
    about credentials come out unchanged."""
    assert S.scrub_text(text) == text


def test_idempotent() -> None:
    """Scrubbing scrubbed text changes nothing more (markers are never matched again)."""
    text = f"Authorization: Bearer {JWT} ?token={OPENAI} password=x {AWS}"
    once = S.scrub_text(text)
    assert S.scrub_text(once) == once


# --- % arguments, exceptions, tracebacks ------------------------------------------------------------------


def test_exception_args_scrubbed_structurally() -> None:
    """EXCEPTION: an exception's arguments lose their secrets by key and by shape in its message."""
    exc = ValueError({"api_key": "plain-value-3", "detail": f"bad {AWS}"})
    message = S.exception_message(exc)
    assert "plain-value-3" not in message and AWS not in message and "detail" in message
    assert ANTHROPIC not in S.exception_message(KeyError(ANTHROPIC))
    assert GITHUB not in S.exception_message(OSError(2, f"no such file {GITHUB}"))


def test_traceback_scrubbed_without_frame_locals() -> None:
    """TRACEBACK: the formatted traceback (chained cause included) carries no secret from the exception
    arguments or the source lines, and no frame locals at all."""

    def failing(api_key: str) -> None:
        local_only_secret = "local-" + "Zz9" * 10  # noqa: F841 - rendered only if frame locals were
        raise RuntimeError(f"upstream refused key {api_key}") from ConnectionError(
            {"authorization": "Bearer x1y2z3w4v5"}
        )

    try:
        failing(ANTHROPIC)
    except RuntimeError as exc:
        text = S.traceback_text(type(exc), exc, exc.__traceback__)
    assert (
        "Traceback (most recent call last)" in text and "RuntimeError" in text and "ConnectionError" in text
    )
    assert ANTHROPIC not in text and "x1y2z3w4v5" not in text
    assert "local_only_secret" not in text and "Zz9Zz9" not in text  # no frame locals


# --- the rules file ---------------------------------------------------------------------------------------


def test_rules_file_compiles_with_stable_unique_ids() -> None:
    """RULES: contracts/scrubbing.yaml compiles; every rule has an id and a family; ids are unique; the shape
    rules cover at least 25 families."""
    rules = load_rules()
    assert len(set(rules.rule_ids)) == len(rules.rule_ids)
    assert all(r.id.startswith("SCRUB-") and r.family for r in rules.shapes)
    assert len({r.family for r in rules.shapes}) >= 25


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda d: d["shapes"].append(dict(d["shapes"][0])), "duplicate"),
        (lambda d: d["shapes"][0].update(pattern="(unclosed"), "does not compile"),
        (lambda d: d["shapes"][0].update(check={"name": "nope"}), "unknown check"),
        (lambda d: d.update(marker="[gone]"), "marker"),
    ],
)
def test_broken_rules_fail_at_load(mutate: Any, message: str) -> None:
    """RULES: a broken rule (duplicate id, bad pattern, unknown check, marker without family) fails when the
    scrubber is built, naming the problem, instead of silently letting secrets through."""
    import yaml

    data = yaml.safe_load((REPO / "contracts/scrubbing.yaml").read_text())
    mutate(data)
    with pytest.raises(ValueError, match=message):
        compile_rules(data)


# --- the corpus -------------------------------------------------------------------------------------------


def test_corpus_file_is_what_the_generator_writes() -> None:
    """CORPUS: fixtures/scrub_corpus/corpus.jsonl is byte for byte the generator's output for its fixed seed
    (deterministic, and never edited by hand), with at least 150 secrets from 25 families and 60 innocents."""
    gen = load_corpus()
    entries = gen.entries()
    assert (REPO / "fixtures/scrub_corpus/corpus.jsonl").read_text(encoding="utf-8") == gen.render(entries)
    assert gen.render(gen.entries()) == gen.render(entries)
    secrets_ = [e for e in entries if e.kind == "secret"]
    assert len(secrets_) >= 150 and len({e.family for e in secrets_}) >= 25
    assert len([e for e in entries if e.kind == "innocent"]) >= 60


def test_corpus_secrets_are_all_caught() -> None:
    """CORPUS: every fake secret of the corpus is caught (no fragment of it survives), scrubbing each line the
    way `gateway-contracts scrub` does."""
    gen = load_corpus()
    missed = []
    for e in gen.entries():
        if e.kind != "secret":
            continue
        out = scrub_line(S, e.line)
        width = max(6, min(12, len(e.value) // 2))
        if any(e.value[i : i + width] in out for i in range(len(e.value) - width + 1)):
            missed.append(e.id)
    assert missed == []


def test_corpus_innocents_false_positives_are_only_random_by_construction() -> None:
    """CORPUS: innocent lines come out unchanged, except public values that are random by construction (content
    ids, base64url digests), which only the generic high-entropy rule can take for keys: that cost is known and
    bounded, and the benchmark reports it."""
    gen = load_corpus()
    wrong = [e for e in gen.entries() if e.kind == "innocent" and scrub_line(S, e.line) != e.line]
    assert {e.family for e in wrong} <= {"content-id", "base64url-digest"}
    for e in wrong:
        assert {f.rule_id for f in S.findings(e.line)} == {"SCRUB-GENERIC-HIGH-ENTROPY"}


def test_scrubber_from_custom_rules() -> None:
    """A Scrubber can be built from another rules document (the CLI's --rules)."""
    import yaml

    data = yaml.safe_load((REPO / "contracts/scrubbing.yaml").read_text())
    data["shapes"] = [r for r in data["shapes"] if r["id"] != "SCRUB-AWS-ACCESS-KEY-ID"]
    custom = Scrubber(compile_rules(data))
    assert AWS in custom.scrub_text(f"id {AWS}")


def test_redacted_json_stays_json_even_when_cut() -> None:
    """Evidence bodies are cut at a size limit, so the scrubber often sees JSON that no longer parses: a value it
    redacts after a JSON key is still written as a JSON string, so what was JSON stays JSON where it is whole."""
    import json

    from contracts.scrub import default_scrubber

    body = {"id": "msg_1", "content": [{"type": "text", "text": "words " * 50}], "password": 12345, "n": 1}
    whole = json.dumps(body)
    cut = whole[: whole.index('"password"')] + '"password": 12345}'  # text-mode scrubbing, then whole again
    for text in (whole, cut):
        out = default_scrubber().scrub_text(text)
        parsed = json.loads(out)
        assert parsed["content"].startswith("[REDACTED") and parsed["password"].startswith("[REDACTED")
