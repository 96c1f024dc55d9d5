"""The `replylint` command: arguments -> config -> linter -> formatter -> exit code."""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import itertools
import json
import os
import sys
import time
import traceback
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, cast

from . import __version__
from .errors import InputError, PolicyError, UsageError
from .exitcodes import ExitCode

if TYPE_CHECKING:  # pragma: no cover
    from .config import PolicyRef, PolicyResolver, Selection
    from .formatters import Result
    from .inputs import Item, ReadOptions
    from .linter import Linter
    from .model import Report, Violation
    from .parallel import Job, LinterSpec
    from .policy import Policy, Rule

# The engine (policy compiler, rule types, formatters) is imported by the commands that use
# it, not here: `replylint --version` answers without loading it.

MAX_FIX_PASSES = 5
PROGRESS_AFTER = 200
AUTO_PARALLEL_AFTER = 1_000


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; returns the exit code (never raises, never prints a traceback)."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments == ["--version"]:
        print(f"replylint {__version__}")  # before the engine is imported: a 0.2 s budget
        return ExitCode.OK
    if arguments[:1] == ["serve"]:
        # The HTTP hook has its own options and lives behind the `serve` extra.
        from .server import serve_command

        return serve_command(arguments[1:])
    parser = build_parser()
    try:
        args = parser.parse_args(arguments)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else ExitCode.ERROR
    if not getattr(args, "command", None):
        parser.print_help(sys.stderr)
        return ExitCode.ERROR
    _tolerant_output()
    try:
        return int(args.run(args))
    except UsageError as exc:
        print(f"replylint: error: {exc}", file=sys.stderr)
    except PolicyError as exc:
        _print_policy_error(exc)
    except KeyboardInterrupt:
        print("replylint: interrupted", file=sys.stderr)
    except BrokenPipeError:
        _silence_stdout()
    except Exception as exc:  # the promise: one line, exit 2, traceback only on request
        if os.environ.get("REPLYLINT_DEBUG"):
            traceback.print_exc()
        print(f"replylint: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
    return ExitCode.ERROR


def build_parser() -> argparse.ArgumentParser:
    from .config import DEFAULT_POLICY
    from .formatters import FORMATTERS

    parser = argparse.ArgumentParser(
        prog="replylint", allow_abbrev=False,
        description="Lint customer-service replies against a policy.",
        epilog="Exit codes: 0 clean, 1 violations at or above --fail-on, "
               "2 usage, policy, input or internal error.")
    parser.add_argument("--version", action="version", version=f"replylint {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    check = sub.add_parser("check", allow_abbrev=False, help="check drafts, archives or stdin",
                           description="Check reply drafts (.txt/.md with optional front "
                                       "matter), JSONL/CSV archives (.gz too), directories, "
                                       "or stdin (-).")
    _input_options(check, stdin_default="text")
    check.add_argument("--fail-on", choices=("error", "warning"), default="error",
                       help="lowest severity that makes the exit code 1 (default: error)")
    check.add_argument("--format", choices=tuple(FORMATTERS), default="text",
                       help="output format (default: text)")
    check.add_argument("--fix", action="store_true",
                       help="apply safe fixes to draft files in place (never to archives)")
    check.add_argument("--diff", action="store_true",
                       help="print a unified diff of what --fix would change; write nothing")
    check.add_argument("-q", "--quiet", action="store_true",
                       help="text format: print only errors and the summary")
    check.add_argument("--statistics", action="store_true",
                       help="counts per rule and the most frequent matched texts")
    check.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                       help="colour output (default: on a terminal, unless NO_COLOR is set)")
    check.add_argument("--exit-zero", action="store_true",
                       help="exit 0 even when there are violations (errors still exit 2)")
    check.add_argument("--engine", choices=("local", "dask"), default="local",
                       help="check here (default) or on a Dask cluster: JSONL, CSV and Parquet "
                            "files, --format jsonl (pip install \"replylint[dask]\")")
    check.add_argument("--scheduler", metavar="ADDRESS",
                       help="the Dask scheduler for --engine dask, e.g. tcp://host:8786")
    check.set_defaults(run=run_check)

    report = sub.add_parser(
        "report", allow_abbrev=False, help="summarise an audit of archives (per rule, group, day)",
        description="Check archives (or drafts, or stdin) and print an audit summary instead "
                    "of each violation: violations per rule, per brand/agent (any record field), "
                    "per day, and the most frequent matched texts.")
    report.add_argument("--format", choices=("text", "json", "html"), default="text",
                        help="text table, JSON, or one self-contained HTML page with a chart")
    report.add_argument("--group-by", action="append", metavar="FIELD",
                        help="record/context fields to break the counts down by; repeatable "
                             "(default: brand and agent, when the records have them)")
    report.add_argument("--date-field", default="created_at", metavar="NAME",
                        help="record field holding the date: ISO 8601, Twitter's created_at, "
                             "RFC 2822 or epoch seconds/milliseconds (default: created_at)")
    report.add_argument("--top", type=int, default=10, metavar="N",
                        help="rows per group and most frequent matches shown (default: 10)")
    _input_options(report, stdin_default="jsonl")
    report.set_defaults(run=run_report, fix=False, diff=False, fail_on="error")

    rules = sub.add_parser("rules", help="list the rules of the effective policy")
    _policy_option(rules)
    rules.add_argument("--format", choices=("text", "json"), default="text")
    rules.set_defaults(run=run_rules)

    explain = sub.add_parser("explain", help="show everything about one rule")
    explain.add_argument("rule", metavar="RULE")
    _policy_option(explain)
    explain.set_defaults(run=run_explain)

    test = sub.add_parser("test-policy", help="run the examples every rule carries")
    test.add_argument("policy", nargs="?", metavar="POLICY",
                      help=f"policy file or pack:NAME (default: {DEFAULT_POLICY})")
    test.add_argument("--all-packs", action="store_true", help="test every shipped pack")
    test.add_argument("-v", "--verbose", action="store_true", help="print every result")
    test.set_defaults(run=run_test_policy)

    schema = sub.add_parser("schema", help="print the JSON Schema of the policy format")
    schema.set_defaults(run=run_schema)

    # Listed for --help only: main() hands `serve ...` to replylint.server before parsing.
    sub.add_parser("serve", add_help=False,
                   help="run the HTTP pre-send hook (pip install \"replylint[serve]\"); "
                        "see `replylint serve --help`")
    return parser


