"""Gate a real send function with replylint's in-process pre-send hook.

Starts a tiny "outbox" HTTP service on 127.0.0.1 (a stand-in for a help desk's reply API), then
sends three drafts through a function decorated with `pre_send`: the clean reply and the one with
warnings are posted, the blocked one never leaves the process. Run it:

    python examples/send_gate.py                        # the built-in pack:default
    python examples/send_gate.py --policy my.yaml       # your policy (give --drafts too)

Exit code 0 when every draft ended as expected (sent, sent with warnings, blocked), else 1.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

from replylint.hook import ReplyBlocked, pre_send
from replylint.model import Report

DRAFTS = [
    ("sent", ("Hi Dana, so sorry about the wait! I've re-sent your code, it should land within "
             "the hour. ^MS"), {"channel": "twitter", "agent": "MS", "customer": "Dana"}),
    ("warned", "We apologize for any inconvenience caused. ^MS",
     {"channel": "twitter", "agent": "MS"}),
    ("blocked", "Honestly you should buy more $TSLA before earnings! ^JK",
     {"channel": "twitter", "agent": "JK"}),
]


class Outbox(BaseHTTPRequestHandler):
    """Accepts POST /replies and remembers each reply, as a help desk's API would."""

    received: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.received.append(body)
        answer = json.dumps({"id": len(self.received)}).encode()
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--policy", default=None, help="a policy file or pack:NAME")
    parser.add_argument("--drafts", help="a JSON file: [[expected, text, context], ...]")
    args = parser.parse_args(argv)
    drafts = DRAFTS
    if args.drafts:
        with open(args.drafts, encoding="utf-8") as f:
            drafts = [tuple(d) for d in json.load(f)]  # type: ignore[misc]

    server = ThreadingHTTPServer(("127.0.0.1", 0), Outbox)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/replies"

    warned: list[Report] = []

    def show_warnings(report: Report) -> None:
        warned.append(report)
        for v in report.violations:
            print(f"  warning {v.rule}: {v.message}")

    @pre_send(policy=args.policy, context_arg="context", on_warn=show_warnings)
    def send_reply(text: str, context: dict[str, Any] | None = None) -> int:
        """Post the reply to the outbox; returns the outbox's id for it."""
        request = urllib.request.Request(url, data=json.dumps({"text": text}).encode(),
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=5) as response:
            return int(json.load(response)["id"])

    outcomes: list[bool] = []
    try:
        for expected, text, context in drafts:
            warnings_before = len(warned)
            try:
                reply_id = send_reply(text, context=context)
            except ReplyBlocked as blocked:
                print(f"blocked: {blocked}")
                outcome = "blocked"
            else:
                outcome = "warned" if len(warned) > warnings_before else "sent"
                print(f"{outcome}: reply #{reply_id} posted")
            outcomes.append(outcome == expected)
    finally:
        server.shutdown()
        server.server_close()
    print(f"outbox received {len(Outbox.received)} of {len(drafts)} replies")
    return 0 if all(outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
