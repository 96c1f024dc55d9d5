"""The in-process pre-send hook: guard, aguard, the pre_send decorator and the policy cache."""

from __future__ import annotations

import asyncio
import functools
import json
import re
import subprocess
import sys
import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml

from replylint import Context, Decision, Linter, PolicyError, Report, UsageError
from replylint.hook import (
    ReplyBlocked,
    aguard,
    clear_cache,
    guard,
    linter_for,
    pre_send,
    verdict_message,
)
from replylint.policy import load_policy_text

POLICY_YAML = """\
policy: {name: hook-unit}
rules:
  - id: shout
    type: pattern
    severity: error
    message: "'{match}' is shouting"
    patterns: ['\\bURGENT\\b']
    ignore_case: false
  - id: refund
    type: pattern
    severity: warning
    message: "{customer} asked about '{match}'"
    patterns: ['refund(?:ed|s)?']
  - id: note
    type: pattern
    severity: info
    message: "fyi"
    patterns: ['\\bfyi\\b']
"""

MAPPING: dict[str, Any] = {
    "policy": {"name": "mapped"},
    "rules": [{"id": "shout", "type": "pattern", "severity": "error",
               "message": "'{match}' is shouting", "patterns": [r"\bURGENT\b"],
               "ignore_case": False}],
}


@pytest.fixture
def policy_file(tmp_path: Path) -> Path:
    path = tmp_path / "hook-unit.yaml"
    path.write_text(POLICY_YAML, encoding="utf-8")
    clear_cache()
    return path


@pytest.fixture
def linter() -> Linter:
    return Linter(load_policy_text(POLICY_YAML, "hook-unit.yaml"))


# ------------------------------------------------------------------ guard


def test_guard_returns_the_report_of_a_reply_that_may_be_sent(policy_file: Path) -> None:
    text = "Your refund is on its way, fyi"
    report = guard(text, policy_file, context={"customer": "Dana"})
    assert report.decision is Decision.WARN
    assert [(v.rule, text[v.start:v.end], v.message) for v in report.violations] == [
        ("refund", "refund", "Dana asked about 'refund'"), ("note", "fyi", "fyi")]
    assert report.policy == "hook-unit"


@pytest.mark.parametrize("text, span", [
    ("This is URGENT", "URGENT"),
    ("🎉🎉 URGENT 🎉", "URGENT"),
    ("e\u0301te\u0301\r\nURGENT\r\n", "URGENT"),
])
def test_guard_raises_reply_blocked_carrying_the_report(policy_file: Path, text: str,
                                                        span: str) -> None:
    with pytest.raises(ReplyBlocked) as info:
        guard(text, policy_file)
    report = info.value.report
    assert report.decision is Decision.BLOCK and not report.ok
    assert [(v.rule, text[v.start:v.end]) for v in report.violations] == [("shout", span)]
    assert str(info.value) == verdict_message(report)


@pytest.mark.parametrize("spec", ["path", "str", "mapping", "policy", "linter"])
def test_guard_accepts_every_kind_of_policy(policy_file: Path, linter: Linter, spec: str) -> None:
    policy: Any = {"path": policy_file, "str": str(policy_file), "mapping": MAPPING,
                   "policy": linter.policy, "linter": linter}[spec]
    with pytest.raises(ReplyBlocked) as info:
        guard("URGENT", policy)
    assert [v.rule for v in info.value.report.violations] == ["shout"]


def test_guard_with_an_expired_deadline_reports_incomplete(policy_file: Path) -> None:
    report = guard("URGENT refund", policy_file, deadline=time.monotonic() - 1)
    assert (report.decision, report.violations, report.incomplete) == (Decision.ALLOW, (), True)
    assert verdict_message(report) == "OK to send (partial check: some rules ran out of time)."


def test_guard_refuses_a_text_that_is_not_a_string(policy_file: Path) -> None:
    with pytest.raises(UsageError, match="must be a str, got bytes"):
        guard(b"URGENT", policy_file)  # type: ignore[arg-type]


