"""The ``dlsm`` command line: list, show, run (with sweeps), tour, report, predict.

Values are typed by the lab's Config: ``dlsm run gd2d lr=0.2 x0=4,1 optimizer=adam``. A sweep runs one
key over several values: a comma list for a scalar key (``lr=0.2,0.05,0.005``) or the key repeated
(``x0=4,1 x0=0,1``; needed for tuple keys, whose commas separate elements).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dlsm import __version__
from dlsm.config import LabConfig, ParamSpec, literal_choices, strip_optional, tuple_element_type
from dlsm.errors import ConfigError, DlsmError
from dlsm.labs import Lab, get_lab, registry
from dlsm.result import ProgressFn, format_scalar
from dlsm.runs import DEFAULT_ROOT

EXIT_INTERRUPTED = 130
_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


# ----- parsing key=value ------------------------------------------------------------------------------
def parse_scalar(spec: ParamSpec, tp: Any, text: str) -> Any:
    """Read one scalar of type ``tp`` from ``text``; ConfigError naming the key on failure."""
    try:
        if tp is bool:
            low = text.strip().lower()
            if low in _TRUE:
                return True
            if low in _FALSE:
                return False
            raise ValueError
        if tp is int:
            try:
                return int(text)
            except ValueError:
                f = float(text)
                if not f.is_integer():
                    raise
                return int(f)
        if tp is float:
            return float(text)
        return text
    except ValueError:
        raise ConfigError(f"{spec.name}: cannot read {text!r} as {spec.type_name}; "
                          f"allowed: {spec.allowed}", key=spec.name) from None


def parse_value(spec: ParamSpec, text: str) -> Any:
    """Read a value for ``spec`` from its command-line text (choices, bools, numbers, tuples, none)."""
    tp = strip_optional(spec.type)
    if tp is not spec.type and text.strip().lower() in {"none", "null"}:
        return None
    choices = literal_choices(tp)
    if choices is not None:
        for c in choices:
            if str(c) == text:
                return c
        raise ConfigError(f"{spec.name}: got {text!r}; allowed: {spec.allowed}", key=spec.name)
    elem = tuple_element_type(tp)
    if elem is not None:
        parts = [p for p in text.split(",") if p.strip() != ""]
        return tuple(parse_scalar(spec, elem, p.strip()) for p in parts)
    return parse_scalar(spec, tp, text)


def parse_assignments(config_cls: type[LabConfig], items: Sequence[str]) -> tuple[dict, str | None, list]:
    """Split ``key=value`` items into fixed overrides and at most one swept key with its values."""
    raw: dict[str, list[str]] = {}
    for item in items:
        if "=" not in item:
            raise ConfigError(f"expected key=value, got {item!r}; valid keys: {', '.join(config_cls.keys())}")
        key, text = item.split("=", 1)
        config_cls.spec(key.strip())  # unknown key -> lists the valid ones
        raw.setdefault(key.strip(), []).append(text)
    fixed: dict[str, Any] = {}
    swept: dict[str, list[Any]] = {}
    for key, texts in raw.items():
        spec = config_cls.spec(key)
        is_tuple = tuple_element_type(spec.type) is not None
        if len(texts) == 1 and (is_tuple or "," not in texts[0]):
            fixed[key] = parse_value(spec, texts[0])
            continue
        pieces = texts if is_tuple or len(texts) > 1 else texts[0].split(",")
        swept[key] = [parse_value(spec, t.strip()) for t in pieces]
    if len(swept) > 1:
        raise ConfigError(f"a sweep varies one key at a time; got several: {', '.join(swept)}")
    if swept:
        key, values = next(iter(swept.items()))
        return fixed, key, values
    return fixed, None, []


# ----- progress bars -------------------------------------------------------------------------------
def tqdm_progress(label: str) -> ProgressFn:
    """A progress callback drawing a tqdm bar on stderr (hidden when stderr is not a terminal)."""
    from tqdm.auto import tqdm

    state: dict[str, Any] = {}

    def update(done: int, total: int, info) -> None:
        bar = state.get("bar")
        if bar is None:
            bar = state["bar"] = tqdm(total=total, desc=label, leave=False, disable=None, unit="step")
        bar.n = done
        if info:
            bar.set_postfix({k: f"{v:.4g}" for k, v in info.items()}, refresh=False)
        bar.refresh()
        if done >= total:
            bar.close()

    return update


# ----- commands ----------------------------------------------------------------------------------
def cmd_list(args: argparse.Namespace) -> int:
    labs = registry()
    width = max(len(n) for n in labs)
    print(f"{'lab':<{width}}  lecture  description")
    for lab in labs.values():
        print(f"{lab.name:<{width}}  {lab.lecture:>7}  {lab.description}")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    lab = get_lab(args.lab)
    print(f"{lab.name} (lecture {lab.lecture}): {lab.description}\n")
    specs = lab.config.specs()
    w = max(len(s.name) for s in specs)
    for s in specs:
        default = _show_value(s.default)
        print(f"  {s.name:<{w}}  {s.type_name:<16} default {default}")
        print(f"  {'':<{w}}  {s.help}; allowed: {s.allowed}")
    for size, preset in (("--quick", lab.config.quick), ("--full", lab.config.full)):
        if preset:
            text = ", ".join(f"{k}={_show_value(v)}" for k, v in preset.items())
            print(f"\n  {size} sets: {text}")
    return 0


def _show_value(v: Any) -> str:
    if isinstance(v, tuple):
        return ",".join(format_scalar(x) for x in v)
    return format_scalar(v)


def _size(args: argparse.Namespace) -> str:
    return "quick" if args.quick else "full" if args.full else "course"


def _print_outcome(lab: Lab, outcome) -> None:
    print(f"run folder: {outcome.path}")
    if outcome.result is None:
        return
    for name in lab.headline or list(outcome.result.metrics)[:8]:
        if name in outcome.result.metrics:
            print(f"  {name} = {format_scalar(outcome.result.metrics[name])}")
    for note in outcome.result.notes:
        print(f"  note: {note}")


def cmd_run(args: argparse.Namespace) -> int:
    from dlsm import runner

    lab = get_lab(args.lab)
    fixed, key, values = parse_assignments(lab.config, args.assignments)
    if args.seed is not None:
        fixed["seed"] = args.seed
    size = _size(args)
    root = Path(args.out) if args.out else DEFAULT_ROOT
    if key is None:
        config = lab.config.make(size, **fixed)
        outcome = runner.run_one(lab, config, root, size, tqdm_progress(lab.name))
        _print_outcome(lab, outcome)
        if outcome.interrupted:
            print(f"interrupted: what was done is kept in {outcome.path}", file=sys.stderr)
            return EXIT_INTERRUPTED
        return 0
    result = runner.sweep(lab, fixed, key, values, root, size, tqdm_progress)
    print(f"sweep folder: {result.path}")
    print(result.comparison.to_markdown())
    if result.interrupted:
        print(f"interrupted: the runs done so far are kept in {result.path}", file=sys.stderr)
        return EXIT_INTERRUPTED
    return 0


def cmd_tour(args: argparse.Namespace) -> int:
    from dlsm import runner
    from dlsm.report import build_report

    root = Path(args.out) if args.out else DEFAULT_ROOT
    labs = args.labs.split(",") if args.labs else None
    for name in labs or []:
        get_lab(name)
    tour_dir, outcomes = runner.tour(root, tqdm_progress, labs)
    for o in outcomes:
        status = "interrupted" if o.interrupted else "ok"
        print(f"  {o.path.name:<14} {status:<11} {o.elapsed_s:6.1f} s")
    html_path, md_path = build_report([tour_dir], tour_dir / "report.html", title="dlsm tour")
    print(f"tour folder: {tour_dir}\nreport: {html_path}\n        {md_path}")
    if any(o.interrupted for o in outcomes):
        print(f"interrupted: the labs done so far are kept in {tour_dir}", file=sys.stderr)
        return EXIT_INTERRUPTED
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from dlsm.report import build_report

    html_path, md_path = build_report([Path(p) for p in args.runs], Path(args.output), title=args.title)
    print(f"report: {html_path}\n        {md_path}")
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    from dlsm.predict import cli_predict

    return cli_predict(args)


def cmd_download_mnist(args: argparse.Namespace) -> int:
    from tqdm.auto import tqdm

    from dlsm.problems.mnist_download import DEFAULT_MIRRORS, MNIST_FILES, download_mnist

    with tqdm(total=sum(f.n_bytes for f in MNIST_FILES), unit="B", unit_scale=True, desc="MNIST") as bar:
        folder = download_mnist(Path(args.cache_dir) if args.cache_dir else None, args.mirror or DEFAULT_MIRRORS,
                                progress=lambda done, total, info: bar.update(done - bar.n))
    print(f"MNIST is in {folder}; use it with: dlsm run classify data=mnist")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dlsm", description="Hands-on labs for Deep Learning and Sparse Modeling.")
    parser.add_argument("--version", action="version", version=f"dlsm {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("list", help="list the labs")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("show", help="show a lab's parameters")
    p.add_argument("lab")
    p.set_defaults(func=cmd_show)

    p = sub.add_parser("run", help="run a lab (a comma list or a repeated key runs a sweep)",
                       epilog="example: dlsm run gd2d lr=0.2,0.05,0.005   or   dlsm run gd2d x0=4,1 x0=0,1")
    p.add_argument("lab")
    p.add_argument("assignments", nargs="*", metavar="key=value")
    p.add_argument("--out", help=f"root folder of the run folders (default: {DEFAULT_ROOT}/)")
    p.add_argument("--seed", type=int, help="seed (same as seed=N)")
    size = p.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="the small size used by the tour and tests")
    size.add_argument("--full", action="store_true", help="the benchmark size")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("tour", help="run every lab at quick size and write a report")
    p.add_argument("--out", help=f"root folder (default: {DEFAULT_ROOT}/); the tour goes to OUT/tour/<time>")
    p.add_argument("--labs", help="comma list of labs (default: all)")
    p.set_defaults(func=cmd_tour)

    p = sub.add_parser("report", help="write an HTML + Markdown report of run folders")
    p.add_argument("runs", nargs="+", metavar="RUN_DIR")
    p.add_argument("-o", "--output", default="report.html", help="output .html (a .md twin is written too)")
    p.add_argument("--title", default="dlsm report")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("predict", help="classify image files with a saved checkpoint")
    p.add_argument("checkpoint")
    p.add_argument("images", nargs="+", metavar="IMAGE")
    p.add_argument("--top", type=int, default=3, help="how many classes to print per image")
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser("data", help="data sets: download full MNIST (optional; embedded data needs nothing)")
    data_sub = p.add_subparsers(dest="data_command", required=True, metavar="ACTION")
    p = data_sub.add_parser("download-mnist", help="download full MNIST (about 12 MB) into the cache, verified")
    p.add_argument("--cache-dir", help="default: $DLSM_CACHE/mnist, $XDG_CACHE_HOME/dlsm/mnist or ~/.cache/dlsm/mnist")
    p.add_argument("--mirror", action="append", help="mirror base URL (repeatable, tried in order)")
    p.set_defaults(func=cmd_download_mnist)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    # key=value items after an option (`run LAB --quick lr=0.1`) arrive as extras: they are still assignments
    if extra and getattr(args, "assignments", None) is not None and not any(e.startswith("-") for e in extra):
        args.assignments = [*args.assignments, *extra]
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        return args.func(args)
    except DlsmError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_status
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