def _input_options(parser: argparse.ArgumentParser, *, stdin_default: str) -> None:
    """The inputs, policy, selection and reading options `check` and `report` share
    (`_inputs_setup` reads them)."""
    parser.add_argument("paths", nargs="+", metavar="PATH", help="file, directory, or - for stdin")
    _policy_option(parser)
    parser.add_argument("--select", action="append", metavar="RULE[,RULE]",
                        help="only these rules (ids or prefixes); repeatable")
    parser.add_argument("--ignore", action="append", metavar="RULE[,RULE]",
                        help="skip these rules (ids or prefixes); repeatable")
    for name in ("channel", "agent", "customer"):
        parser.add_argument(f"--{name}", metavar=name.upper(),
                            help=f"{name} for replies whose front matter or record has none")
    parser.add_argument("--text-field", default="text", metavar="NAME",
                        help="field/column holding the reply in JSONL/CSV (default: text)")
    parser.add_argument("--id-field", default="id", metavar="NAME",
                        help="field/column holding the record id in JSONL/CSV (default: id)")
    shown = "one draft" if stdin_default == "text" else stdin_default
    parser.add_argument("--stdin-format", choices=("text", "jsonl", "csv"),
                        default=stdin_default, help=f"what stdin holds (default: {shown})")
    parser.add_argument("--show-personal-data", action="store_true",
                        help="do not redact personal data in the output")
    parser.add_argument("--jobs", "-j", type=_jobs, default=0, metavar="N",
                        help="worker processes (default: auto = the CPU count once an input has "
                             f"more than {AUTO_PARALLEL_AFTER:,} replies; 1 = no workers; at "
                             "most twice the CPU count)")


def _policy_option(parser: argparse.ArgumentParser) -> None:
    from .config import DEFAULT_POLICY

    parser.add_argument("--policy", metavar="POLICY",
                        help="policy file or pack:NAME (default: the nearest .replylint.yaml, "
                             f"replylint.yaml or pyproject.toml [tool.replylint], else "
                             f"{DEFAULT_POLICY})")