def test_guard_reports_a_broken_policy_with_its_position(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules:\n  - id: x\n    type: pattern\n    patterns: ['(']\n")
    with pytest.raises(PolicyError) as info:
        guard("hello", bad)
    assert [str(i).split(": ")[0] for i in info.value.issues] == [f"{bad}:4:16"]


def test_guard_with_the_default_pack_blocks_trading_advice() -> None:
    text = "Honestly you should buy more $TSLA before earnings! ^JK"
    with pytest.raises(ReplyBlocked) as info:
        guard(text, context={"agent": "JK", "channel": "twitter"})
    rules = [v.rule for v in info.value.report.violations]
    assert "trading-advice" in rules
    assert info.value.report.policy == "default"


# ------------------------------------------------------------------ the verdict sentence


def _report(linter: Linter, text: str, **context: Any) -> Report:
    return linter.check(text, context)


@pytest.mark.parametrize("text, expected", [
    ("All sorted", "OK to send."),
    ("All sorted, fyi", "OK to send."),
    ("Your refund", ("OK to send, but review 1 warning; first, refund at line 1, column 6: "
                    "Dana asked about 'refund'.")),
    ("refund\r\nrefunds", ("OK to send, but review 2 warnings; first, refund at line 1, column 1: "
                          "Dana asked about 'refund'.")),
    ("refund and URGENT", ("Blocked: fix 1 problem before sending; first, shout at line 1, "
                          "column 12: 'URGENT' is shouting.")),
    ("URGENT\nURGENT", ("Blocked: fix 2 problems before sending; first, shout at line 1, "
                       "column 1: 'URGENT' is shouting.")),
])
def test_verdict_message_is_one_sentence_for_the_agent(linter: Linter, text: str,
                                                       expected: str) -> None:
    assert verdict_message(_report(linter, text, customer="Dana")) == expected


# ------------------------------------------------------------------ the policy cache


def test_a_policy_is_compiled_once_per_process(policy_file: Path) -> None:
    first = linter_for(policy_file)
    assert linter_for(str(policy_file)) is first
    assert linter_for(dict(MAPPING)) is linter_for(dict(MAPPING))
    clear_cache()
    assert linter_for(policy_file) is not first


def test_threads_racing_on_a_new_policy_share_one_linter(policy_file: Path) -> None:
    with ThreadPoolExecutor(8) as pool:
        linters = list(pool.map(lambda _: linter_for(policy_file), range(32)))
    assert len({id(x) for x in linters}) == 1


def test_a_policy_object_is_used_as_given(linter: Linter) -> None:
    assert linter_for(linter) is linter
    assert linter_for(linter.policy).policy is linter.policy


def test_an_unknown_kind_of_policy_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="got int"):
        linter_for(42)  # type: ignore[arg-type]


# ------------------------------------------------------------------ pre_send (sync)


def test_pre_send_sends_allowed_replies_and_never_blocked_ones(policy_file: Path) -> None:
    sent: list[tuple[str, str]] = []

    @pre_send(policy=policy_file)
    def send(ticket: str, text: str) -> str:
        sent.append((ticket, text))
        return f"sent {ticket}"

    assert send("T-1", "All sorted!") == "sent T-1"
    assert send("T-2", text="Your refund is on its way") == "sent T-2"
    with pytest.raises(ReplyBlocked) as info:
        send("T-3", "This is URGENT")
    assert sent == [("T-1", "All sorted!"), ("T-2", "Your refund is on its way")]
    assert [v.rule for v in info.value.report.violations] == ["shout"]
    assert send.__name__ == "send"


def test_pre_send_reads_context_from_an_argument_or_a_default(policy_file: Path) -> None:
    warned: list[Report] = []

    @pre_send(policy=policy_file, text_arg="body", context_arg="meta",
              context={"customer": "Sam"}, on_warn=warned.append)
    def send(body: str, meta: dict[str, Any] | Context | None = None) -> None:
        pass

    send("refund", meta={"customer": "Dana"})
    send("refund")
    send("refund", Context(customer="Lee"))
    send("all good")
    assert [r.violations[0].message for r in warned] == [
        "Dana asked about 'refund'", "Sam asked about 'refund'", "Lee asked about 'refund'"]


def test_pre_send_honours_suppression_in_the_context(policy_file: Path) -> None:
    @pre_send(policy=policy_file, context_arg="context")
    def send(text: str, context: dict[str, Any]) -> str:
        return "sent"

    assert send("URGENT", {"disable": ["shout"], "reason": "legal template"}) == "sent"


def test_pre_send_checks_its_arguments_when_applied(policy_file: Path, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="has no parameter 'text'"):
        pre_send(policy=policy_file)(lambda body: None)
    with pytest.raises(UsageError, match="has no parameter 'ctx'"):
        pre_send(policy=policy_file, context_arg="ctx")(lambda text: None)
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules:\n  - id: x\n    type: nope\n")
    with pytest.raises(PolicyError, match=r"bad\.yaml:3:11"):
        pre_send(policy=bad)


# ------------------------------------------------------------------ async


def test_aguard_checks_off_the_event_loop(policy_file: Path, linter: Linter) -> None:
    threads: list[str] = []

    class Spy(Linter):
        def check(self, *args: Any, **kwargs: Any) -> Report:
            threads.append(threading.current_thread().name)
            return super().check(*args, **kwargs)

    spy = Spy(linter.policy)

    async def main() -> tuple[Report, ReplyBlocked]:
        report = await aguard("Your refund", spy, context={"customer": "Dana"})
        try:
            await aguard("URGENT", spy)
        except ReplyBlocked as exc:
            return report, exc
        raise AssertionError("not blocked")

    report, blocked = asyncio.run(main())
    assert report.decision is Decision.WARN
    assert [v.rule for v in blocked.report.violations] == ["shout"]
    assert len(threads) == 2 and threading.main_thread().name not in threads


