"""The grammar file as a contract: it loads, its tables are total, its holes are load errors, its clauses are the
catalogue's, and the Anthropic table accepts exactly the language BRIEF §2 writes down."""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from contracts import CONTRACTS_DIR
from contracts.clauses import load_catalogue
from gateway_contracts.sse import (
    GrammarError,
    clause_ids,
    grammar,
    load_clauses,
    machine,
    validate,
    validator_for,
)
from gateway_contracts.sse.grammar import CLAUSE_FILE, GRAMMAR_FILE, Cell, Grammar, load_grammars
from gateway_contracts.sse.rules import RULES
from tests.sse.vectors import VALID, VECTOR_DIR, Vector


def test_both_dialects_load_with_total_tables() -> None:
    for dialect in ("anthropic", "openai"):
        g = grammar(dialect)
        assert g.initial in g.states
        for state in g.states:
            assert set(g.table[state]) == set(g.events)
            for cell in g.table[state].values():
                assert cell.target in g.states


def test_clause_file_matches_the_catalogue_schema_and_loads_there() -> None:
    schema = json.loads((CONTRACTS_DIR / "clause.schema.json").read_text(encoding="utf-8"))
    doc = yaml.safe_load(CLAUSE_FILE.read_text(encoding="utf-8"))
    assert list(Draft202012Validator(schema).iter_errors(doc)) == []
    keys = {"id", "level", "profile", "title", "statement", "source"}
    assert all(set(raw) == keys for raw in doc["clauses"])
    catalogue = load_catalogue()
    for clause in load_clauses():
        entry = catalogue.clauses[clause.id]
        assert (entry.level, entry.profile, entry.title) == (clause.level, clause.profile, clause.title)


def test_clause_ids_by_dialect() -> None:
    assert all(c.startswith("SSE-") for c in clause_ids("anthropic"))
    assert all(c.startswith("OAI-SSE-") for c in clause_ids("openai"))
    assert {c.profile for c in load_clauses() if c.id.startswith("SSE-")} == {"wire"}
    assert {c.profile for c in load_clauses() if c.id.startswith("OAI-SSE-")} == {"openai"}
    # Framing strictness is SHOULD; everything about what the events say is MUST.
    should = {c.id for c in load_clauses() if c.level == "SHOULD"}
    assert should == {f"{p}-00{n}" for p in ("SSE", "OAI-SSE") for n in range(1, 5)}


# -- holes in the contract are load errors ----------------------------------------------------------------------