# --------------------------------------------------------------------------- check


@dataclasses.dataclass
class _Run:
    """The state of one `check` run: what has been seen, and how it must end."""

    args: argparse.Namespace
    out: TextIO
    err: TextIO
    resolver: PolicyResolver
    selection: Selection
    failed: bool = False
    errors: bool = False
    reported_policies: set[str] = dataclasses.field(default_factory=set)
    warned: set[tuple[str, str]] = dataclasses.field(default_factory=set)
    specs: dict[str, LinterSpec] = dataclasses.field(default_factory=dict)
    full_policies: dict[str, Policy] = dataclasses.field(default_factory=dict)

    def result(self, item: Item, checked: Report | None = None) -> Result:
        """The result for one input; `checked` is its report when a worker process checked it."""
        from .formatters import Result

        if item.error is not None:
            return self._error(item, item.error)
        ref = self.resolver.ref_for(item.source)
        try:
            linter = self.resolver.linter(ref)
        except PolicyError as exc:
            if ref.key not in self.reported_policies:
                self.reported_policies.add(ref.key)
                _print_policy_error(exc, self.err)
            self.errors = True
            return Result(item, error=InputError(item.source, f"not checked: the policy {ref} "
                                                              f"has errors"))
        self._warn(item, ref, linter)
        report = (self.selection.filter(checked) if checked is not None
                  else self._check(linter, item.text, item))
        fixes = any(v.fix for v in report.violations)
        if (fixes and (self.args.diff or self.args.fix) and item.kind == "draft") or \
                self._fixes_to_stdout(item):
            return self._fix(item, report, linter)
        self._tally(report)
        return Result(item, report, policy=linter.policy)

    def job(self, item: Item) -> Job | None:
        """What a worker process needs to check `item`, or None when the parent must do it
        (input errors, broken policies, and drafts being fixed in place)."""
        from .parallel import Job, LinterSpec, seed

        if item.error is not None or (item.kind == "draft" and (self.args.fix or self.args.diff)):
            return None
        ref = self.resolver.ref_for(item.source)
        spec = self.specs.get(ref.key)
        if spec is None:
            try:
                linter = self.resolver.linter(ref)
            except PolicyError:
                return None
            spec = self.specs[ref.key] = LinterSpec(ref, self.resolver.selection,
                                                    self.resolver.redact)
            seed(spec, linter)
        return Job(spec, item.text, item.context)

    def _fixes_to_stdout(self, item: Item) -> bool:
        """`--fix` on a draft read from stdin writes the reply, fixed or not, to stdout (the
        report then goes to stderr), as ruff does."""
        return (self.args.fix and not self.args.diff and item.source == "-"
                and item.kind == "draft" and item.error is None)

    def _check(self, linter: Linter, text: str, item: Item) -> Report:
        return self.selection.filter(linter.check(text, item.context))

    def _fix(self, item: Item, report: Report, linter: Linter) -> Result:
        from .formatters import Result
        from .inputs import apply_fixes, fixable, rewrite_draft

        text, fixed_report = item.text, report
        fixed: list[Violation] = []
        for _ in range(MAX_FIX_PASSES):
            new, applied = apply_fixes(text, [v.fix for v in fixed_report.violations])
            if not applied or new == text:
                break
            fixed.extend(fixed_report.violations[i] for i in applied)
            text = new
            fixed_report = self._check(linter, text, item)
        if self.args.diff:
            self._diff(item, text)
            self._tally(report)
            return Result(item, report, policy=linter.policy)
        if self._fixes_to_stdout(item):
            self.out.write(item.header + text)
            self.out.flush()
            self._tally(fixed_report)
            return Result(dataclasses.replace(item, text=text), fixed_report,
                          policy=linter.policy, fixed=tuple(fixed))
        if not fixed or not fixable(item):
            self._tally(report)
            return Result(item, report, policy=linter.policy)
        try:
            rewrite_draft(item, text)
        except InputError as exc:
            print(exc, file=self.err)
            self.errors = True
            self._tally(report)
            return Result(item, report, policy=linter.policy)
        self._tally(fixed_report)
        return Result(dataclasses.replace(item, text=text), fixed_report, policy=linter.policy,
                      fixed=tuple(fixed))

    def _diff(self, item: Item, new_body: str) -> None:
        old = (item.header + item.text).splitlines(keepends=True)
        new = (item.header + new_body).splitlines(keepends=True)
        name = item.source.replace("\\", "/")
        for line in difflib.unified_diff(old, new, f"a/{name}", f"b/{name}"):
            self.out.write(line if line.endswith("\n") else line + "\n\\ No newline at end of "
                                                                   "file\n")

    def _tally(self, report: Report) -> None:
        from .model import Severity

        rank = Severity(self.args.fail_on).rank
        if any(v.severity.rank >= rank for v in report.violations):
            self.failed = True

    def _error(self, item: Item, error: InputError) -> Result:
        from .formatters import Result

        print(error, file=self.err)
        self.errors = True
        return Result(item, error=error)

    def _warn(self, item: Item, ref: PolicyRef, linter: Linter) -> None:
        """Warnings about the draft's front matter or the record's fields (never an exit code)."""
        for line in item.warnings:
            print(line, file=self.err)
        if not item.disable_at:
            return
        policy = self._full_policy(ref, linter)
        for rule_id, key, where in item.disable_at:
            if (item.source, rule_id) in self.warned:
                continue
            problem = _disable_problem(rule_id, policy)
            if problem:
                self.warned.add((item.source, rule_id))
                print(f"{where}: warning: {key}: {problem}", file=self.err)

    def _full_policy(self, ref: PolicyRef, linter: Linter) -> Policy:
        """The policy before --select/--ignore: a rule they leave out is still a known rule."""
        if not self.selection:
            return linter.policy
        policy = self.full_policies.get(ref.key)
        if policy is None:
            try:
                policy = ref.load()
            except PolicyError:  # changed on disk since it compiled: the selected rules will do
                policy = linter.policy
            self.full_policies[ref.key] = policy
        return policy


