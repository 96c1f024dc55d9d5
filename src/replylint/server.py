"""`replylint serve`: the HTTP pre-send hook help desks and chat tools call before a reply goes out.

Policies are compiled and warmed once at start; each request is one check run in a worker thread
under a deadline. Client mistakes are answered with RFC 9457 problem documents, never a 500.
FastAPI and uvicorn are imported only here (the `serve` extra), so `import replylint` stays light.
(No `from __future__ import annotations`: FastAPI resolves the endpoints' annotations at runtime.)
"""

import argparse
import asyncio
import hashlib
import hmac
import json
import logging
import os
import queue
import random
import re
import signal
import socket
import sys
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, MutableMapping
from concurrent.futures import Future
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

from . import __version__
from .errors import PolicyError, ReplylintError
from .exitcodes import ExitCode
from .hook import verdict_message
from .linter import Linter
from .model import Context, Decision, Report, Severity

if TYPE_CHECKING:  # pragma: no cover
    from fastapi import FastAPI
    from starlette.requests import Request

INSTALL_HINT = 'pip install "replylint[serve]"'
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8787
MAX_JSON_DEPTH = 32
REQUEST_ID_MAX = 128
# How long after the deadline the server still waits for a check that is finishing its last
# rule, so a report that found something is not replaced by "unfinished" for a few ms.
DEADLINE_GRACE = 0.05
# After the listener closes, how long connections it accepted last have to deliver a request.
ACCEPT_GRACE = 0.25
WARM_TEXT = "Hi Dana, thanks for your patience! Your refund is on its way. ^MS"
# Probes and docs: no token, and never counted against --max-in-flight (liveness must not
# depend on load, and none of them runs a check).
OPEN_PATHS = frozenset({"/healthz", "/readyz", "/docs", "/docs/oauth2-redirect", "/redoc",
                        "/openapi.json"})
GETSTREAM_PATH = "/v1/adapters/getstream/before-message-send"
CHECK_KEYS = ("text", "context", "policy")
BATCH_ITEM_KEYS = ("id", "text", "context", "policy")
_REQUEST_ID_CHARS = re.compile(r"[^A-Za-z0-9._:\-]")
_SURROGATE = re.compile("[\ud800-\udfff]")
Message = MutableMapping[str, Any]
Scope = MutableMapping[str, Any]
Send = Callable[[Message], Awaitable[None]]
Receive = Callable[[], Awaitable[Message]]
T = TypeVar("T")
_ids = random.Random()  # request ids need to be unique, not secret; os.urandom is slow here

# slug -> (status, title, what it means): the `type` of a problem document is /problems/<slug>.
PROBLEMS: dict[str, tuple[int, str, str]] = {
    "body-not-json": (400, "Request body is not JSON",
                      "The body could not be parsed as one JSON value (RFC 8259)."),
    "invalid-utf8": (400, "Request body is not UTF-8", "JSON bodies must be encoded in UTF-8."),
    "json-too-deep": (400, "JSON nested too deeply",
                      f"Objects and arrays may nest at most {MAX_JSON_DEPTH} levels."),
    "invalid-string": (400, "Unpaired surrogate in a string",
                       "A \\uD800-\\uDFFF escape without its pair is not a character."),
    "unauthorized": (401, "Missing or wrong credentials",
                     "Send `Authorization: Bearer <token>` (or a valid GetStream X-Signature)."),
    "malformed-http": (400, "Malformed HTTP request",
                       "The request line or headers are not valid HTTP/1.1."),
    "not-found": (404, "No such endpoint", "See /docs for the endpoints."),
    "method-not-allowed": (405, "Method not allowed", "See /docs for each endpoint's method."),
    "body-timeout": (408, "Request body too slow",
                     "The whole body must arrive within --body-timeout seconds of the headers."),
    "body-too-large": (413, "Request body too large",
                       "The body is larger than the server's --max-body-bytes."),
    "text-too-long": (413, "Reply text too long",
                      "The reply is longer than the server's --max-text-chars."),
    "batch-too-large": (413, "Too many items in one batch",
                        "A batch holds at most --max-batch items."),
    "unsupported-media-type": (415, "Unsupported media type",
                               "Send `Content-Type: application/json` (UTF-8)."),
    "invalid-request": (422, "Request does not match the schema",
                        "A field is missing, unknown or of the wrong type; see `errors`."),
    "unknown-policy": (422, "Unknown policy",
                       "`policy` must name one of the policies the server loaded (GET /v1/rules)."),
    "internal-error": (500, "Internal error",
                       "The check failed on the server; the request id is in the log."),
    "overloaded": (503, "Server busy", "Too many requests in flight; retry shortly."),
    "shutting-down": (503, "Server shutting down",
                      "The server is stopping: retry the request (on another instance)."),
    "not-ready": (503, "Not ready", "Policies are still being compiled and warmed."),
}