def broken(tmp_path: Path, edit: Any) -> Path:
    doc = yaml.safe_load(GRAMMAR_FILE.read_text(encoding="utf-8"))
    edit(doc["dialects"])
    path = tmp_path / "sse-grammar.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda d: d["anthropic"]["transitions"]["BLOCK"].pop("message_delta"),
            "no cell for state BLOCK, event message_delta",
        ),
        (
            lambda d: d["anthropic"]["transitions"]["DONE"].update(ping="NOWHERE"),
            "target 'NOWHERE' is not a state",
        ),
        (
            lambda d: d["anthropic"]["transitions"]["DONE"].update(
                ping={"reject": "SSE-999", "then": "DONE"}
            ),
            "'SSE-999' is not a SSE-NNN",
        ),
        (
            lambda d: d["openai"]["transitions"]["DONE"].update(chunk={"reject": "SSE-017", "then": "DONE"}),
            "is not a OAI-SSE-NNN",
        ),
        (
            lambda d: d["anthropic"]["transitions"]["START"].update(ping={"reject": "SSE-010"}),
            "needs `then: <state>`",
        ),
        (lambda d: d["anthropic"]["transitions"].pop("STOPPING"), "a row for each state"),
        (
            lambda d: d["anthropic"]["checks"].update(usage_cumulative="SSE-024"),
            "clauses no dialect can report: SSE-025",
        ),
        # The names the file gives code: each must be registered by the dialect's code, and the reverse.
        (
            lambda d: d["openai"].update(
                state_triggered=[{"from": "STREAMING", "to": "FINISHED", "when": "moon_is_full"}]
            ),
            "state_triggered condition 'moon_is_full' is not a condition of the openai validator",
        ),
        (
            lambda d: d["anthropic"]["checks"].update(moon_phase="SSE-025"),
            "'moon_phase' is not a check of the anthropic validator",
        ),
        (
            lambda d: d["anthropic"]["checks"].pop("usage_cumulative"),
            "no clause for 'usage_cumulative' (a check of the anthropic validator)",
        ),
        (
            lambda d: d["openai"].update(
                state_triggered=[
                    {"from": "STREAMING", "to": "FINISHED", "when": "all_choices_finished"},
                    {"from": "FINISHED", "to": "STREAMING", "when": "all_choices_finished"},
                ]
            ),
            "state_triggered transitions from STREAMING lead back to it",
        ),
        # The framing faults are the parser's, all of them.
        (lambda d: d["openai"]["framing"].pop("bom"), "no clause for 'bom' (a framing fault of the parser)"),
        (
            lambda d: d["openai"]["framing"].update(tabs="OAI-SSE-001"),
            "'tabs' is not a framing fault of the parser",
        ),
        # Every event read from the stream has its schema (or is a sentinel), and every schema is decidable.
        (lambda d: d["anthropic"]["schemas"].pop("ping"), "event ping has no schema (and is no sentinel)"),
        (lambda d: d["openai"].pop("sentinels"), "event done has no schema (and is no sentinel)"),
        (
            lambda d: d["anthropic"]["schemas"].update(pong={"type": "object"}),
            "'pong' in schemas or sentinels is not an event of the table",
        ),
        (
            lambda d: d["anthropic"]["schemas"]["ping"].update(patternProperties={"^x": {"type": "string"}}),
            "anthropic.schemas.ping: schema keyword 'patternProperties' is not supported",
        ),
        (
            lambda d: d["openai"]["schemas"]["chunk"]["properties"].update(created={"type": "integr"}),
            "openai.schemas.chunk: not a valid JSON Schema",
        ),
    ],
)
def test_a_hole_in_the_grammar_is_a_load_error(tmp_path: Path, edit: Any, message: str) -> None:
    with pytest.raises(GrammarError, match=re.escape(message)):
        load_grammars(broken(tmp_path, edit))


def test_a_missing_cell_at_run_time_names_it() -> None:
    """Only a state or an event outside the grammar can miss (the table is total): said plainly."""
    with pytest.raises(
        GrammarError, match=re.escape("anthropic: no transition for event 'pong' in state 'BLOCK'")
    ):
        grammar("anthropic").step("BLOCK", "pong")


# -- one machine: every event of both dialects goes through Grammar.step, with the YAML's schemas ----------------


@pytest.mark.parametrize("vector", VALID, ids=str)
def test_every_event_goes_through_grammar_step(vector: Vector, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[str, str]] = []
    step = Grammar.step

    def counting(self: Grammar, state: str, event: str) -> Cell:
        seen.append((state, event))
        return step(self, state, event)

    monkeypatch.setattr(Grammar, "step", counting)
    validator = validator_for(vector.dialect)
    validator.feed(vector.data)
    assert validator.close() == []
    # One step per event (each frame of a valid stream is one), and one for the end of the stream.
    assert len(seen) == validator.events + 1 and seen[-1][1] == "end_of_stream"


def test_the_schemas_are_read_from_the_grammar_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tighten a schema in the file: the validator enforces the file's version (there is no other copy)."""

    def edit(d: dict[str, Any]) -> None:
        d["anthropic"]["schemas"]["ping"] = {
            "type": "object",
            "required": ["type", "seq"],
            "properties": {"type": {"const": "ping"}, "seq": {"type": "integer"}},
        }

    edited = load_grammars(broken(tmp_path, edit))["anthropic"]
    monkeypatch.setattr(machine, "grammar", lambda dialect: edited)
    data = (VECTOR_DIR / "anthropic/valid_pings_everywhere.sse").read_bytes()
    found = validate(data, "anthropic")
    assert found and {v.clause for v in found} == {"SSE-009"}
    assert "'seq' is a required property" in found[0].message