def _disable_problem(rule_id: str, policy: Policy) -> str | None:
    """What is wrong with disabling `rule_id` in a draft's context, if anything.

    A disable takes the rules whose id is `rule_id` or starts with `rule_id.`, and only those
    marked suppressible; a rule turned off in the policy is known too.
    """
    from .policy import id_matches

    matched = [r for r in policy.rules if id_matches(r.id, rule_id)]
    if not matched:
        if any(id_matches(off, rule_id) for off in policy.disabled):
            return None
        known = [r.id for r in policy.rules] + list(policy.disabled)
        close = difflib.get_close_matches(rule_id, known, n=1, cutoff=0.6)
        return f"unknown rule {rule_id!r}" + (f" (did you mean {close[0]!r}?)" if close else "")
    locked = [r.id for r in matched if not r.suppressible]
    if not locked:
        return None
    if len(locked) == len(matched):
        what = "it" if len(matched) == 1 else f"all {len(matched)} rules it names"
        return (f"{rule_id!r} cannot be disabled: the policy marks {what} suppressible: false, "
                f"so {'it is' if len(matched) == 1 else 'they are'} still checked")
    one = len(locked) == 1
    return (f"{rule_id!r} cannot disable {', '.join(locked)}: the policy marks "
            f"{'it' if one else 'them'} suppressible: false, so {'it is' if one else 'they are'} "
            f"still checked")


def _inputs_setup(args: argparse.Namespace) -> tuple[Selection, PolicyResolver, ReadOptions]:
    """What `check` and `report` share: rule selection, policy resolution and input options."""
    from .config import PolicyResolver, Selection
    from .inputs import ReadOptions

    _check_argument_text(args)
    selection = Selection.parse(args.select, args.ignore)
    resolver = PolicyResolver(args.policy, selection=selection,
                              redact=not args.show_personal_data)
    if args.policy:
        resolver.linter(resolver.ref_for("-"))  # a broken --policy stops before any input
    context = {k: getattr(args, k) for k in ("channel", "agent", "customer") if getattr(args, k)}
    read = ReadOptions(text_field=args.text_field, id_field=args.id_field,
                       stdin_format=args.stdin_format, context=context)
    return selection, resolver, read


