"""The HTTP pre-send hook in-process: verdicts, problem documents, auth, logs, GetStream adapter."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import importlib.util
import json
import re
import shutil
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml

pytest.importorskip("fastapi")
with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette asks for httpx2; httpx works the same here
    from fastapi.testclient import TestClient

from replylint import Linter
from replylint.policy import load_policy_text
from replylint.server import (
    PROBLEMS,
    WARM_TEXT,
    ServerConfig,
    create_app,
    load_policies,
    serve_command,
)

POLICY_YAML = """\
policy: {name: unit}
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
    message: "{customer} asked about '{match}' on {channel_type}"
    patterns: ['refund(?:ed|s)?']
"""
OTHER_YAML = """\
policy: {name: other}
rules:
  - id: sorry
    type: pattern
    severity: error
    message: "no '{match}' here"
    patterns: ['\\bsorry\\b']
"""
JSON = {"content-type": "application/json"}


def config(**overrides: Any) -> ServerConfig:
    linters = {"unit": Linter(load_policy_text(POLICY_YAML, "unit.yaml")),
               "other": Linter(load_policy_text(OTHER_YAML, "other.yaml"))}
    return ServerConfig(linters=linters, default="unit", **overrides)


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(create_app(config())) as c:
        yield c


def without_timing(body: dict[str, Any]) -> dict[str, Any]:
    assert isinstance(body.pop("elapsed_ms"), float)
    return body


def violation(rule: str, severity: str, message: str, start: int, end: int, matched: str,
              line: int = 1, column: int | None = None) -> dict[str, Any]:
    col = start + 1 if column is None else column
    return {"rule": rule, "severity": severity, "message": message, "start": start, "end": end,
            "line": line, "column": col, "end_line": line, "end_column": col + end - start,
            "matched": matched, "suggestions": [], "fix": None, "why": None}


# ------------------------------------------------------------------ POST /v1/check


def test_a_blocked_reply_is_a_200_with_the_whole_report(client: TestClient) -> None:
    text = "Hi 🎉, your refund is URGENT"
    r = client.post("/v1/check", json={"text": text, "context": {"customer": "Dana",
                                                                 "channel_type": "dm"}})
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    body = without_timing(r.json())
    assert body == {
        "decision": "block", "ok": False, "policy": "unit", "policy_name": "unit",
        "policy_hash": client.app.config.linters["unit"].policy.hash,  # type: ignore[attr-defined]
        "violations": [violation("refund", "warning", "Dana asked about 'refund' on dm",
                                 11, 17, "refund"),
                       violation("shout", "error", "'URGENT' is shouting", 21, 27, "URGENT")],
        "truncated": False, "violations_total": 2, "suppressed": [], "incomplete": False,
        "message": "Blocked: fix 1 problem before sending; first, shout at line 1, column 22: "
                   "'URGENT' is shouting."}
    assert [text[v["start"]:v["end"]] for v in body["violations"]] == ["refund", "URGENT"]


@pytest.mark.parametrize("payload, decision, message", [
    ({"text": "All sorted!"}, "allow", "OK to send."),
    ({"text": "refund\r\nsent", "context": {"customer": "Dana"}}, "warn",
     ("OK to send, but review 1 warning; first, refund at line 1, column 1: Dana asked about "
     "'refund' on.")),
    ({"text": "URGENT", "context": {"disable": ["shout"], "reason": "template"}}, "allow",
     "OK to send."),
    ({"text": "So sorry!", "policy": "other"}, "block",
     "Blocked: fix 1 problem before sending; first, sorry at line 1, column 4: no 'sorry' here."),
    ({"text": "So sorry!", "policy": "unit"}, "allow", "OK to send."),
])
def test_every_verdict_is_a_200(client: TestClient, payload: dict[str, Any], decision: str,
                                message: str) -> None:
    r = client.post("/v1/check", json=payload)
    assert (r.status_code, r.json()["decision"], r.json()["message"]) == (200, decision, message)


def test_suppressed_rules_are_listed(client: TestClient) -> None:
    r = client.post("/v1/check", json={"text": "URGENT", "context": {"replylint": {
        "disable": "shout", "reason": "approved"}}})
    assert (r.json()["suppressed"], r.json()["violations"]) == (["shout"], [])


def test_answers_and_logs_name_the_policy_as_served_and_add_its_own_name(
        capsys: pytest.CaptureFixture[str]) -> None:
    # Regression: `policy` in an answer was the policy's internal name ("unit") while requests
    # and the access log used the name it is served under ("acme").
    linter = Linter(load_policy_text(POLICY_YAML, "unit.yaml"))
    cfg = ServerConfig(linters={"acme": linter}, default="acme")
    with TestClient(create_app(cfg)) as c:
        capsys.readouterr()
        check = c.post("/v1/check", json={"text": "URGENT", "policy": "acme"}).json()
        batch = c.post("/v1/check/batch", json={"items": [{"text": "URGENT"}]}).json()
        stream = c.post(GETSTREAM, json=stream_payload("URGENT")).json()
        rules = c.get("/v1/rules").json()
        logged = [json.loads(line).get("policy") for line in capsys.readouterr().err.splitlines()]
    assert [(x["policy"], x["policy_name"]) for x in (check, batch["results"][0])] == [
        ("acme", "unit")] * 2
    replylint = stream["message"]["replylint"]
    assert (replylint["policy"], replylint["policy_name"]) == ("acme", "unit")
    assert [(p["name"], p["policy_name"]) for p in rules["policies"]] == [("acme", "unit")]
    assert logged == ["acme", None, "acme", None]  # the batch line counts decisions instead


def test_a_slow_check_answers_incomplete_instead_of_timing_out() -> None:
    class Slow:
        def find(self, draft: Any) -> list[Any]:
            time.sleep(0.05)
            return []

    policy = load_policy_text(POLICY_YAML, "unit.yaml")
    slow = dataclasses.replace(policy.rules[1], id="slow", check=Slow())
    policy = dataclasses.replace(policy, rules=(slow, *policy.rules))
    cfg = ServerConfig(linters={"slow": Linter(policy)}, default="slow", deadline_ms=20)
    with TestClient(create_app(cfg)) as c:
        body = c.post("/v1/check", json={"text": "refund URGENT"}).json()
    assert (body["incomplete"], body["violations"], body["decision"]) == (True, [], "allow")
    assert body["message"] == "OK to send (partial check: some rules ran out of time)."
    assert body["elapsed_ms"] >= 50


def test_an_answer_lists_at_most_max_violations_and_says_how_many_there_were(
        client: TestClient) -> None:
    # Regression: {"text": "fuck " * 3999} was answered with 4,000 violations (1.8 MB).
    body = client.post("/v1/check", json={"text": "URGENT " * 300}).json()
    assert (len(body["violations"]), body["truncated"], body["violations_total"]) == (
        100, True, 300)
    assert [v["start"] for v in body["violations"]] == list(range(0, 700, 7))
    assert body["message"].startswith("Blocked: fix 300 problems before sending; first, ")


def test_truncation_keeps_the_most_severe_violations_in_text_order() -> None:
    with TestClient(create_app(config(max_violations=3))) as c:
        body = c.post("/v1/check", json={"text": "refund " * 5 + "URGENT"}).json()
    assert [(v["rule"], v["start"]) for v in body["violations"]] == [
        ("refund", 0), ("refund", 7), ("shout", 35)]
    assert (body["truncated"], body["violations_total"], body["decision"]) == (True, 6, "block")


def test_an_answer_under_the_cap_is_whole(client: TestClient) -> None:
    body = client.post("/v1/check", json={"text": "URGENT refund"}).json()
    assert (len(body["violations"]), body["truncated"], body["violations_total"]) == (
        2, False, 2)


def test_a_failing_rule_is_a_500_problem_not_a_crash() -> None:
    class Broken(Linter):
        def check(self, text: str, *args: Any, **kwargs: Any) -> Any:
            if text == "hello":
                raise RuntimeError("rule exploded")
            return super().check(text, *args, **kwargs)

    cfg = config()
    cfg.linters["unit"] = Broken(cfg.linters["unit"].policy)
    with TestClient(create_app(cfg)) as c:
        r = c.post("/v1/check", json={"text": "hello"})
        assert r.status_code == 500
        assert r.json()["type"] == "/problems/internal-error"
        assert c.get("/healthz").status_code == 200


# ------------------------------------------------------------------ problem documents

DEEP = b'{"text": "x", "context": {"a": ' + b"[" * 40 + b"]" * 40 + b"}}"
BAD_REQUESTS = [
    ("not json", b"{text: hi}", JSON, 400, "body-not-json"),
    ("empty body", b"", JSON, 400, "body-not-json"),
    ("NaN", b'{"text": NaN}', JSON, 400, "body-not-json"),
    ("huge integer", b'{"text": 1' + b"0" * 5000 + b"}", JSON, 400, "body-not-json"),
    ("invalid utf-8", b'{"text": "caf\xe9"}', JSON, 400, "invalid-utf8"),
    ("lone surrogate", b'{"text": "\\ud83d"}', JSON, 400, "invalid-string"),
    ("nested 40 deep", DEEP, JSON, 400, "json-too-deep"),
    ("nested 100k deep", b"[" * 100_000, JSON, 400, "json-too-deep"),
    ("array body", b'["hi"]', JSON, 422, "invalid-request"),
    ("missing text", b'{"context": {}}', JSON, 422, "invalid-request"),
    ("text is a number", b'{"text": 42}', JSON, 422, "invalid-request"),
    ("text is null", b'{"text": null}', JSON, 422, "invalid-request"),
    ("unknown field", b'{"text": "hi", "txt": "hi"}', JSON, 422, "invalid-request"),
    ("context is a list", b'{"text": "hi", "context": []}', JSON, 422, "invalid-request"),
    ("context value is an object", b'{"text": "hi", "context": {"agent": {}}}', JSON, 422,
     "invalid-request"),
    ("public is a string", b'{"text": "hi", "context": {"public": "yes"}}', JSON, 422,
     "invalid-request"),
    ("policy is a number", b'{"text": "hi", "policy": 1}', JSON, 422, "invalid-request"),
    ("unknown policy", b'{"text": "hi", "policy": "nope"}', JSON, 422, "unknown-policy"),
    ("text too long", b'{"text": "' + b"a" * 20_001 + b'"}', JSON, 413, "text-too-long"),
    ("body too large", b'{"text": "' + b"a" * 1_000_001 + b'"}', JSON, 413, "body-too-large"),
    ("text/plain", b'{"text": "hi"}', {"content-type": "text/plain"}, 415,
     "unsupported-media-type"),
    ("no content type", b'{"text": "hi"}', {}, 415, "unsupported-media-type"),
    ("latin-1 charset", b'{"text": "hi"}', {"content-type": "application/json; charset=latin-1"},
     415, "unsupported-media-type"),
    ("form", b"text=hi", {"content-type": "application/x-www-form-urlencoded"}, 415,
     "unsupported-media-type"),
]


@pytest.mark.parametrize("body, headers, status, slug",
                         [pytest.param(*case[1:], id=case[0]) for case in BAD_REQUESTS])
def test_client_mistakes_get_a_problem_document(client: TestClient, body: bytes,
                                                headers: dict[str, str], status: int,
                                                slug: str) -> None:
    r = client.post("/v1/check", content=body, headers={**headers, "x-request-id": "req-1"})
    assert r.status_code == status
    assert r.headers["content-type"] == "application/problem+json"
    doc = r.json()
    assert {k: doc[k] for k in ("type", "title", "status", "instance", "request_id")} == {
        "type": f"/problems/{slug}", "title": PROBLEMS[slug][1], "status": status,
        "instance": "/v1/check", "request_id": "req-1"}
    assert isinstance(doc["detail"], str) and doc["detail"]
    assert r.headers["x-request-id"] == "req-1"


def test_a_schema_problem_lists_every_field_with_a_json_pointer(client: TestClient) -> None:
    r = client.post("/v1/check", json={"txt": "hi", "context": {"customer": ["a"]},
                                       "policy": 3})
    assert r.json()["errors"] == [
        {"pointer": "/txt", "detail": "unknown field 'txt'; allowed: text, context, policy"},
        {"pointer": "/text", "detail": "required field is missing"},
        {"pointer": "/context/customer",
         "detail": "expected a string, number or boolean, found array"},
        {"pointer": "/policy", "detail": "expected a string, found number"}]


def test_an_unknown_policy_names_the_loaded_ones(client: TestClient) -> None:
    r = client.post("/v1/check", json={"text": "hi", "policy": "acme"})
    assert r.json()["detail"] == "no policy named 'acme'; this server has: unit, other"


@pytest.mark.parametrize("method, path, status, slug", [
    ("GET", "/v1/nothing", 404, "not-found"),
    ("GET", "/v1/check", 405, "method-not-allowed"),
    ("DELETE", "/v1/rules", 405, "method-not-allowed"),
])
def test_routing_mistakes_are_problems_too(client: TestClient, method: str, path: str,
                                           status: int, slug: str) -> None:
    r = client.request(method, path)
    assert (r.status_code, r.headers["content-type"], r.json()["type"]) == (
        status, "application/problem+json", f"/problems/{slug}")


def test_every_problem_type_is_documented_by_the_server(client: TestClient) -> None:
    for slug, (status, title, _) in PROBLEMS.items():
        doc = client.get(f"/problems/{slug}").json()
        assert (doc["status"], doc["title"]) == (status, title)


def test_the_server_is_healthy_after_a_barrage(client: TestClient) -> None:
    for _, body, headers, _, _ in BAD_REQUESTS:
        client.post("/v1/check", content=body, headers=headers)
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.post("/v1/check", json={"text": "URGENT"}).json()["decision"] == "block"


# ------------------------------------------------------------------ request ids and logs


@pytest.mark.parametrize("given, echoed", [
    ("abc-123", "abc-123"),
    ("trace:9f.1_a", "trace:9f.1_a"),
    ("bad id<script>\r", "badidscript"),
    ("x" * 500, "x" * 128),
])
def test_request_ids_are_honoured_sanitised_and_bounded(client: TestClient, given: str,
                                                        echoed: str) -> None:
    r = client.get("/healthz", headers={"x-request-id": given})
    assert r.headers["x-request-id"] == echoed


def test_a_request_without_an_id_gets_a_fresh_one(client: TestClient) -> None:
    ids = {client.get("/healthz").headers["x-request-id"] for _ in range(3)}
    assert len(ids) == 3 and all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids)


def test_access_log_is_one_json_line_per_request_without_text_or_token(
        capsys: pytest.CaptureFixture[str]) -> None:
    with TestClient(create_app(config(token="s3cret-token"))) as c:
        capsys.readouterr()
        c.post("/v1/check", json={"text": "my secret URGENT reply"},
               headers={"authorization": "Bearer s3cret-token", "x-request-id": "r1"})
        c.post("/v1/check", content=b"nope", headers={**JSON, "x-request-id": "r2",
                                                      "authorization": "Bearer s3cret-token"})
        c.post("/v1/check", json={"text": "hi"}, headers={"authorization": "Bearer wrong",
                                                          "x-request-id": "r3"})
        err = capsys.readouterr().err
    lines = [json.loads(line) for line in err.splitlines()]
    for line in lines:
        assert set(line) >= {"time", "event", "request_id", "method", "path", "status",
                             "elapsed_ms"}
        del line["time"], line["elapsed_ms"]
    assert lines == [
        {"event": "request", "request_id": "r1", "method": "POST", "path": "/v1/check",
         "status": 200, "decision": "block", "policy": "unit"},
        {"event": "request", "request_id": "r2", "method": "POST", "path": "/v1/check",
         "status": 400},
        {"event": "request", "request_id": "r3", "method": "POST", "path": "/v1/check",
         "status": 401}]
    assert "secret" not in err and "s3cret" not in err and "wrong" not in err


# ------------------------------------------------------------------ auth


@pytest.mark.parametrize("headers, status", [
    ({}, 401),
    ({"authorization": "Bearer nope"}, 401),
    ({"authorization": "Basic dXNlcjpwYXNz"}, 401),
    ({"authorization": "Bearer s3cret-token-ünicode".encode()}, 401),
    ({"authorization": "Bearer s3cret-token"}, 200),
    ({"authorization": "bearer s3cret-token"}, 200),
])
def test_a_bearer_token_guards_the_api(headers: dict[str, Any], status: int) -> None:
    with TestClient(create_app(config(token="s3cret-token"))) as c:
        r = c.post("/v1/check", json={"text": "hi"}, headers=headers)
        assert r.status_code == status
        if status == 401:
            assert r.headers["www-authenticate"] == 'Bearer realm="replylint"'
            assert r.json()["type"] == "/problems/unauthorized"
        assert c.get("/healthz").status_code == 200
        assert c.get("/readyz").status_code == 200
        assert c.get("/v1/rules", headers=headers).status_code == status


# ------------------------------------------------------------------ batch


def test_a_batch_checks_the_good_items_and_reports_each_bad_one(client: TestClient) -> None:
    r = client.post("/v1/check/batch", json={"items": [
        {"id": "a", "text": "URGENT"},
        {"id": 7, "text": 42},
        {"text": "So sorry", "policy": "other"},
        "not an object",
        {"id": "e", "text": "x" * 20_001},
        {"id": "f", "text": "fine", "policy": "ghost"},
    ]})
    assert r.status_code == 200
    results = r.json()["results"]
    assert [(x["index"], x.get("id"), x.get("decision"), x.get("error", {}).get("status"))
            for x in results] == [(0, "a", "block", None), (1, 7, None, 422),
                                  (2, None, "block", None), (3, None, None, 422),
                                  (4, "e", None, 413), (5, "f", None, 422)]
    assert results[1]["error"]["errors"] == [{"pointer": "/items/1/text",
                                              "detail": "expected a string, found number"}]
    assert results[0]["message"] == ("Blocked: fix 1 problem before sending; first, shout at "
                                     "line 1, column 1: 'URGENT' is shouting.")


@pytest.mark.parametrize("payload, status, slug", [
    ({"items": [{"text": "hi"}] * 101}, 413, "batch-too-large"),
    ({"items": "hi"}, 422, "invalid-request"),
    ({"text": "hi"}, 422, "invalid-request"),
    ({"items": [], "extra": 1}, 422, "invalid-request"),
    ([], 422, "invalid-request"),
])
def test_a_malformed_batch_is_a_problem(client: TestClient, payload: Any, status: int,
                                        slug: str) -> None:
    r = client.post("/v1/check/batch", json=payload)
    assert (r.status_code, r.json()["type"]) == (status, f"/problems/{slug}")


def test_an_empty_batch_has_no_results(client: TestClient) -> None:
    assert client.post("/v1/check/batch", json={"items": []}).json()["results"] == []


# ------------------------------------------------------------------ rules, health, docs


def test_rules_lists_each_loaded_policy(client: TestClient) -> None:
    body = client.get("/v1/rules").json()
    assert body["default"] == "unit"
    assert [(p["name"], p["default"], [r["id"] for r in p["rules"]])
            for p in body["policies"]] == [("unit", True, ["shout", "refund"]),
                                           ("other", False, ["sorry"])]
    assert body["policies"][0]["rules"][0] == {
        "id": "shout", "type": "pattern", "severity": "error", "message": "'{match}' is shouting",
        "why": None, "suppressible": True, "channels": None}
    one = client.get("/v1/rules", params={"policy": "other"}).json()
    assert [p["name"] for p in one["policies"]] == ["other"]
    assert client.get("/v1/rules", params={"policy": "nope"}).status_code == 422


def test_readyz_waits_for_the_warm_up() -> None:
    app = create_app(config())
    cold = TestClient(app)  # no lifespan: policies compiled but not warmed
    r = cold.get("/readyz")
    assert (r.status_code, r.json()["type"]) == (503, "/problems/not-ready")
    assert cold.get("/healthz").status_code == 200
    with TestClient(app) as warm:
        assert warm.get("/readyz").json() == {"status": "ready", "policies": ["unit", "other"],
                                              "default": "unit"}


def test_openapi_documents_every_endpoint_and_every_ref_resolves(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert set(spec["paths"]) == {"/v1/check", "/v1/check/batch", "/v1/rules", "/healthz",
                                  "/readyz", "/v1/adapters/getstream/before-message-send"}
    check = spec["paths"]["/v1/check"]["post"]
    assert check["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/CheckRequest"}
    assert set(check["responses"]) == {"200", "400", "401", "408", "413", "415", "422", "503"}
    refs = re.findall(r'"\$ref": "#/components/schemas/([A-Za-z]+)"', json.dumps(spec))
    assert refs and set(refs) <= set(spec["components"]["schemas"])
    assert "text/html" in client.get("/docs").headers["content-type"]


def test_too_many_requests_in_flight_get_a_503_with_retry_after() -> None:
    with TestClient(create_app(config(max_in_flight=0))) as c:
        r = c.post("/v1/check", json={"text": "hi"})
    assert (r.status_code, r.headers["retry-after"], r.json()["type"]) == (
        503, "1", "/problems/overloaded")


class Gate:
    """A rule check that blocks until the test opens the gate: a slow check, on demand."""

    def __init__(self) -> None:
        self.opened = threading.Event()
        self.entered = 0
        self.finished = 0
        self._changed = threading.Condition()

    def find(self, draft: Any) -> list[Any]:
        if draft.text == WARM_TEXT:  # the start-up check passes straight through
            return []
        with self._changed:
            self.entered += 1
            self._changed.notify_all()
        self.opened.wait(60)
        with self._changed:
            self.finished += 1
            self._changed.notify_all()
        return []

    def wait_for(self, what: str, n: int) -> None:
        with self._changed:
            assert self._changed.wait_for(lambda: getattr(self, what) >= n, timeout=60), \
                f"{what} stayed at {getattr(self, what)}, expected {n}"


def gated_config(gate: Gate, **overrides: Any) -> ServerConfig:
    """The unit policy with the gate as its first rule."""
    policy = load_policy_text(POLICY_YAML, "unit.yaml")
    rule = dataclasses.replace(policy.rules[1], id="gate", check=gate)
    policy = dataclasses.replace(policy, rules=(rule, *policy.rules))
    return ServerConfig(linters={"unit": Linter(policy)}, default="unit", **overrides)


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/openapi.json", "/docs"])
def test_open_paths_answer_while_checks_fill_the_in_flight_limit(path: str) -> None:
    # Regression: /healthz counted against --max-in-flight, so a busy server failed liveness.
    gate = Gate()
    cfg = gated_config(gate, max_in_flight=2, deadline_ms=60_000)
    with TestClient(create_app(cfg)) as c, ThreadPoolExecutor(2) as pool:
        slow = [pool.submit(c.post, "/v1/check", json={"text": "hi"}) for _ in range(2)]
        try:
            gate.wait_for("entered", 2)
            assert c.get(path).status_code == 200
            r = c.post("/v1/check", json={"text": "hi"})
            assert (r.status_code, r.json()["type"]) == (503, "/problems/overloaded")
        finally:
            gate.opened.set()
        assert [f.result(timeout=60).status_code for f in slow] == [200, 200]


def test_the_answer_comes_by_the_deadline_even_while_a_started_rule_runs_on() -> None:
    # Regression: the deadline only skipped rules not yet started, so one slow rule held the
    # answer until it ended (1.85 s with --deadline-ms 300).
    gate = Gate()
    with TestClient(create_app(gated_config(gate, deadline_ms=100))) as c:
        try:
            r = c.post("/v1/check", json={"text": "refund URGENT"})
            assert gate.finished == 0  # answered while the rule still runs
        finally:
            gate.opened.set()
    body = without_timing(r.json())
    assert body == {"decision": "allow", "ok": True, "policy": "unit", "policy_name": "unit",
                    "policy_hash": body["policy_hash"], "violations": [], "truncated": False,
                    "violations_total": 0, "suppressed": [], "incomplete": True,
                    "message": "OK to send (partial check: some rules ran out of time)."}


def test_a_check_still_running_after_its_answer_holds_its_in_flight_slot() -> None:
    gate = Gate()
    with TestClient(create_app(gated_config(gate, deadline_ms=100, max_in_flight=1))) as c:
        try:
            assert c.post("/v1/check", json={"text": "hi"}).json()["incomplete"] is True
            r = c.post("/v1/check", json={"text": "hi"})
            assert (r.status_code, r.json()["type"]) == (503, "/problems/overloaded")
        finally:
            gate.opened.set()
        gate.wait_for("finished", 1)
        end = time.monotonic() + 30  # the slot is given back right after the rule ends
        while (r := c.post("/v1/check", json={"text": "hi"})).status_code == 503:
            assert time.monotonic() < end, "the finished check never gave its slot back"
            time.sleep(0.01)
        assert r.status_code == 200


def test_a_check_that_had_not_started_by_its_deadline_never_runs() -> None:
    gate = Gate()
    with TestClient(create_app(gated_config(gate, deadline_ms=100, threads=1))) as c:
        try:
            with ThreadPoolExecutor(2) as pool:
                first = pool.submit(c.post, "/v1/check", json={"text": "one"})
                gate.wait_for("entered", 1)  # the only thread is busy ...
                queued = c.post("/v1/check", json={"text": "two"})  # ... so this one waits
                assert first.result(timeout=60).json()["incomplete"] is True
            assert queued.json()["incomplete"] is True
        finally:
            gate.opened.set()
        gate.wait_for("finished", 1)
        c.get("/healthz")
    assert gate.entered == 1  # the queued check was dropped, not run after its answer


def test_a_batch_cut_by_the_deadline_answers_every_item_in_order() -> None:
    gate = Gate()
    with TestClient(create_app(gated_config(gate, deadline_ms=100))) as c:
        try:
            r = c.post("/v1/check/batch", json={"items": [
                {"id": "a", "text": "URGENT"}, {"id": "b", "text": 42}, {"id": "c", "text": "hi"}]})
        finally:
            gate.opened.set()
    body = r.json()
    assert body["incomplete"] is True
    assert [(x["index"], x["id"], x.get("incomplete"), x.get("error", {}).get("status"))
            for x in body["results"]] == [(0, "a", True, None), (1, "b", None, 422),
                                          (2, "c", True, None)]
    assert [x.get("violations") for x in body["results"]] == [[], None, []]


# ------------------------------------------------------------------ GetStream adapter

GETSTREAM = "/v1/adapters/getstream/before-message-send"


def stream_payload(text: str | None) -> dict[str, Any]:
    """The documented 'Before Message Send' request body: message, user, channel, request_info."""
    message: dict[str, Any] = {"id": "", "html": "", "type": "regular", "attachments": [],
                               "latest_reactions": [], "own_reactions": [],
                               "reaction_counts": None, "reaction_scores": None,
                               "reply_count": 0, "mentioned_users": [], "silent": False}
    if text is not None:
        message["text"] = text
    return {"message": message,
            "user": {"id": "17f8ab2c", "role": "user", "banned": False, "online": False},
            "channel": {"cid": "messaging:fun-01", "id": "fun-01", "type": "messaging",
                        "frozen": False},
            "request_info": {"type": "client", "ip": "86.84.2.2", "user_agent": "Mozilla/5.0",
                             "sdk": "stream-chat-react-10.11.0"}}


@pytest.mark.parametrize("text", ["All good!", "Your refund is on its way", "", None])
def test_getstream_allowed_and_warned_messages_pass_through_unchanged(client: TestClient,
                                                                      text: str | None) -> None:
    payload = stream_payload(text)
    r = client.post(GETSTREAM, json=payload)
    assert r.status_code == 200
    assert r.json() == {"message": payload["message"]}


def test_getstream_blocked_message_becomes_an_error_message(client: TestClient) -> None:
    payload = stream_payload("This is URGENT, refund now")
    r = client.post(GETSTREAM, json=payload)
    assert r.status_code == 200
    message = r.json()["message"]
    assert message["type"] == "error"
    assert message["text"] == ("Blocked: fix 1 problem before sending; first, shout at line 1, "
                               "column 9: 'URGENT' is shouting.")
    assert message["replylint"]["violations"] == [
        {"rule": "shout", "severity": "error", "message": "'URGENT' is shouting",
         "start": 8, "end": 14},
        {"rule": "refund", "severity": "warning",
         "message": "asked about 'refund' on messaging", "start": 16, "end": 22}]
    untouched = {k: v for k, v in message.items() if k not in ("type", "text", "replylint")}
    assert untouched == {k: v for k, v in payload["message"].items()
                         if k not in ("type", "text")}


def test_getstream_adapter_picks_a_policy_and_channel_from_the_query(client: TestClient) -> None:
    r = client.post(GETSTREAM, params={"policy": "other", "channel": "chat"},
                    json=stream_payload("So sorry"))
    assert r.json()["message"]["type"] == "error"
    r = client.post(GETSTREAM, params={"policy": "ghost"}, json=stream_payload("hi"))
    assert (r.status_code, r.json()["type"]) == (422, "/problems/unknown-policy")


@pytest.mark.parametrize("payload, status", [
    ({"text": "URGENT"}, 422),
    ({"message": "URGENT"}, 422),
    ({"message": {"text": 5}}, 422),
    ([], 422),
])
def test_getstream_payloads_of_the_wrong_shape_are_problems(client: TestClient, payload: Any,
                                                            status: int) -> None:
    r = client.post(GETSTREAM, json=payload)
    assert (r.status_code, r.headers["content-type"]) == (status, "application/problem+json")


def test_getstream_passes_an_unfinished_check_and_says_so_in_the_answer_and_the_log(
        capsys: pytest.CaptureFixture[str]) -> None:
    # Regression: an unfinished check became a silent "allow": neither the answer nor the access
    # log said the message went out not fully checked.
    gate = Gate()
    payload = stream_payload("This is URGENT")
    payload["message"]["id"] = "msg-1"
    with TestClient(create_app(gated_config(gate, deadline_ms=100))) as c:
        capsys.readouterr()
        try:
            r = c.post(GETSTREAM, json=payload, headers={"x-request-id": "gs-1"})
        finally:
            gate.opened.set()
        err = capsys.readouterr().err
    body = r.json()
    assert body["message"] == payload["message"]  # GetStream sends it: default allow
    assert body["replylint"] == {
        "decision": "allow", "incomplete": True, "on_incomplete": "allow", "policy": "unit",
        "policy_name": "unit", "policy_hash": body["replylint"]["policy_hash"],
        "message": "OK to send (partial check: some rules ran out of time)."}
    line = next(json.loads(x) for x in err.splitlines() if '"gs-1"' in x)
    assert {k: line.get(k) for k in ("status", "decision", "incomplete", "on_incomplete",
                                     "message_id", "cid")} == {
        "status": 200, "decision": "allow", "incomplete": True, "on_incomplete": "allow",
        "message_id": "msg-1", "cid": "messaging:fun-01"}


INCOMPLETE_BLOCKED = ("Blocked: the check did not finish in time, so this reply was not fully "
                      "checked; try again in a moment.")


def test_on_incomplete_block_blocks_an_unfinished_check_everywhere() -> None:
    gate = Gate()
    cfg = gated_config(gate, deadline_ms=100, on_incomplete="block")
    with TestClient(create_app(cfg)) as c:
        try:
            check = c.post("/v1/check", json={"text": "hi"}).json()
            batch = c.post("/v1/check/batch", json={"items": [{"text": "hi"}]}).json()
            stream = c.post(GETSTREAM, json=stream_payload("hi")).json()
        finally:
            gate.opened.set()
    assert {k: check[k] for k in ("decision", "ok", "incomplete", "message")} == {
        "decision": "block", "ok": False, "incomplete": True, "message": INCOMPLETE_BLOCKED}
    assert batch["results"][0]["decision"] == "block"
    assert {k: stream["message"][k] for k in ("type", "text")} == {
        "type": "error", "text": INCOMPLETE_BLOCKED}
    assert {k: stream["message"]["replylint"][k] for k in ("decision", "incomplete",
                                                           "violations")} == {
        "decision": "block", "incomplete": True, "violations": []}


def test_on_incomplete_block_leaves_finished_checks_alone(client: TestClient) -> None:
    with TestClient(create_app(config(on_incomplete="block"))) as c:
        assert c.post("/v1/check", json={"text": "All sorted!"}).json()["decision"] == "allow"
        assert c.post(GETSTREAM, json=stream_payload("All sorted!")).json() == {
            "message": stream_payload("All sorted!")["message"]}


def _signed(body: bytes, secret: str) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@pytest.mark.parametrize("headers, status", [
    ({}, 401),
    ({"x-signature": "0" * 64}, 401),
    ({"x-signature": "SIGNED"}, 200),
    ({"authorization": "Bearer tok"}, 200),
    ({"authorization": "Bearer nope"}, 401),
])
def test_getstream_adapter_verifies_the_signature(headers: dict[str, str], status: int) -> None:
    body = json.dumps(stream_payload("URGENT")).encode()
    if headers.get("x-signature") == "SIGNED":
        headers = {"x-signature": _signed(body, "stream-api-secret")}
    with TestClient(create_app(config(token="tok", getstream_secret="stream-api-secret"))) as c:
        r = c.post(GETSTREAM, content=body, headers={**JSON, **headers})
    assert r.status_code == status
    if status == 200:
        assert r.json()["message"]["type"] == "error"


# ------------------------------------------------------------------ docs/hook.md examples

DOCS = Path(__file__).resolve().parents[1] / "docs" / "hook.md"


def doc_block(after: str, lang: str = "json") -> str:
    """The first fenced block of `lang` in docs/hook.md after the text `after`."""
    text = DOCS.read_text(encoding="utf-8")
    found = re.search(rf"```{lang}\n(.*?)```", text[text.index(after):], flags=re.DOTALL)
    assert found, f"no {lang} block after {after!r}"
    return found.group(1)


def untimed(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: untimed(v) for k, v in value.items() if k != "elapsed_ms"}
    if isinstance(value, list):
        return [untimed(v) for v in value]
    return value


@pytest.fixture(scope="module")
def default_pack() -> Iterator[TestClient]:
    cfg = ServerConfig(linters=load_policies(["pack:default"]), default="default")
    with TestClient(create_app(cfg)) as c:
        yield c


def test_the_documented_check_example_is_a_real_answer(default_pack: TestClient) -> None:
    # Regression: the docs showed a policy_hash two policy edits old.
    request = json.loads(doc_block("### `POST /v1/check`"))
    documented = json.loads(doc_block("The answer is **200 whatever the verdict**"))
    real = default_pack.post("/v1/check", json=request).json()
    assert untimed(documented) == untimed(real), json.dumps(real, indent=2)


def test_the_documented_batch_example_is_a_real_answer(default_pack: TestClient) -> None:
    request = json.loads(doc_block("### `POST /v1/check/batch`"))
    documented = json.loads(doc_block("Results keep the input order"))
    rid = documented["results"][1]["error"]["request_id"]
    real = default_pack.post("/v1/check/batch", json=request,
                             headers={"x-request-id": rid}).json()
    assert untimed(documented) == untimed(real), json.dumps(real)


def test_the_documented_getstream_example_is_a_real_answer(default_pack: TestClient) -> None:
    documented = json.loads(doc_block("For a message `{\"id\": \"\", \"type\": \"regular\""))
    payload = {"message": {"id": "", "type": "regular", "text": "you should buy more $TSLA"},
               "user": {"id": "u-1"}, "channel": {"type": "messaging", "id": "c-1"}}
    real = default_pack.post(GETSTREAM, json=payload).json()
    assert documented == real, json.dumps(real)


def test_the_documented_github_actions_workflow_can_upload_sarif() -> None:
    # Regression: without `actions: read`, upload-sarif fails in private repositories.
    workflow = yaml.safe_load(doc_block("## GitHub Actions", "yaml"))
    assert workflow["permissions"] == {"contents": "read", "security-events": "write",
                                       "actions": "read"}
    steps = workflow["jobs"]["lint-templates"]["steps"]
    upload = next(s for s in steps if s.get("uses", "").startswith(
        "github/codeql-action/upload-sarif@"))
    assert upload["with"]["sarif_file"] == "replylint.sarif"


# ------------------------------------------------------------------ help-desk sketches

SKETCHES = sorted((Path(__file__).resolve().parents[1] / "examples" / "integrations").glob("*.js"))
NODE = shutil.which("node")
# A browser reduced to what the sketches rely on: textContent keeps the text and its newlines
# and drops the tags, and so does innerText on a detached element, which has no layout.
DOM_STUB = r"""
function textOf(html) { return String(html).replace(/<[^>]*>/g, "").replace(/&amp;/g, "&"); }
global.DOMParser = function () {};
DOMParser.prototype.parseFromString = function (html) {
  return { body: { textContent: textOf(html) } };
};
global.document = { createElement: function () {
  var html = "";
  return Object.defineProperties({}, {
    innerHTML: { set: function (value) { html = value; } },
    innerText: { get: function () { return textOf(html); } },
    textContent: { get: function () { return textOf(html); } } });
} };
"""
HTML = ["Hi Dana,<br>you should buy more $TSLA", "<p>Hi Dana,</p><p>you should buy</p>",
        "<ul><li>one</li><li>two</li></ul>", "Tom &amp; Jerry<br/>"]
STATUSES = [0, 400, 401, 408, 413, 415, 422, 429, 500, 502, 503, 504]


@pytest.mark.skipif(NODE is None, reason="node is not installed")
@pytest.mark.parametrize("sketch", SKETCHES, ids=[p.name for p in SKETCHES])
def test_a_help_desk_sketch_keeps_line_breaks_and_blocks_what_was_refused(sketch: Path) -> None:
    # Regressions: htmlToText read innerText of a detached element, so "Hi Dana,<br>you should
    # buy ..." became "Hi Danayou should buy ..." and was not flagged; and any non-2xx answer,
    # a 413 for a reply too long to check included, sent the reply as "replylint is unavailable".
    assert NODE is not None
    subprocess.run([NODE, "--check", str(sketch)], check=True)
    helpers = "".join(re.findall(r"^function \w+\(.*?^}\n", sketch.read_text(),
                                 flags=re.MULTILINE | re.DOTALL))
    program = DOM_STUB + helpers + f"""
        console.log(JSON.stringify({{
          text: {json.dumps(HTML)}.map(htmlToText),
          refused: {json.dumps(STATUSES)}.map(function (s) {{
            return typeof refused === "function" && refused(s); }})
        }}));"""
    out = subprocess.run([NODE, "-e", program], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == {
        "text": ["Hi Dana,\nyou should buy more $TSLA", "Hi Dana,\nyou should buy\n",
                 "one\ntwo\n", "Tom & Jerry\n"],
        "refused": [False, True, True, False, True, True, True, False, False, False, False,
                    False]}


# ------------------------------------------------------------------ the benchmark


def test_the_benchmark_sends_each_rate_bodies_the_server_has_not_seen(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Regression: every rate restarted at body 0, so later rates re-sent bodies whose results
    # the earlier rates had already cached, and looked faster than they were.
    path = Path(__file__).resolve().parents[1] / "bench" / "bench_server.py"
    spec = importlib.util.spec_from_file_location("bench_server", path)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "bench_server", bench)  # dataclasses look themselves up
    spec.loader.exec_module(bench)
    assert bench.plan_slices([100, 200, 400], 15, 51_433) == [
        (0, 1500, False), (1500, 3000, False), (4500, 6000, False)]
    assert bench.plan_slices([100, 100], 30, 4000) == [(0, 3000, False), (3000, 3000, True)]


# ------------------------------------------------------------------ start-up


def test_policies_are_named_by_name_by_flag_or_by_file_stem(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(POLICY_YAML)
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "team-x.yaml").write_text(OTHER_YAML)
    linters = load_policies([str(tmp_path / "a.yaml"), f"mine={tmp_path / 'a.yaml'}"],
                            str(tmp_path / "dir"))
    assert {k: v.policy.name for k, v in linters.items()} == {
        "unit": "unit", "mine": "unit", "team-x": "other"}


def test_a_bad_policy_stops_the_start_with_every_problem(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules:\n  - id: x\n    type: pattern\n    patterns: ['(']\n"
                   "  - id: y\n    type: nope\n")
    assert serve_command(["--policy", str(bad), "--port", "0"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert [line.split(": ")[0] for line in err] == [f"{bad}:4:16", f"{bad}:6:11"]


@pytest.mark.parametrize("argv, expected", [
    (["--policy-dir", "/nonexistent"], ("replylint serve: --policy-dir /nonexistent: not a "
                                       "directory")),
    (["--token-file", "/nonexistent"], ("replylint serve: --token-file /nonexistent: cannot "
                                       "read: No such file or directory")),
])
def test_a_bad_start_is_one_line_and_exit_2(argv: list[str], expected: str,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert serve_command(argv) == 2
    assert capsys.readouterr().err == expected + "\n"


@pytest.mark.parametrize("port, shown", [("99999", "99999"), ("65536", "65536"), ("-5", "-5"),
                                         ("http", "'http'")])
def test_a_port_out_of_range_is_a_one_line_usage_error(port: str, shown: str,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    # Regression: --port 99999 bound port 34463 (99999 - 65536); --port -5 failed on DNS.
    assert serve_command(["--port", port]) == 2
    assert capsys.readouterr().err == (
        f"replylint serve: error: argument --port: expected a port number from 0 to 65535, "
        f"got {shown} (see replylint serve --help)\n")


def test_every_argument_error_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert serve_command(["--deadline-ms", "0"]) == 2
    assert serve_command(["--nope"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        ("replylint serve: error: argument --deadline-ms: expected a number >= 1, got 0 "
         "(see replylint serve --help)"),
        "replylint serve: error: unrecognized arguments: --nope (see replylint serve --help)"]


def test_on_incomplete_takes_allow_or_block(capsys: pytest.CaptureFixture[str]) -> None:
    assert serve_command(["--on-incomplete", "send"]) == 2
    assert capsys.readouterr().err == (
        "replylint serve: error: argument --on-incomplete: expected allow or block, got 'send' "
        "(see replylint serve --help)\n")


def test_max_violations_is_a_positive_number(capsys: pytest.CaptureFixture[str]) -> None:
    assert serve_command(["--max-violations", "0"]) == 2
    assert "argument --max-violations: expected a number >= 1" in capsys.readouterr().err


def test_an_empty_token_file_is_refused(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "token"
    empty.write_text("\n")
    assert serve_command(["--token-file", str(empty)]) == 2
    assert capsys.readouterr().err == f"replylint serve: --token-file {empty}: the file is empty\n"


def test_without_the_serve_extra_the_command_says_how_to_install(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, "fastapi", None)
    assert serve_command([]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and 'pip install "replylint[serve]"' in err


def test_importing_replylint_and_the_server_module_does_not_import_the_web_stack() -> None:
    code = ("import sys, replylint, replylint.hook, replylint.server; "
            "print([m for m in ('fastapi', 'uvicorn', 'starlette') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