# -- the Anthropic table is the brief's regular language ---------------------------------------------------------
#
# Letters: p ping, s message_start, b content_block_start, d content_block_delta, e content_block_stop,
# m message_delta, z message_stop, x error. BRIEF §2:  p* s p* (b (p* d)* p* e p*)* m p* z, or a proper prefix of
# that and one x. The same language, written flat: L = p* s (p | b (p|d)* e)* m p* z, and its proper prefixes are
# the union of the four regular expressions below.
COMPLETE = re.compile(r"p*s(?:p|b[pd]*e)*mp*z")
PROPER_PREFIX = re.compile(r"p*|p*s(?:p|b[pd]*e)*|p*s(?:p|b[pd]*e)*b[pd]*|p*s(?:p|b[pd]*e)*mp*")


def brief_accepts(word: str) -> bool:
    if COMPLETE.fullmatch(word):
        return True
    return word.endswith("x") and PROPER_PREFIX.fullmatch(word[:-1]) is not None


def render(word: str) -> str:
    """A stream for the word, with block indices kept consistent so only the order can be wrong."""
    out: list[str] = []
    blocks = -1
    for letter in word:
        if letter == "p":
            event: dict[str, Any] = {"type": "ping"}
        elif letter == "s":
            event = {
                "type": "message_start",
                "message": {
                    "id": "msg_1",
                    "type": "message",
                    "role": "assistant",
                    "model": "m",
                    "content": [],
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": {"input_tokens": 1, "output_tokens": 1},
                },
            }
        elif letter == "b":
            blocks += 1
            event = {
                "type": "content_block_start",
                "index": blocks,
                "content_block": {"type": "text", "text": ""},
            }
        elif letter == "d":
            event = {
                "type": "content_block_delta",
                "index": max(blocks, 0),
                "delta": {"type": "text_delta", "text": "t"},
            }
        elif letter == "e":
            event = {"type": "content_block_stop", "index": max(blocks, 0)}
        elif letter == "m":
            event = {
                "type": "message_delta",
                "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                "usage": {"output_tokens": 2},
            }
        elif letter == "z":
            event = {"type": "message_stop"}
        else:
            event = {"type": "error", "error": {"type": "api_error", "message": "boom"}}
        out.append(f"event: {event['type']}\ndata: {json.dumps(event)}\n\n")
    return "".join(out)


def table_accepts(word: str) -> bool:
    return validate(render(word), "anthropic") == []


def test_the_oracle_itself() -> None:
    assert (
        brief_accepts("psbdpdepmpz") and brief_accepts("x") and brief_accepts("sbdx") and brief_accepts("smx")
    )
    assert not brief_accepts("smzx") and not brief_accepts("sbbee") and not brief_accepts("smz" + "p")


def test_every_word_up_to_length_5_agrees_with_the_brief() -> None:
    for n in range(6):
        for letters in itertools.product("psbdemzx", repeat=n):
            word = "".join(letters)
            assert table_accepts(word) == brief_accepts(word), word


@settings(max_examples=300)
@given(st.lists(st.sampled_from("psbdemzx"), min_size=6, max_size=16).map("".join))
def test_longer_words_agree_with_the_brief(word: str) -> None:
    assert table_accepts(word) == brief_accepts(word), word


@settings(max_examples=200)
@given(
    blocks=st.lists(st.tuples(st.integers(0, 3), st.lists(st.integers(0, 2), max_size=3)), max_size=4),
    lead=st.integers(0, 2),
    tail=st.integers(0, 2),
)
def test_generated_valid_words_are_accepted(
    blocks: list[tuple[int, list[int]]], lead: int, tail: int
) -> None:
    word = (
        "p" * lead
        + "s"
        + "".join("p" * a + "b" + "".join("p" * k + "d" for k in ds) + "e" for a, ds in blocks)
    )
    word += "m" + "p" * tail + "z"
    assert brief_accepts(word) and table_accepts(word), word


def test_a_name_is_registered_in_one_place() -> None:
    """Each condition and check is named once in code: a second place claiming a name is refused."""
    rules = RULES["openai"]
    with pytest.raises(ValueError, match="condition 'all_choices_finished' registered twice"):
        rules.condition("all_choices_finished")(lambda validator: True)
    with pytest.raises(ValueError, match="check 'same_id' registered twice"):
        rules.claim("check", "same_id", "somewhere.Else.c_same_id")