def _check_argument_text(args: argparse.Namespace) -> None:
    """Option values become context, field names and rule ids: bytes that are not UTF-8 (which
    Python keeps as lone surrogates) would reach the output, so they are a usage error. Paths
    may hold such bytes: they name files, and are printed with escapes."""
    from .inputs import not_unicode

    for name in ("channel", "agent", "customer", "text_field", "id_field", "policy", "select",
                 "ignore", "group_by", "date_field"):
        values = getattr(args, name, None)
        for value in values if isinstance(values, list) else [values]:
            problem = not_unicode(value) if isinstance(value, str) else None
            if problem:
                option = "--" + name.replace("_", "-")
                raise UsageError(f"{option}: {problem} (the argument is not UTF-8 text)")


def run_check(args: argparse.Namespace) -> ExitCode:
    from .formatters import FORMATTERS, FormatOptions, Statistics, Summary
    from .parallel import clamp_jobs

    out, err = sys.stdout, sys.stderr
    stdin_fix = args.fix and not args.diff and "-" in args.paths and args.stdin_format == "text"
    if stdin_fix and len(args.paths) > 1:
        raise UsageError("--fix with - writes the fixed reply to standard output, so - must be "
                         "the only input")
    selection, resolver, read = _inputs_setup(args)
    if args.engine == "dask":
        return _run_check_dask(args, selection, resolver, read)
    formatter = None
    if not args.diff:
        # With `--fix -` stdout carries the fixed reply and nothing else: the report goes to
        # stderr.
        report_to = err if stdin_fix else out
        formatter = FORMATTERS[args.format](report_to, FormatOptions(
            color=_use_color(args.color, report_to), quiet=args.quiet,
            statistics=args.statistics, err=err))
    summary = Summary(statistics=Statistics() if args.statistics else None)
    buffered = formatter is None or not formatter.streams or args.quiet
    progress = _Progress(err, _isatty(err) and (buffered or not _isatty(out)), args.paths)
    err = progress.stream
    run = _Run(args, out, err, resolver, selection)
    if formatter is not None:
        formatter.begin()
    jobs = 1 if (args.fix or args.diff) else clamp_jobs(args.jobs, err)
    try:
        for result in _results(run, iter_items(args.paths, read), jobs, auto=not args.jobs):
            summary.add(result)
            progress.tick()
            if formatter is not None:
                formatter.result(result)
    finally:
        progress.done()
    if formatter is not None:
        formatter.end(summary)
    else:
        print(summary.line(), file=err)
    out.flush()
    if run.errors:
        return ExitCode.ERROR
    if run.failed and not args.exit_zero:
        return ExitCode.VIOLATIONS
    return ExitCode.OK


def _run_check_dask(args: argparse.Namespace, selection: Selection, resolver: PolicyResolver,
                    read: ReadOptions) -> ExitCode:
    """`check --engine dask`: the inputs linted on a Dask cluster (`replylint.dask`)."""
    if not args.scheduler:
        raise UsageError("--engine dask needs --scheduler ADDRESS (e.g. tcp://host:8786)")
    if args.format != "jsonl" or args.fix or args.diff or args.statistics or "-" in args.paths:
        raise UsageError("--engine dask reads files and writes --format jsonl only (no stdin, "
                         "--fix, --diff or --statistics)")
    refs = {ref.key: ref for ref in map(resolver.ref_for, args.paths)}
    if len(refs) > 1:
        raise UsageError("--engine dask checks every input with one policy; give --policy")
    linter = resolver.linter(next(iter(refs.values())))
    from .dask import check_dataset

    try:
        summary = check_dataset(args.paths, sys.stdout, scheduler=args.scheduler, linter=linter,
                                selection=selection, text=args.text_field, id=args.id_field,
                                defaults=read.context)
    except (ImportError, OSError, ValueError) as exc:  # no Dask, no such file, no scheduler
        raise UsageError(f"--engine dask: {exc}") from exc
    sys.stdout.flush()
    print(summary.line(), file=sys.stderr)
    if summary.input_errors:
        return ExitCode.ERROR
    if summary.reaches(args.fail_on) and not args.exit_zero:
        return ExitCode.VIOLATIONS
    return ExitCode.OK