def test_pre_send_wraps_async_send_functions(policy_file: Path) -> None:
    sent: list[str] = []
    warned: list[Report] = []

    @pre_send(policy=policy_file, on_warn=warned.append)
    async def send(text: str) -> int:
        await asyncio.sleep(0)
        sent.append(text)
        return len(sent)

    async def main() -> list[Any]:
        out: list[Any] = [await send("hello"), await send("refund")]
        try:
            await send("URGENT")
        except ReplyBlocked as exc:
            out.append(exc.report.decision)
        return out

    assert asyncio.iscoroutinefunction(send)
    assert asyncio.run(main()) == [1, 2, Decision.BLOCK]
    assert sent == ["hello", "refund"]
    assert [r.decision for r in warned] == [Decision.WARN]


def test_pre_send_awaits_an_async_on_warn_on_an_async_send_function(policy_file: Path) -> None:
    # Regression: the async wrapper called on_warn without awaiting it, so an async callback
    # never ran ("coroutine ... was never awaited").
    shown: list[str] = []

    async def show(report: Report) -> None:
        await asyncio.sleep(0)
        shown.append(report.violations[0].rule)

    @pre_send(policy=policy_file, on_warn=show)
    async def send(text: str) -> str:
        return "sent"

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an un-awaited coroutine would warn
        assert asyncio.run(send("Your refund")) == "sent"
    assert shown == ["refund"]


class _AsyncCallable:
    async def __call__(self, report: Report) -> None:
        pass


@pytest.mark.parametrize("callback", [
    pytest.param(lambda: _async_noop, id="async def"),
    pytest.param(lambda: functools.partial(_async_noop), id="partial of async def"),
    pytest.param(lambda: _AsyncCallable(), id="object with async __call__"),
])
def test_pre_send_refuses_an_async_on_warn_for_a_sync_send_function(policy_file: Path,
                                                                     callback: Any) -> None:
    with pytest.raises(TypeError, match="on_warn is a coroutine function, but send is not "
                                        "async: nothing would await it"):
        @pre_send(policy=policy_file, on_warn=callback())
        def send(text: str) -> None:
            pass


def test_pre_send_refuses_an_on_warn_that_returns_an_awaitable_in_sync_code(
        policy_file: Path) -> None:
    @pre_send(policy=policy_file, on_warn=lambda report: _async_noop(report))
    def send(text: str) -> str:
        return "sent"

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(TypeError, match="on_warn returned an awaitable"):
            send("Your refund")


async def _async_noop(report: Report) -> None:
    pass


# ------------------------------------------------------------------ the example and pre-commit

REPO = Path(__file__).resolve().parents[1]


def test_the_send_gate_example_posts_allowed_replies_and_stops_the_blocked_one() -> None:
    out = subprocess.run([sys.executable, str(REPO / "examples" / "send_gate.py")],
                         capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "sent: reply #1 posted"
    assert lines[1].startswith("  warning scripted-phrasing: ")
    assert lines[2] == "warned: reply #2 posted"
    assert lines[3].startswith("blocked: Blocked: fix 1 problem before sending; first, "
                               "trading-advice at line 1")
    assert lines[4:] == ["outbox received 2 of 3 replies"]


def test_the_send_gate_example_takes_any_policy(tmp_path: Path) -> None:
    policy = tmp_path / "p.yaml"
    policy.write_text(POLICY_YAML)
    drafts = tmp_path / "drafts.json"
    drafts.write_text(json.dumps([["sent", "All sorted", {}], ["warned", "Your refund", {}],
                                  ["blocked", "URGENT", {}], ["sent", "URGENT", {}]]))
    out = subprocess.run([sys.executable, str(REPO / "examples" / "send_gate.py"), "--policy",
                          str(policy), "--drafts", str(drafts)],
                         capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode == 1  # the last draft was expected to be sent, and was blocked
    assert out.stdout.splitlines()[-1] == "outbox received 2 of 4 replies"


def test_the_pre_commit_hook_runs_replylint_check_on_text_and_markdown() -> None:
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    assert [(h["id"], h["entry"], h["language"]) for h in hooks] == [
        ("replylint", "replylint check", "python")]
    files = re.compile(hooks[0]["files"])
    assert [bool(files.search(p)) for p in ("macros/refund.txt", "canned/apology.md",
                                            "setup.py", "notes.txt.bak", "README.MD")] == [
        True, True, False, False, False]