class Problem(Exception):
    """An RFC 9457 problem to answer with; raised anywhere in request handling."""

    def __init__(self, slug: str, detail: str, *, errors: list[dict[str, str]] | None = None,
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(detail)
        self.slug = slug
        self.status = PROBLEMS[slug][0]
        self.detail = detail
        self.errors = errors
        self.headers = dict(headers or {})

    def document(self, instance: str, request_id: str | None) -> dict[str, Any]:
        doc: dict[str, Any] = {"type": f"/problems/{self.slug}", "title": PROBLEMS[self.slug][1],
                               "status": self.status, "detail": self.detail,
                               "instance": instance}
        if request_id:
            doc["request_id"] = request_id
        if self.errors:
            doc["errors"] = self.errors
        return doc


# --------------------------------------------------------------------------- configuration


@dataclass
class ServerConfig:
    """Everything a running server needs: compiled policies and the limits it enforces."""

    linters: dict[str, Linter]
    default: str
    max_text_chars: int = 20_000
    max_body_bytes: int = 1_000_000
    max_batch: int = 100
    max_violations: int = 100
    deadline_ms: int = 300
    threads: int = 4
    max_in_flight: int = 256
    body_timeout: float = 5.0
    on_incomplete: str = "allow"
    token: str | None = field(default=None, repr=False)
    getstream_secret: str | None = field(default=None, repr=False)

    @property
    def drain_limit(self) -> int:
        """Read (and discard) an oversized body up to this size so the client gets its 413."""
        return max(16 * self.max_body_bytes, 16 * 1024 * 1024)


def load_policies(specs: list[str], policy_dir: str | None = None) -> dict[str, Linter]:
    """Compile every policy once: `SPEC`, `NAME=SPEC` or each *.yaml of a directory (by stem).

    Collects the problems of every policy before raising, so one start-up shows them all.
    """
    named: list[tuple[str | None, str]] = []
    for spec in specs:
        label, sep, target = spec.partition("=")
        if sep and label and not label.startswith("pack:") and "/" not in label:
            named.append((label, target))
        else:
            named.append((None, spec))
    if policy_dir is not None:
        directory = Path(policy_dir)
        if not directory.is_dir():
            raise ReplylintError(f"--policy-dir {policy_dir}: not a directory")
        files = sorted(directory.glob("*.yaml")) + sorted(directory.glob("*.yml"))
        if not files:
            raise ReplylintError(f"--policy-dir {policy_dir}: no *.yaml policy files")
        named.extend((p.stem, str(p)) for p in files)
    if not named:
        named.append((None, "pack:default"))
    linters: dict[str, Linter] = {}
    issues: list[Any] = []
    for name, ref in named:
        try:
            linter = Linter.from_policy(ref)
        except PolicyError as exc:
            issues.extend(exc.issues)
            continue
        key = name or linter.policy.name
        if key in linters:
            raise ReplylintError(f"two policies are named {key!r}; name them with NAME=PATH")
        linters[key] = linter
    if issues:
        raise PolicyError(issues)
    return linters


def warm(linters: Mapping[str, Linter]) -> None:
    """Run one check per policy so lazy parts (the tokenizer, caches) load before traffic."""
    for linter in linters.values():
        linter.check(WARM_TEXT, {"agent": "MS", "customer": "Dana", "channel": "twitter"})


# --------------------------------------------------------------------------- request parsing


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def parse_json(body: bytes) -> Any:
    """Decode a UTF-8 JSON body, refusing what would break later: NaN, deep nesting, lone
    surrogates, integers too long to convert."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Problem("invalid-utf8", f"byte 0x{body[exc.start]:02x} at offset {exc.start} "
                                      f"is not valid UTF-8") from None
    text = text.removeprefix("\ufeff")
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise Problem("json-too-deep", f"JSON nests deeper than {MAX_JSON_DEPTH} levels") from None
    except ValueError as exc:
        raise Problem("body-not-json", f"the body is not valid JSON: {exc}") from None
    _inspect(value)
    return value


def _inspect(value: Any) -> None:
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                raise Problem("invalid-string", "a string contains an unpaired UTF-16 surrogate")
        elif isinstance(item, (dict, list)):
            if depth > MAX_JSON_DEPTH:
                raise Problem("json-too-deep",
                              f"JSON nests deeper than {MAX_JSON_DEPTH} levels")
            if isinstance(item, dict):
                stack.extend((k, depth) for k in item)
                stack.extend((v, depth + 1) for v in item.values())
            else:
                stack.extend((v, depth + 1) for v in item)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


@dataclass(frozen=True)
class CheckItem:
    """One validated reply to check."""

    text: str
    context: Context
    policy: str


def validate_item(obj: Any, config: ServerConfig, *, pointer: str = "",
                  keys: tuple[str, ...] = CHECK_KEYS) -> CheckItem:
    """Turn one request object into a CheckItem, or raise the Problem that says what is wrong."""
    if not isinstance(obj, dict):
        raise Problem("invalid-request", f"expected a JSON object, found {_json_type(obj)}",
                      errors=[{"pointer": pointer or "/", "detail": "expected an object"}])
    errors: list[dict[str, str]] = []
    for key in obj:
        if key not in keys:
            errors.append({"pointer": f"{pointer}/{_escape(key)}",
                           "detail": f"unknown field {key!r}; allowed: {', '.join(keys)}"})
    text = obj.get("text")
    if "text" not in obj:
        errors.append({"pointer": f"{pointer}/text", "detail": "required field is missing"})
    elif not isinstance(text, str):
        errors.append({"pointer": f"{pointer}/text",
                       "detail": f"expected a string, found {_json_type(text)}"})
    context = obj.get("context")
    if context is not None:
        errors.extend(_context_errors(context, f"{pointer}/context"))
    policy = obj.get("policy")
    if policy is not None and not isinstance(policy, str):
        errors.append({"pointer": f"{pointer}/policy",
                       "detail": f"expected a string, found {_json_type(policy)}"})
    if "id" in obj and not isinstance(obj["id"], (str, int)) or isinstance(obj.get("id"), bool):
        errors.append({"pointer": f"{pointer}/id",
                       "detail": f"expected a string or integer, found {_json_type(obj['id'])}"})
    if errors:
        raise Problem("invalid-request", errors[0]["detail"] if len(errors) == 1
                      else f"{len(errors)} fields are invalid", errors=errors)
    assert isinstance(text, str)
    if len(text) > config.max_text_chars:
        raise Problem("text-too-long", f"the reply has {len(text):,} characters; the limit is "
                                       f"{config.max_text_chars:,}")
    name = policy if isinstance(policy, str) else config.default
    if name not in config.linters:
        raise Problem("unknown-policy", f"no policy named {name!r}; this server has: "
                                        f"{', '.join(config.linters)}",
                      errors=[{"pointer": f"{pointer}/policy", "detail": "unknown policy"}])
    return CheckItem(text, Context.from_mapping(context), name)


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def _context_errors(context: Any, pointer: str) -> list[dict[str, str]]:
    if not isinstance(context, dict):
        return [{"pointer": pointer, "detail": f"expected an object, found {_json_type(context)}"}]
    errors: list[dict[str, str]] = []
    for key, value in context.items():
        where = f"{pointer}/{_escape(key)}"
        if key == "disable":
            if not (isinstance(value, str) or (isinstance(value, list)
                                               and all(isinstance(v, str) for v in value))):
                errors.append({"pointer": where,
                               "detail": "expected a rule id or a list of rule ids"})
        elif key == "replylint":
            if not isinstance(value, dict):
                errors.append({"pointer": where, "detail": "expected an object with `disable` "
                                                           "and `reason`"})
            else:
                errors.extend(_context_errors(value, where))
        elif key == "public":
            if value is not None and not isinstance(value, bool):
                errors.append({"pointer": where,
                               "detail": f"expected a boolean, found {_json_type(value)}"})
        elif isinstance(value, (dict, list)):
            errors.append({"pointer": where, "detail": f"expected a string, number or boolean, "
                                                       f"found {_json_type(value)}"})
    return errors


# --------------------------------------------------------------------------- checking


INCOMPLETE_BLOCKED = ("Blocked: the check did not finish in time, so this reply was not fully "
                      "checked; try again in a moment.")


_SEVERITY_RANK = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


def report_body(report: Report, started: float, *, name: str | None = None,
                on_incomplete: str = "allow", max_violations: int | None = None
                ) -> dict[str, Any]:
    """The JSON answer for one reply: the report plus one sentence for the agent and timing.

    `policy` is the name the policy is served under (`name`, as requests and logs say it),
    `policy_name` its own name from the YAML.

    At most `max_violations` are listed (the most severe, in text order) with `truncated` and
    `violations_total`; the decision and the message come from all of them. With
    `on_incomplete="block"`, a check that did not finish is a block whatever it found.
    """
    found = report.violations
    shown = found
    if max_violations is not None and len(found) > max_violations:
        keep = sorted(range(len(found)), key=lambda i: (_SEVERITY_RANK[found[i].severity], i))
        shown = tuple(found[i] for i in sorted(keep[:max_violations]))
    body = report.to_dict() if shown is found else replace(report, violations=shown).to_dict()
    body = {"decision": body["decision"], "ok": body["ok"], "policy": name or report.policy,
            "policy_name": report.policy,
            **{k: body[k] for k in ("policy_hash", "violations")},
            "truncated": len(shown) < len(found), "violations_total": len(found),
            **{k: body[k] for k in ("suppressed", "incomplete")}}
    body["message"] = verdict_message(report)
    if report.incomplete and on_incomplete == "block" and report.decision is not Decision.BLOCK:
        body.update(decision=Decision.BLOCK.value, ok=False, message=INCOMPLETE_BLOCKED)
    body["elapsed_ms"] = round((time.monotonic() - started) * 1000, 3)
    return body


def _dumps(value: Any) -> bytes:
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(value, separators=(",", ":")).encode("ascii")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _log(record: dict[str, Any]) -> None:
    try:
        sys.stderr.write(json.dumps({"time": _now(), **record}, ensure_ascii=True) + "\n")
        sys.stderr.flush()
    except (OSError, ValueError):  # pragma: no cover - stderr closed
        pass


def _request_id(raw: bytes | None) -> str:
    if raw:
        cleaned = _REQUEST_ID_CHARS.sub("", raw.decode("latin-1"))[:REQUEST_ID_MAX]
        if cleaned:
            return cleaned
    return f"{_ids.getrandbits(128):032x}"


def _bearer_ok(authorization: str | None, token: str) -> bool:
    if not authorization:
        return False
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(value.strip().encode("utf-8", "replace"), token.encode("utf-8"))


def unfinished_report(linter: Linter) -> Report:
    """The verdict for a check that had not finished by its deadline: nothing known yet."""
    return Report(decision=Decision.ALLOW, violations=(), policy=linter.policy.name,
                  policy_hash=linter.policy.hash, incomplete=True)


class _Stats:
    """Requests started and finished (the shutdown log proves none was dropped), the ones in
    flight, and checks still running after their request was answered: the last two together
    count against --max-in-flight."""

    def __init__(self) -> None:
        self.started = 0
        self.finished = 0
        self.in_flight = 0
        self.background = 0
        self.cut_short = 0

    @property
    def busy(self) -> int:
        return self.in_flight + self.background


class _Phase:
    """Where the server is in its life, shared by the gate, the endpoints and uvicorn's loop."""

    def __init__(self) -> None:
        self.ready = False  # policies warmed: /readyz answers 200
        self.draining = False  # SIGTERM came: /readyz 503, every answer says Connection: close
        self.stopping = False  # the listener is closed; cancelled requests are answered 503


class _Workers:
    """A fixed number of daemon threads running checks from one queue.

    Not a ThreadPoolExecutor: Python joins those threads when the interpreter exits, so one
    runaway check (a regex backtracking for minutes) would hold the process up after SIGTERM.
    A check is a pure function with nothing to clean up, so it may simply die with the process.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._jobs: queue.SimpleQueue[tuple[Future[Any], Callable[[], Any]] | None] = (
            queue.SimpleQueue())
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    def submit(self, fn: Callable[[], T]) -> "Future[T]":
        if len(self._threads) < self.size:
            with self._lock:
                while len(self._threads) < self.size:
                    thread = threading.Thread(target=self._work, daemon=True,
                                              name=f"replylint-check-{len(self._threads)}")
                    thread.start()
                    self._threads.append(thread)
        future: Future[T] = Future()
        self._jobs.put((future, fn))
        return future

    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            future, fn = job
            if future.set_running_or_notify_cancel():  # False: cancelled while queued
                try:
                    future.set_result(fn())
                except BaseException as exc:  # noqa: BLE001 - handed to whoever awaits it
                    future.set_exception(exc)

    def close(self) -> None:
        """Let the threads end once idle; never waits for a check still running."""
        for _ in self._threads:
            self._jobs.put(None)


class HookApp:
    """The ASGI application: FastAPI inside a gate for request ids, the in-flight limit, bearer
    auth, `Connection: close` while draining, the 503 for requests cut short at shutdown, and
    access logs (pure ASGI, so the gate costs microseconds, not a middleware stack)."""

    def __init__(self, app: "FastAPI", config: ServerConfig, stats: _Stats,
                 phase: _Phase) -> None:
        self.app = app
        self.fastapi = app
        self.config = config
        self.stats = stats
        self.phase = phase

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.monotonic()
        headers = dict(scope.get("headers") or [])
        rid = _request_id(headers.get(b"x-request-id"))
        state = scope.setdefault("state", {})
        state["request_id"] = rid
        state["started"] = started
        status = 0
        path: str = scope.get("path", "")

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                extra = [(b"x-request-id", rid.encode("ascii"))]
                if (self.phase.draining or self.phase.stopping) and not any(
                        k.lower() == b"connection" for k, _ in message.get("headers", [])):
                    # Clients move off their keep-alive connections while the listener
                    # still accepts, instead of sending on one as it is closed.
                    extra.append((b"connection", b"close"))
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        counted = path not in OPEN_PATHS
        self.stats.started += 1
        self.stats.in_flight += counted
        try:
            problem: Problem | None = None
            if counted and self.stats.busy > self.config.max_in_flight:
                problem = Problem("overloaded", f"more than {self.config.max_in_flight} "
                                                f"requests in flight", headers={"retry-after": "1"})
            elif (self.config.token and path.startswith("/v1/") and path != GETSTREAM_PATH
                  and not _bearer_ok(_header(headers, b"authorization"), self.config.token)):
                problem = Problem("unauthorized", "a valid bearer token is required",
                                  headers={"www-authenticate": 'Bearer realm="replylint"'})
            if problem is not None:
                if _header(headers, b"content-length") not in (None, "0") or \
                        b"transfer-encoding" in headers:
                    # The body is left unread: close rather than wait for the rest of it.
                    problem.headers["connection"] = "close"
                await _send_problem(send_with_id, problem, path, rid)
            else:
                await self.app(scope, receive, send_with_id)
        except asyncio.CancelledError:
            # uvicorn cancels what still runs when --shutdown-timeout runs out: answer 503
            # (a retry can go elsewhere), not uvicorn's bare text 500.
            if not self.phase.stopping or status:
                raise
            task = asyncio.current_task()
            if task is not None:
                task.uncancel()
            self.stats.cut_short += 1
            await _send_problem(send_with_id, Problem(
                "shutting-down", "the server is shutting down and this request did not finish "
                                 "within its --shutdown-timeout",
                headers={"retry-after": "1", "connection": "close"}), path, rid)
        finally:
            self.stats.in_flight -= counted
            self.stats.finished += 1
            record: dict[str, Any] = {
                "event": "request", "request_id": rid, "method": scope.get("method"),
                "path": path, "status": status,
                "elapsed_ms": round((time.monotonic() - started) * 1000, 3)}
            for key in ("decision", "decisions", "policy", "incomplete", "on_incomplete",
                        "message_id", "cid"):
                if key in state:
                    record[key] = state[key]
            _log(record)


def _header(headers: Mapping[bytes, bytes], name: bytes) -> str | None:
    value = headers.get(name)
    return value.decode("latin-1") if value is not None else None


async def _send_problem(send: Send, problem: Problem,
                        path: str, rid: str) -> None:
    body = _dumps(problem.document(path, rid))
    headers = [(b"content-type", b"application/problem+json"),
               (b"content-length", str(len(body)).encode())]
    headers += [(k.encode("latin-1"), v.encode("latin-1")) for k, v in problem.headers.items()]
    await send({"type": "http.response.start", "status": problem.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


# --------------------------------------------------------------------------- the application


def _schemas() -> dict[str, Any]:
    ref = "#/components/schemas/"
    scalar = {"type": ["string", "number", "boolean", "null"]}
    return {
        "Context": {
            "type": "object", "description": "What the linter knows about the reply besides "
                                             "its text; other keys are message placeholders.",
            "properties": {
                "channel": {"type": "string", "examples": ["twitter"]},
                "agent": {"type": "string", "examples": ["MS"]},
                "customer": {"type": "string", "examples": ["Dana"]},
                "public": {"type": "boolean"},
                "disable": {"oneOf": [{"type": "string"},
                                      {"type": "array", "items": {"type": "string"}}]},
                "reason": {"type": "string"},
            },
            "additionalProperties": scalar,
        },
        "CheckRequest": {
            "type": "object", "required": ["text"], "additionalProperties": False,
            "properties": {
                "text": {"type": "string",
                         "description": "The reply, exactly as it would be sent."},
                "context": {"$ref": ref + "Context"},
                "policy": {"type": "string", "description": "A policy name from GET /v1/rules; "
                                                            "default: the server's first policy."},
            },
            "examples": [{"text": "Honestly you should buy more $TSLA now! ^MS",
                          "context": {"channel": "twitter", "agent": "MS"}}],
        },
        "BatchItem": {
            "type": "object", "required": ["text"], "additionalProperties": False,
            "properties": {"id": {"type": ["string", "integer"]},
                           "text": {"type": "string"}, "context": {"$ref": ref + "Context"},
                           "policy": {"type": "string"}},
        },
        "BatchRequest": {
            "type": "object", "required": ["items"], "additionalProperties": False,
            "properties": {"items": {"type": "array", "items": {"$ref": ref + "BatchItem"}}},
        },
        "Edit": {"type": "object", "properties": {"start": {"type": "integer"},
                                                  "end": {"type": "integer"},
                                                  "replacement": {"type": "string"}}},
        "Violation": {
            "type": "object",
            "properties": {
                "rule": {"type": "string"},
                "severity": {"enum": ["error", "warning", "info"]},
                "message": {"type": "string"},
                "start": {"type": "integer", "description": "0-based character offset"},
                "end": {"type": "integer", "description": "exclusive"},
                "line": {"type": "integer"}, "column": {"type": "integer"},
                "end_line": {"type": "integer"}, "end_column": {"type": "integer"},
                "matched": {"type": "string"},
                "suggestions": {"type": "array", "items": {"type": "string"}},
                "fix": {"type": ["array", "null"], "items": {"$ref": ref + "Edit"}},
                "why": {"type": ["string", "null"]},
            },
        },
        "CheckResponse": {
            "type": "object",
            "properties": {
                "decision": {"enum": ["allow", "warn", "block"]},
                "ok": {"type": "boolean", "description": "false only when decision is block"},
                "message": {"type": "string", "description": "One sentence for the agent."},
                "policy": {"type": "string",
                           "description": "the name the policy is served under"},
                "policy_name": {"type": "string",
                                "description": "the policy's own name, from its YAML"},
                "policy_hash": {"type": "string"},
                "violations": {"type": "array", "items": {"$ref": ref + "Violation"},
                               "description": "at most --max-violations, the most severe, in "
                                              "text order"},
                "truncated": {"type": "boolean",
                              "description": "true when violations lists fewer than were found"},
                "violations_total": {"type": "integer",
                                     "description": "how many violations were found"},
                "suppressed": {"type": "array", "items": {"type": "string"}},
                "incomplete": {"type": "boolean",
                               "description": "true when the deadline skipped some rules"},
                "elapsed_ms": {"type": "number"},
            },
        },
        "BatchResponse": {
            "type": "object",
            "properties": {
                "results": {"type": "array", "items": {"oneOf": [
                    {"allOf": [{"$ref": ref + "CheckResponse"},
                               {"type": "object", "properties": {
                                   "index": {"type": "integer"},
                                   "id": {"type": ["string", "integer"]}}}]},
                    {"type": "object", "properties": {
                        "index": {"type": "integer"}, "id": {"type": ["string", "integer"]},
                        "error": {"$ref": ref + "Problem"}}}]}},
                "incomplete": {"type": "boolean"},
                "elapsed_ms": {"type": "number"},
            },
        },
        "Problem": {
            "type": "object", "description": "RFC 9457 problem details.",
            "properties": {
                "type": {"type": "string", "examples": ["/problems/body-not-json"]},
                "title": {"type": "string"}, "status": {"type": "integer"},
                "detail": {"type": "string"}, "instance": {"type": "string"},
                "request_id": {"type": "string"},
                "errors": {"type": "array", "items": {"type": "object", "properties": {
                    "pointer": {"type": "string"}, "detail": {"type": "string"}}}},
            },
        },
    }


def _body_spec(name: str) -> dict[str, Any]:
    return {"requestBody": {"required": True, "content": {
        "application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}}}}


def _responses(name: str, *statuses: int) -> dict[int | str, dict[str, Any]]:
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    out: dict[int | str, dict[str, Any]] = {200: {"description": "OK", "content": {
        "application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}}}}
    for status in statuses:
        titles = sorted({t for s, t, _ in PROBLEMS.values() if s == status})
        out[status] = {"description": "; ".join(titles), "content": problem}
    return out


def create_app(config: ServerConfig) -> HookApp:
    """Build the ASGI application; `.fastapi` is the FastAPI app inside (routes, OpenAPI)."""
    from fastapi import FastAPI
    from fastapi.openapi.utils import get_openapi
    from starlette.exceptions import HTTPException
    from starlette.requests import ClientDisconnect, Request
    from starlette.responses import Response

    stats = _Stats()
    phase = _Phase()
    workers = _Workers(config.threads)

    @asynccontextmanager
    async def lifespan(_: Any) -> AsyncIterator[None]:
        if not phase.ready:
            await asyncio.wrap_future(workers.submit(lambda: warm(config.linters)))
            phase.ready = True
        yield
        phase.ready = False
        # Requests cut short by the shutdown timeout are writing their 503s: let them finish.
        end = time.monotonic() + 1
        while stats.started > stats.finished and time.monotonic() < end:
            await asyncio.sleep(0.01)
        workers.close()  # never waits: a check still running dies with the process
        _log({"event": "shutdown", "requests_started": stats.started,
              "requests_finished": stats.finished, "requests_cut_short": stats.cut_short,
              "checks_abandoned": stats.background})

    app = FastAPI(title="replylint", version=__version__, lifespan=lifespan,
                  description="The pre-send hook: check a customer-service reply before it "
                              "goes out. Every verdict is a 200; client mistakes are RFC 9457 "
                              "problem documents.")
    app.state.config = config
    app.state.stats = stats

    def json_response(value: Any, status: int = 200) -> Response:
        return Response(_dumps(value), status_code=status, media_type="application/json")

    def problem_response(request: Request, problem: Problem) -> Response:
        rid = request.scope.get("state", {}).get("request_id")
        return Response(_dumps(problem.document(request.url.path, rid)),
                        status_code=problem.status, media_type="application/problem+json",
                        headers=problem.headers)

    async def on_problem(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Problem)
        return problem_response(request, exc)

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        slug = {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code)
        if slug is None:
            slug = "body-not-json" if exc.status_code == 400 else "internal-error"
        problem = Problem(slug, str(exc.detail), headers=exc.headers)
        problem.status = exc.status_code
        return problem_response(request, problem)

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(HTTPException, on_http_error)

    async def read_body(request: Request) -> bytes:
        ctype = (request.headers.get("content-type") or "").split(";")
        media = ctype[0].strip().lower()
        params = {k.strip().lower(): v.strip().strip('"').lower()
                  for k, _, v in (p.partition("=") for p in ctype[1:])}
        if not (media == "application/json" or (media.startswith("application/")
                                                and media.endswith("+json"))):
            raise Problem("unsupported-media-type",
                          f"expected application/json, got {media or 'no Content-Type'}")
        if params.get("charset", "utf-8") not in ("utf-8", "utf8"):
            raise Problem("unsupported-media-type",
                          f"expected UTF-8, got charset={params['charset']}")
        limit = config.max_body_bytes
        too_large = Problem("body-too-large", f"the body is larger than {limit:,} bytes",
                            headers={"connection": "close"})
        declared = request.headers.get("content-length")
        if declared is not None:
            if not declared.isdigit():
                raise Problem("body-not-json", "Content-Length is not a number")
            # Refuse without reading when the client waits for 100-continue or sends far too
            # much; otherwise read and discard, so the client is not reset before it reads 413.
            if int(declared) > limit and (int(declared) > config.drain_limit
                                          or "100-continue" in
                                          (request.headers.get("expect") or "").lower()):
                raise too_large
        chunks: list[bytes] = []
        size = 0
        # A client that sends half a body and waits must not hold its in-flight slot for as
        # long as it keeps the socket open: the whole body gets --body-timeout from arrival.
        started: float = request.scope["state"]["started"]
        try:
            async with asyncio.timeout(max(0.0, started + config.body_timeout
                                           - time.monotonic())):
                async for chunk in request.stream():
                    size += len(chunk)
                    if size > config.drain_limit:
                        raise too_large
                    if size <= limit:
                        chunks.append(chunk)
        except ClientDisconnect:
            raise Problem("body-not-json", "the client disconnected before the body "
                                           "was complete") from None
        except TimeoutError:
            raise Problem("body-timeout", f"the body did not arrive within "
                                          f"{config.body_timeout:g} s ({size:,} bytes came)",
                          headers={"connection": "close"}) from None
        if size > limit:
            raise too_large
        return b"".join(chunks)

    async def run(fn: Callable[[], T], until: float) -> T | None:
        """fn's result from a worker thread, or None when it has not finished by `until`
        (plus a short grace): the answer never waits for a rule that has started and runs on.

        An unfinished job that has not started is cancelled; one that has keeps its thread until
        it ends (a thread cannot be stopped) and counts against --max-in-flight meanwhile, so a
        flood of slow checks is refused with 503s instead of piling up."""
        job = workers.submit(fn)
        waiter = asyncio.wrap_future(job)
        try:
            done, _ = await asyncio.wait(
                {waiter}, timeout=max(0.0, until + DEADLINE_GRACE - time.monotonic()))
        finally:
            if not waiter.done():
                abandon(job, waiter)
        if not done:
            return None
        try:
            return waiter.result()
        except ReplylintError as exc:
            raise Problem("internal-error", f"the check failed: {exc}") from None
        except Exception as exc:  # noqa: BLE001 - a rule bug must be a 500 problem, not a crash
            _log({"event": "error", "error": type(exc).__name__, "detail": str(exc)[:300]})
            raise Problem("internal-error", "the check failed on the server") from None

    def abandon(job: "Future[Any]", waiter: "asyncio.Future[Any]") -> None:
        if job.cancel():  # still queued: it never runs
            return
        stats.background += 1

        def ended(future: "asyncio.Future[Any]") -> None:
            stats.background -= 1
            if not future.cancelled() and future.exception() is not None:
                exc = future.exception()
                _log({"event": "error", "error": type(exc).__name__,
                      "detail": str(exc)[:300], "after_deadline": True})

        waiter.add_done_callback(ended)

    def deadline(request: Request) -> float:
        started = request.scope["state"]["started"]
        return float(started) + config.deadline_ms / 1000

    def check_now(item: CheckItem, until: float, started: float) -> dict[str, Any]:
        report = config.linters[item.policy].check(item.text, item.context, deadline=until)
        return report_body(report, started, name=item.policy, on_incomplete=config.on_incomplete,
                           max_violations=config.max_violations)

    def unfinished(item: CheckItem, started: float) -> dict[str, Any]:
        return report_body(unfinished_report(config.linters[item.policy]), started,
                           name=item.policy, on_incomplete=config.on_incomplete)

    def note_incomplete(state: dict[str, Any]) -> None:
        # Loud in the access log: this reply was answered without a complete check.
        state.update(incomplete=True, on_incomplete=config.on_incomplete)

    async def check_one(item: CheckItem, request: Request) -> dict[str, Any]:
        started = request.scope["state"]["started"]
        until = deadline(request)
        body = await run(lambda: check_now(item, until, started), until)
        return unfinished(item, started) if body is None else body

    @app.post("/v1/check", summary="Check one reply", openapi_extra=_body_spec("CheckRequest"),
              responses=_responses("CheckResponse", 400, 401, 408, 413, 415, 422, 503))
    async def check(request: Request) -> Response:
        """Check one reply. Answers 200 with the verdict (allow, warn or block) whatever it is."""
        item = validate_item(parse_json(await read_body(request)), config)
        body = await check_one(item, request)
        state = request.scope["state"]
        state.update(decision=body["decision"], policy=item.policy)
        if body["incomplete"]:
            note_incomplete(state)
        return json_response(body)

    @app.post("/v1/check/batch", summary="Check many replies",
              openapi_extra=_body_spec("BatchRequest"),
              responses=_responses("BatchResponse", 400, 401, 408, 413, 415, 422, 503))
    async def check_batch(request: Request) -> Response:
        """Check up to --max-batch replies; an invalid item gets its own `error`, the rest are
        checked. One deadline covers the whole batch."""
        payload = parse_json(await read_body(request))
        if not isinstance(payload, dict) or not isinstance(payload.get("items"), list):
            raise Problem("invalid-request", "expected an object with an `items` array",
                          errors=[{"pointer": "/items", "detail": "required array"}])
        extra = [k for k in payload if k != "items"]
        if extra:
            raise Problem("invalid-request", f"unknown field {extra[0]!r}; allowed: items",
                          errors=[{"pointer": f"/{_escape(k)}", "detail": "unknown field"}
                                  for k in extra])
        items: list[Any] = payload["items"]
        if len(items) > config.max_batch:
            raise Problem("batch-too-large", f"{len(items)} items; the limit is "
                                             f"{config.max_batch}")
        heads: list[dict[str, Any]] = []
        parsed: list[CheckItem | Problem] = []
        for i, raw in enumerate(items):
            head: dict[str, Any] = {"index": i}
            if isinstance(raw, dict) and isinstance(raw.get("id"), (str, int)) \
                    and not isinstance(raw.get("id"), bool):
                head["id"] = raw["id"]
            heads.append(head)
            try:
                parsed.append(validate_item(raw, config, pointer=f"/items/{i}",
                                            keys=BATCH_ITEM_KEYS))
            except Problem as exc:
                parsed.append(exc)
        started = request.scope["state"]["started"]
        until = deadline(request)
        rid = request.scope["state"]["request_id"]

        done: list[dict[str, Any]] = []  # filled in order by the worker thread
        cut = threading.Event()

        def answer(head: dict[str, Any], entry: CheckItem | Problem,
                   check: Callable[[CheckItem], dict[str, Any]]) -> dict[str, Any]:
            if isinstance(entry, Problem):
                return {**head, "error": entry.document(request.url.path, rid)}
            return {**head, **check(entry)}

        def check_all() -> list[dict[str, Any]]:
            for head, entry in zip(heads, parsed):
                if cut.is_set():
                    break
                done.append(answer(head, entry, lambda e: check_now(e, until, started)))
            return done

        results = await run(check_all, until)
        if results is None:  # cut by the deadline: what is done, and the rest unfinished
            cut.set()
            results = list(done)
            results += [answer(head, entry, lambda e: unfinished(e, started))
                        for head, entry in zip(heads[len(results):], parsed[len(results):])]
        counts: dict[str, int] = {}
        for r in results:
            key = r.get("decision", "error")
            counts[key] = counts.get(key, 0) + 1
        incomplete = any(r.get("incomplete") for r in results)
        state = request.scope["state"]
        state["decisions"] = counts
        if incomplete:
            note_incomplete(state)
        return json_response({"results": results, "incomplete": incomplete,
                              "elapsed_ms": round((time.monotonic() - started) * 1000, 3)})

    @app.get("/v1/rules", summary="The loaded policies and their rules")
    async def rules(policy: str | None = None) -> Response:
        """Every loaded policy (or one, with `?policy=NAME`): name, hash and rules."""
        names = list(config.linters)
        if policy is not None:
            if policy not in config.linters:
                raise Problem("unknown-policy", f"no policy named {policy!r}; this server has: "
                                                f"{', '.join(names)}")
            names = [policy]
        out = []
        for name in names:
            compiled = config.linters[name].policy
            out.append({
                "name": name, "policy_name": compiled.name, "hash": compiled.hash,
                "default": name == config.default, "disabled": list(compiled.disabled),
                "rules": [{"id": r.id, "type": r.type, "severity": r.severity.value,
                           "message": r.message, "why": r.why, "suppressible": r.suppressible,
                           "channels": list(r.channels) if r.channels else None}
                          for r in compiled.rules]})
        return json_response({"default": config.default, "policies": out})

    @app.get("/healthz", summary="Liveness")
    async def healthz() -> Response:
        """200 while the process serves requests."""
        return json_response({"status": "ok"})

    @app.get("/readyz", summary="Readiness", responses={503: {"description": "Not ready"}})
    async def readyz(request: Request) -> Response:
        """200 once every policy is compiled and warmed with one check; 503 before, and from
        SIGTERM on, so load balancers stop sending here while the server drains."""
        if phase.draining or phase.stopping:
            return problem_response(request, Problem("shutting-down", "the server is draining "
                                                                      "before it stops"))
        if not phase.ready:
            return problem_response(request, Problem("not-ready", "policies are warming up"))
        return json_response({"status": "ready", "policies": list(config.linters),
                              "default": config.default})

    @app.get("/problems/{slug}", summary="What a problem type means", include_in_schema=False)
    async def problem_type(slug: str) -> Response:
        if slug not in PROBLEMS:
            raise Problem("not-found", f"no problem type {slug!r}")
        status, title, description = PROBLEMS[slug]
        return json_response({"type": f"/problems/{slug}", "status": status, "title": title,
                              "description": description})

    @app.post(GETSTREAM_PATH, summary="GetStream Chat 'Before Message Send' webhook",
              openapi_extra={"requestBody": {"required": True, "content": {
                  "application/json": {"schema": {"type": "object", "required": ["message"]}}}}})
    async def getstream(request: Request, policy: str | None = None,
                        channel: str | None = None) -> Response:
        """GetStream sends {message, user, channel, request_info}; a blocked reply is answered
        with the message turned into `type: error` (Stream discards it and shows the text to the
        sender); anything else is returned unchanged so Stream sends it."""
        raw = await read_body(request)
        _getstream_auth(request, raw, config)
        payload = parse_json(raw)
        message = payload.get("message") if isinstance(payload, dict) else None
        if not isinstance(message, dict):
            raise Problem("invalid-request", "expected GetStream's payload with a `message` "
                                             "object", errors=[{"pointer": "/message",
                                                                "detail": "required object"}])
        text = message.get("text")
        if text is None or text == "":
            return json_response({"message": message})
        if not isinstance(text, str):
            raise Problem("invalid-request", "message.text must be a string",
                          errors=[{"pointer": "/message/text", "detail": "expected a string"}])
        context: dict[str, Any] = {"channel": channel} if channel else {}
        user = payload.get("user")
        if isinstance(user, dict) and isinstance(user.get("id"), str):
            context["user_id"] = user["id"]
        chan = payload.get("channel")
        if isinstance(chan, dict):
            for key in ("type", "id"):
                if isinstance(chan.get(key), str):
                    context[f"channel_{key}"] = chan[key]
        item = validate_item({"text": text, "context": context,
                              **({"policy": policy} if policy is not None else {})}, config)
        body = await check_one(item, request)
        state = request.scope["state"]
        state.update(decision=body["decision"], policy=item.policy)
        if isinstance(message.get("id"), str) and message["id"]:
            state["message_id"] = message["id"][:REQUEST_ID_MAX]
        if isinstance(chan, dict) and isinstance(chan.get("cid"), str):
            state["cid"] = chan["cid"][:REQUEST_ID_MAX]
        if body["incomplete"]:
            note_incomplete(state)
        if body["decision"] != Decision.BLOCK.value:
            answer: dict[str, Any] = {"message": message}
            if body["incomplete"]:
                # Stream reads only `message` and sends it; this says, to your logs and
                # tests, that it went out without a complete check.
                answer["replylint"] = {"decision": body["decision"], "incomplete": True,
                                       "on_incomplete": config.on_incomplete,
                                       "policy": body["policy"],
                                       "policy_name": body["policy_name"],
                                       "policy_hash": body["policy_hash"],
                                       "message": body["message"]}
            return json_response(answer)
        return json_response({"message": {
            **message, "type": "error", "text": body["message"],
            "replylint": {"decision": body["decision"], "incomplete": body["incomplete"],
                          "policy": body["policy"], "policy_name": body["policy_name"],
                          "policy_hash": body["policy_hash"],
                          "violations": [{k: v[k] for k in ("rule", "severity", "message",
                                                            "start", "end")}
                                         for v in body["violations"]]}}})

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version,
                                 description=app.description, routes=app.routes)
            schema.setdefault("components", {}).setdefault("schemas", {}).update(_schemas())
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return HookApp(app, config, stats, phase)


def _getstream_auth(request: "Request", raw: bytes, config: ServerConfig) -> None:
    """GetStream signs each call (X-Signature: hex HMAC-SHA256 of the body with the API secret);
    it cannot send a bearer token, so with a secret configured either credential is accepted."""
    if config.getstream_secret is None and config.token is None:
        return
    if config.token and _bearer_ok(request.headers.get("authorization"), config.token):
        return
    if config.getstream_secret is not None:
        expected = hmac.new(config.getstream_secret.encode(), raw, hashlib.sha256).hexdigest()
        given = (request.headers.get("x-signature") or "").strip().lower()
        if hmac.compare_digest(given.encode("ascii", "replace"), expected.encode()):
            return
    raise Problem("unauthorized", "a valid X-Signature or bearer token is required",
                  headers={"www-authenticate": 'Bearer realm="replylint"'})


# --------------------------------------------------------------------------- the command


class _JsonFormatter(logging.Formatter):
    """uvicorn's own messages as JSON lines, like the access log."""

    def format(self, record: logging.LogRecord) -> str:
        out = {"time": _now(), "event": "server", "level": record.levelname.lower(),
               "message": record.getMessage()}
        if record.exc_info:
            out["error"] = self.formatException(record.exc_info).splitlines()[-1]
        return json.dumps(out, ensure_ascii=True)


class _NotMalformed(logging.Filter):
    """uvicorn's warning about a malformed request: our access log line already says it."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != "Invalid HTTP request received."


LOG_CONFIG: dict[str, Any] = {
    "version": 1, "disable_existing_loggers": False,
    "formatters": {"json": {"()": "replylint.server._JsonFormatter"}},
    "filters": {"not_malformed": {"()": "replylint.server._NotMalformed"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json",
                            "stream": "ext://sys.stderr", "filters": ["not_malformed"]}},
    "loggers": {"uvicorn": {"handlers": ["stderr"], "level": "WARNING", "propagate": False},
                "uvicorn.error": {"level": "WARNING"},
                "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False}},
}


class _Parser(argparse.ArgumentParser):
    """Argument mistakes are one line and exit 2, like every other bad start."""

    def error(self, message: str) -> NoReturn:
        self.exit(int(ExitCode.ERROR), f"{self.prog}: error: {message} "
                                       f"(see {self.prog} --help)\n")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="replylint serve", allow_abbrev=False,
        description="Serve the pre-send hook over HTTP: POST /v1/check, /v1/check/batch, "
                    "GET /v1/rules, /healthz, /readyz, /docs.")
    p.add_argument("--policy", action="append", default=[], metavar="[NAME=]SPEC",
                   help="a policy file or pack:NAME (repeatable; NAME= names it for the "
                        "request's `policy`; the first is the default). Default: pack:default")
    p.add_argument("--policy-dir", metavar="DIR",
                   help="load every *.yaml in DIR, each named by its file stem")
    p.add_argument("--host", default=DEFAULT_HOST, help=f"address to bind (default {DEFAULT_HOST})")
    p.add_argument("--port", type=_port, default=DEFAULT_PORT,
                   help=f"port, 0 to 65535 (default {DEFAULT_PORT}; 0 picks a free one)")
    p.add_argument("--token-file", metavar="PATH",
                   help="require `Authorization: Bearer <token>` with the token in PATH "
                        "(or set REPLYLINT_TOKEN)")
    p.add_argument("--getstream-secret-file", metavar="PATH",
                   help="verify GetStream's X-Signature with the API secret in PATH "
                        "(or set REPLYLINT_GETSTREAM_SECRET)")
    p.add_argument("--max-text-chars", type=_positive, default=20_000,
                   help="longest reply accepted, in characters (default 20000; longer: 413)")
    p.add_argument("--max-body-bytes", type=_positive, default=1_000_000,
                   help="largest request body, in bytes (default 1000000; larger: 413)")
    p.add_argument("--max-batch", type=_positive, default=100,
                   help="most items in one /v1/check/batch request (default 100)")
    p.add_argument("--max-violations", type=_positive, default=100,
                   help="most violations listed in one answer, the most severe first; the "
                        "answer says truncated and violations_total (default 100)")
    p.add_argument("--deadline-ms", type=_positive, default=300,
                   help="per-request budget: the answer comes by then, incomplete if the check "
                        "has not finished (default 300)")
    p.add_argument("--on-incomplete", type=_on_incomplete, default="allow",
                   metavar="{allow,block}",
                   help="what a check that did not finish by the deadline means: allow (send; "
                        "the answer and log say incomplete) or block (default allow)")
    p.add_argument("--threads", type=_positive, default=4,
                   help="worker threads running checks (default 4)")
    p.add_argument("--max-in-flight", type=_positive, default=256,
                   help="requests handled at once; more get 503 (default 256)")
    p.add_argument("--body-timeout", type=_seconds, default=5.0, metavar="S",
                   help="seconds a request's whole body may take to arrive; slower: 408 and the "
                        "connection is closed (default 5)")
    p.add_argument("--drain-seconds", type=_drain, default=2.0, metavar="S",
                   help="after SIGTERM, seconds to keep accepting while /readyz says 503 and "
                        "every answer says Connection: close, so clients and load balancers "
                        "move off before the listener closes (default 2; 0: stop at once)")
    p.add_argument("--shutdown-timeout", type=_positive, default=10,
                   help="after the drain, seconds in-flight requests may take to finish; "
                        "then they are answered 503 (default 10)")
    p.add_argument("--keep-alive", type=_positive, default=5,
                   help="seconds an idle keep-alive connection stays open (default 5)")
    return p


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {value!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {number}")
    return number


def _on_incomplete(value: str) -> str:
    if value not in ("allow", "block"):
        raise argparse.ArgumentTypeError(f"expected allow or block, got {value!r}")
    return value


def _seconds(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {value!r}") from None
    if not number > 0 or number == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a number of seconds > 0, got {value}")
    return number


def _drain(value: str) -> float:
    return 0.0 if value.strip() in ("0", "0.0") else _seconds(value)


def _port(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = -1
    if not 0 <= number <= 65535:
        shown = value if value.lstrip("-").isdigit() else repr(value)
        raise argparse.ArgumentTypeError(f"expected a port number from 0 to 65535, got {shown}")
    return number


def _secret(path: str | None, env: str, flag: str) -> str | None:
    if path is not None:
        try:
            value = Path(path).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise ReplylintError(f"{flag} {path}: cannot read: "
                                 f"{getattr(exc, 'strerror', None) or exc}") from None
        if not value:
            raise ReplylintError(f"{flag} {path}: the file is empty")
        return value
    value = os.environ.get(env, "").strip()
    return value or None


def _bind(host: str, port: int) -> socket.socket:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ReplylintError(f"cannot resolve --host {host}: {exc.strerror}") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise ReplylintError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.set_inheritable(True)
    return sock


def _protocol_class() -> Any:
    """uvicorn's HTTP protocol, answering a malformed request with a problem document.

    uvicorn answers what its HTTP parser rejects (before any ASGI app sees it) with a text/plain
    400 from `send_400_response`, a method both its h11 and httptools protocols have; this
    overrides it for whichever one uvicorn picks.
    """
    from uvicorn.protocols.http.auto import AutoHTTPProtocol

    class HookProtocol(AutoHTTPProtocol):  # type: ignore[misc, valid-type]
        def send_400_response(self, msg: str) -> None:
            rid = _request_id(None)
            problem = Problem("malformed-http", "the request is not valid HTTP/1.1")
            body = _dumps({k: v for k, v in problem.document("", rid).items() if v != ""})
            self.transport.write(
                b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/problem+json\r\n"
                b"content-length: " + str(len(body)).encode() + b"\r\nconnection: close\r\n"
                b"x-request-id: " + rid.encode() + b"\r\n\r\n" + body)
            self.transport.close()
            _log({"event": "request", "request_id": rid, "method": None, "path": None,
                  "status": 400, "elapsed_ms": 0.0, "error": "malformed-http"})

    return HookProtocol


def _server_class(uvicorn: Any) -> Any:
    """uvicorn's Server with a drain phase after SIGTERM (imported late: the `serve` extra).

    uvicorn stops accepting at once and closes idle keep-alive connections, and a client that
    is sending on one at that moment loses its request. While draining, the listener stays
    open, /readyz says 503 and every answer carries `Connection: close`, so clients move to
    fresh connections (and load balancers elsewhere); then the usual graceful stop runs.
    Ctrl-C (SIGINT) stops at once, as a person at a terminal expects.
    """

    class HookServer(uvicorn.Server):  # type: ignore[misc]
        def __init__(self, hook: HookApp, config: Any, drain_seconds: float) -> None:
            super().__init__(config)
            self.hook = hook
            self.drain_seconds = drain_seconds
            self.drain_until: float | None = None
            self.drain_logged = False

        def handle_exit(self, sig: int, frame: Any) -> None:
            if (sig == signal.SIGTERM and self.drain_seconds > 0 and self.drain_until is None
                    and not self.should_exit):
                self._captured_signals.append(sig)  # re-raised at the end, as uvicorn does
                self.drain_until = time.monotonic() + self.drain_seconds
                self.hook.phase.draining = True
                return
            super().handle_exit(sig, frame)

        async def on_tick(self, counter: int) -> bool:
            if self.drain_until is not None:
                if not self.drain_logged:  # logged here: not from inside a signal handler
                    self.drain_logged = True
                    _log({"event": "draining", "seconds": self.drain_seconds})
                if time.monotonic() >= self.drain_until:
                    self.should_exit = True
            return bool(await super().on_tick(counter))

        async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
            self.hook.phase.stopping = True
            # Stop accepting, then give connections accepted a moment ago the time to deliver
            # the request they were already sending before uvicorn closes every connection
            # without a request in progress (closing one with unread data resets it).
            for server in self.servers:
                server.close()
            await asyncio.sleep(ACCEPT_GRACE)
            await super().shutdown(sockets)

    return HookServer


def _error(message: str) -> int:
    sys.stderr.write(f"replylint serve: {message}\n")
    return int(ExitCode.ERROR)


def serve_command(argv: list[str]) -> int:
    """`replylint serve ...`: compile, warm, bind, serve until SIGTERM/SIGINT; 2 on a bad start."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2), already printed
        return exc.code if isinstance(exc.code, int) else int(ExitCode.ERROR)
    try:
        import fastapi  # noqa: F401
        import uvicorn
    except ImportError:
        return _error(f"the HTTP server needs FastAPI and uvicorn: {INSTALL_HINT}")
    try:
        token = _secret(args.token_file, "REPLYLINT_TOKEN", "--token-file")
        gs_secret = _secret(args.getstream_secret_file, "REPLYLINT_GETSTREAM_SECRET",
                            "--getstream-secret-file")
        linters = load_policies(args.policy, args.policy_dir)
    except PolicyError as exc:
        for issue in exc.issues:
            sys.stderr.write(f"{issue}\n")
        return int(ExitCode.ERROR)
    except ReplylintError as exc:
        return _error(str(exc))
    try:
        warm(linters)
    except Exception as exc:  # noqa: BLE001 - any failure here means never a half-working server
        return _error(f"a policy failed its warm-up check: {type(exc).__name__}: {exc}")
    config = ServerConfig(linters=linters, default=next(iter(linters)),
                          max_text_chars=args.max_text_chars, max_body_bytes=args.max_body_bytes,
                          max_batch=args.max_batch, max_violations=args.max_violations,
                          deadline_ms=args.deadline_ms,
                          threads=args.threads, max_in_flight=args.max_in_flight,
                          body_timeout=args.body_timeout, on_incomplete=args.on_incomplete,
                          token=token,
                          getstream_secret=gs_secret)
    try:
        sock = _bind(args.host, args.port)
    except ReplylintError as exc:
        return _error(str(exc))
    # Checks run in worker threads; a 1 ms GIL switch interval (Python's default is 5 ms) lets
    # the event loop get the GIL back sooner to answer, which trims tail latency under load.
    sys.setswitchinterval(0.001)
    app = create_app(config)
    app.phase.ready = True
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    _log({"event": "listening", "url": f"http://{shown}:{port}", "policies": list(linters),
          "default": config.default, "auth": bool(token), "version": __version__})
    server = _server_class(uvicorn)(app, uvicorn.Config(
        app, lifespan="on", log_config=LOG_CONFIG, access_log=False, proxy_headers=False,
        http=_protocol_class(), server_header=False, timeout_keep_alive=args.keep_alive,
        timeout_graceful_shutdown=args.shutdown_timeout), args.drain_seconds)
    try:
        # After a graceful shutdown uvicorn re-raises the signal it caught, so the process ends
        # the way a supervisor expects: killed by SIGTERM (143), or 130 after Ctrl-C.
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        return 130
    finally:
        sock.close()
    return int(ExitCode.OK)


if __name__ == "__main__":
    raise SystemExit(serve_command(sys.argv[1:]))