def run_report(args: argparse.Namespace) -> ExitCode:
    from .parallel import clamp_jobs
    from .stats import Audit

    out, err = sys.stdout, sys.stderr
    selection, resolver, read = _inputs_setup(args)
    audit = Audit(group_by=args.group_by or ("brand", "agent"),
                  date_field=args.date_field or None, top=max(args.top, 1))
    progress = _Progress(err, _isatty(err), args.paths)
    run = _Run(args, out, progress.stream, resolver, selection)
    try:
        for result in _results(run, iter_items(args.paths, read), clamp_jobs(args.jobs, err),
                               auto=not args.jobs):
            if result.report is None:
                audit.add_error()
            else:
                audit.add(result.report.violations, result.item.context)
            progress.tick()
    finally:
        progress.done()
    if args.format == "json":
        out.write(json.dumps(audit.to_dict(), indent=2, ensure_ascii=False) + "\n")
    elif args.format == "html":
        out.write(audit.html())
    else:
        for line in audit.lines():
            print(line, file=out)
    out.flush()
    return ExitCode.ERROR if run.errors else ExitCode.OK


def _results(run: _Run, items: Iterator[Item], jobs: int, auto: bool) -> Iterator[Result]:
    """Results in input order: checked here, or by `jobs` worker processes.

    With `--jobs auto` the first AUTO_PARALLEL_AFTER replies are checked here, so a few drafts
    never pay for starting processes; a larger input goes on in parallel.
    """
    from .parallel import ProcessChecker

    if jobs > 1 and auto:
        for item in itertools.islice(items, AUTO_PARALLEL_AFTER):
            yield run.result(item)
        rest = next(items, None)
        if rest is None:
            return
        items = itertools.chain([rest], items)
    if jobs <= 1:
        for item in items:
            yield run.result(item)
        return
    with ProcessChecker(jobs) as pool:
        for item, report in pool.map((item, run.job(item)) for item in items):
            yield run.result(item, report)


def _jobs(value: str) -> int:
    """`--jobs`: a number of processes, or `auto` (0)."""
    if value == "auto":
        return 0
    try:
        jobs = int(value)
    except ValueError:
        jobs = 0
    if jobs < 1:
        raise argparse.ArgumentTypeError(f"expected a positive number or auto, found {value!r}")
    return jobs


def iter_items(paths: Sequence[str], options: ReadOptions) -> Iterator[Item]:
    """The inputs, read lazily (`replylint.inputs`)."""
    from .inputs import iter_items as read

    return read(paths, options)


def _use_color(choice: str, stream: TextIO) -> bool:
    if choice != "auto":
        return choice == "always"
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    return _isatty(stream)


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class _Progress:
    """`12,345 / 80,000 replies (15%) 3,456/s, ETA 16s` on stderr for long runs on a terminal.

    Silent when stderr is not a terminal or the `CI` environment variable is set. Everything
    else written to stderr goes through `stream`, which wipes the progress line first, so a
    warning never runs into it; `done()` (also on Ctrl-C) leaves the line clean.
    """

    def __init__(self, stream: TextIO, enabled: bool, paths: Sequence[str] = ()) -> None:
        self.raw = stream
        self.enabled = enabled and not _in_ci()
        self.stream = cast(TextIO, _Wiping(stream, self)) if self.enabled else stream
        self.count = 0
        self.started = time.monotonic()
        self.last = 0.0
        self.shown = 0
        self.total = _count_replies(paths) if self.enabled else None

    def tick(self) -> None:
        self.count += 1
        if not self.enabled or self.count <= PROGRESS_AFTER:
            return
        now = time.monotonic()
        if now - self.last < 0.1:
            return
        self.last = now
        rate = self.count / max(now - self.started, 1e-9)
        if self.total and self.count <= self.total:
            left = (self.total - self.count) / max(rate, 1e-9)
            text = (f"{self.count:,} / {self.total:,} replies "
                    f"({self.count / self.total:.0%}) {rate:,.0f}/s, ETA {_duration(left)}")
        else:
            text = f"{self.count:,} replies ({rate:,.0f}/s)"
        self.wipe()
        self.raw.write(text)
        self.raw.flush()
        self.shown = len(text)

    def wipe(self) -> None:
        if self.shown:
            self.raw.write("\r" + " " * self.shown + "\r")
            self.raw.flush()
            self.shown = 0

    def done(self) -> None:
        self.wipe()


class _Wiping:
    """A stderr that wipes the progress line before anything else is written to it."""

    def __init__(self, stream: TextIO, progress: _Progress) -> None:
        self._stream = stream
        self._progress = progress

    def write(self, text: str) -> int:
        self._progress.wipe()
        return self._stream.write(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _duration(seconds: float) -> str:
    seconds = int(seconds + 0.5)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m {seconds % 60:02d}s"
    return f"{seconds // 3600}h {seconds % 3600 // 60:02d}m"


def _count_replies(paths: Sequence[str]) -> int | None:
    """How many replies the inputs hold, for the ETA: a draft is one, a JSONL or CSV file one
    per line (CSV: minus the header); None when unknown (stdin, gzip, very large inputs)."""
    total = 0
    budget = 2 << 30  # count at most 2 GB of lines, about a second
    for path in paths:
        if path == "-":
            return None
        root = Path(path)
        files = sorted(root.rglob("*")) if root.is_dir() else [root]
        for file in files:
            suffix = file.suffix.lower()
            if suffix in (".txt", ".md"):
                total += 1
            elif suffix in (".jsonl", ".csv") and file.is_file():
                size = file.stat().st_size
                budget -= size
                if budget < 0:
                    return None
                lines = _count_lines(file)
                total += max(lines - 1, 0) if suffix == ".csv" else lines
            elif suffix == ".gz":
                return None
    return total or None


def _count_lines(path: Path) -> int:
    count = 0
    last = b"\n"
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            count += chunk.count(b"\n")
            last = chunk[-1:]
    return count + (last != b"\n")


# --------------------------------------------------------------------------- rules / explain


def _effective_policy(spec: str | None) -> Policy:
    """`--policy`, else the config discovered from the working directory, else the default."""
    from .config import DEFAULT_POLICY, PolicyRef, discover_policy

    ref = PolicyRef(spec) if spec else (discover_policy(Path.cwd()) or PolicyRef(DEFAULT_POLICY))
    return ref.load()


def run_rules(args: argparse.Namespace) -> ExitCode:
    policy = _effective_policy(args.policy)
    if args.format == "json":
        data = {"policy": policy.name, "policy_hash": policy.hash,
                "rules": [_rule_dict(r) for r in policy.rules], "off": list(policy.disabled)}
        print(json.dumps(data, indent=2, ensure_ascii=False))
        return ExitCode.OK
    rows = [(r.id, r.type, r.severity.value, _first_line(r.why or "")) for r in policy.rules]
    widths = [max([len(h), *(len(row[i]) for row in rows)])
              for i, h in enumerate(("rule", "type", "severity"))]
    print(f"{'rule':<{widths[0]}}  {'type':<{widths[1]}}  {'severity':<{widths[2]}}  why")
    for row in rows:
        print(f"{row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]:<{widths[2]}}  {row[3]}")
    if policy.disabled:
        print(f"off: {', '.join(policy.disabled)}")
    return ExitCode.OK


def _rule_dict(rule: Rule) -> dict[str, Any]:
    return {"id": rule.id, "type": rule.type, "severity": rule.severity.value,
            "message": rule.message, "why": rule.why, "suggestions": list(rule.suggestions),
            "suppressible": rule.suppressible,
            "channels": list(rule.channels) if rule.channels is not None else None,
            "source": f"{rule.path}:{rule.line}" if rule.line else rule.path}


def _first_line(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= 90 else line[:89] + "…"


def run_explain(args: argparse.Namespace) -> ExitCode:
    from .policy import id_matches

    policy = _effective_policy(args.policy)
    wanted: str = args.rule
    rule = next((r for r in policy.rules if r.id == wanted), None) or \
        next((r for r in policy.rules if id_matches(wanted, r.id)), None)
    if rule is None:
        if wanted in policy.disabled:
            print(f"{wanted}: turned off (severity: off) in policy {policy.name!r}")
            return ExitCode.OK
        raise UsageError(f"unknown rule {wanted!r} in policy {policy.name!r}; known rules: "
                         f"{', '.join(r.id for r in policy.rules)}")
    for line in explain_lines(rule):
        print(line)
    return ExitCode.OK


def explain_lines(rule: Rule) -> list[str]:
    """Everything a reviewer wants to know about one rule, in reading order."""
    from .checks import RULE_TYPES

    rule_type = RULE_TYPES.get(rule.type)
    summary = f" ({rule_type.summary})" if rule_type else ""
    where = f"{rule.path}:{rule.line}" if rule.line else rule.path
    out = [rule.id,
           f"  type:         {rule.type}{summary}",
           f"  severity:     {rule.severity.value}",
           f"  suppressible: {'yes' if rule.suppressible else 'no'}",
           f"  channels:     {', '.join(rule.channels) if rule.channels else 'all'}",
           f"  defined at:   {where}",
           f"  message:      {rule.message}"]
    if rule.why:
        out.append(f"  why:          {' '.join(rule.why.split())}")
    options = _options_summary(rule)
    if options:
        out.append("  options:")
        out.extend(f"    {line}" for line in options)
    if rule.suggestions:
        out.append("  suggestions:")
        out.extend(f"    - {s}" for s in rule.suggestions)
    if rule.examples:
        out.append("  examples:")
        for ex in rule.examples:
            ctx = ex.context.to_dict()
            shown = f"    {ex.expect}: {ex.text!r}"
            out.append(shown + (f"  (context: {json.dumps(ctx)})" if ctx else ""))
    return out


def _options_summary(rule: Rule) -> list[str]:
    """The rule's option values when the policy keeps them, else its type's declared options."""
    from .checks import RULE_TYPES

    values = getattr(rule, "options", None)
    rule_type = RULE_TYPES.get(rule.type)
    if values is not None and dataclasses.is_dataclass(values):
        return [f"{f.name}: {_short(getattr(values, f.name))}" for f in dataclasses.fields(values)]
    if rule_type is None or not dataclasses.is_dataclass(rule_type.options):
        return []
    lines = [f"(declared by type {rule.type}; values in {rule.path})"]
    for f in dataclasses.fields(rule_type.options):
        lines.append(f"{f.name}: {f.metadata.get('doc', '')}")
    return lines


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 100 else text[:99] + "…"


# --------------------------------------------------------------------------- test-policy, schema


def run_test_policy(args: argparse.Namespace) -> ExitCode:
    from .config import DEFAULT_POLICY, PolicyRef
    from .examples import run_examples
    from .policy import available_packs

    if args.all_packs and args.policy:
        raise UsageError("give a POLICY or --all-packs, not both")
    specs = [f"pack:{p}" for p in available_packs()] if args.all_packs else \
        [args.policy or DEFAULT_POLICY]
    passed = failed = 0
    broken = False
    for spec in specs:
        try:
            policy = PolicyRef(spec).load()
        except PolicyError as exc:
            _print_policy_error(exc)
            broken = True
            continue
        for result in run_examples(policy):
            if result.passed:
                passed += 1
            else:
                failed += 1
            if args.verbose or not result.passed:
                print(result.describe())
        for rule in policy.rules:
            if not rule.examples and args.verbose:
                print(f"{rule.path}:{rule.line}: {rule.id}: no examples")
    print(f"{passed} passed, {failed} failed")
    if broken:
        return ExitCode.ERROR
    return ExitCode.VIOLATIONS if failed else ExitCode.OK


def run_schema(args: argparse.Namespace) -> ExitCode:
    try:
        from .schema import policy_schema
    except ImportError as exc:
        raise UsageError("the policy JSON Schema is not available in this build") from exc
    print(json.dumps(policy_schema(), indent=2, ensure_ascii=False))
    return ExitCode.OK


# --------------------------------------------------------------------------- helpers


def _print_policy_error(exc: PolicyError, stream: TextIO | None = None) -> None:
    stream = stream or sys.stderr
    for issue in exc.issues:
        print(issue, file=stream)


def _tolerant_output() -> None:
    """Never fail on output that cannot be encoded (a file name holding bytes that are not UTF-8):
    write `\\udcff`-style escapes, as Python already does on stderr."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(errors="backslashreplace")  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            pass


def _silence_stdout() -> None:
    """After the reader of a pipe went away, stop Python complaining while it exits."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass
