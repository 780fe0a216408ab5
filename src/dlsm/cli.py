"""The ``dlsm`` command line: list, show, run (with sweeps and resume), tour, report, predict.

Values are typed by the lab's Config: ``dlsm run gd2d lr=0.2 x0=4,1 optimizer=adam``. A key with several
values is swept: a comma list for a scalar key (``lr=0.2,0.05,0.005``), a range for a number
(``snr_db=0:20:2``, stop included), or the key repeated (``x0=4,1 x0=0,1``; needed for tuple keys, whose
commas separate elements). Several swept keys make a grid; ``--seeds N`` repeats each point over seeds and
``--jobs N`` runs the points in parallel (see :mod:`dlsm.sweeps`).

``--help``, ``list`` and ``show`` answer from a cached index of the labs (:mod:`dlsm.lab_index`) without
importing torch; every other command imports what it needs when it runs.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import os
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dlsm import __version__
from dlsm.errors import ConfigError, DataError, DlsmError, InputError
from dlsm.i18n import t

if TYPE_CHECKING:
    from dlsm.config import LabConfig, ParamSpec
    from dlsm.labs import Lab
    from dlsm.result import ProgressFn, Table

EXIT_INTERRUPTED = 130
DEFAULT_ROOT = Path("runs")  # the same as dlsm.runs.DEFAULT_ROOT (not imported: it pulls in numpy)
_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}
#: Tables of a run with at most this many rows are printed to the terminal (all are in the run folder).
PRINT_TABLE_ROWS = 20


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
        raise ConfigError(t("cli.err.cannot_read", key=spec.name, text=text, type=spec.type_name,
                            allowed=spec.allowed), key=spec.name) from None


def parse_value(spec: ParamSpec, text: str) -> Any:
    """Read a value for ``spec`` from its command-line text (choices, bools, numbers, tuples, none)."""
    from dlsm.config import literal_choices, strip_optional, tuple_element_type

    tp = strip_optional(spec.type)
    if tp is not spec.type and text.strip().lower() in {"none", "null"}:
        return None
    choices = literal_choices(tp)
    if choices is not None:
        for c in choices:
            if str(c) == text:
                return c
        raise ConfigError(t("cli.err.bad_value", key=spec.name, value=text, allowed=spec.allowed), key=spec.name)
    elem = tuple_element_type(tp)
    if elem is not None:
        parts = [p for p in text.split(",") if p.strip() != ""]
        return tuple(parse_scalar(spec, elem, p.strip()) for p in parts)
    return parse_scalar(spec, tp, text)


def parse_grid(config_cls: type[LabConfig], items: Sequence[str]) -> tuple[dict[str, Any], dict[str, list[Any]]]:
    """Split ``key=value`` items into fixed overrides and the swept keys with their values (a grid).

    A scalar key sweeps over a comma list, a numeric one also over ``start:stop:step`` ranges (stop
    included; pieces mix: ``0:10:5,15``); a tuple key sweeps when it is repeated.
    """
    from dlsm.config import tuple_element_type
    from dlsm.sweeps import expand_range

    raw: dict[str, list[str]] = {}
    for item in items:
        if "=" not in item:
            raise ConfigError(t("cli.err.expected_assignment", item=item, keys=", ".join(config_cls.keys())))
        key, text = item.split("=", 1)
        config_cls.spec(key.strip())  # unknown key -> lists the valid ones
        raw.setdefault(key.strip(), []).append(text)
    fixed: dict[str, Any] = {}
    grid: dict[str, list[Any]] = {}
    for key, texts in raw.items():
        spec = config_cls.spec(key)
        is_tuple = tuple_element_type(spec.type) is not None
        pieces = texts if is_tuple or len(texts) > 1 else texts[0].split(",")
        expanded: list[str] = []
        for piece in pieces:
            expanded += (None if is_tuple else expand_range(spec, piece.strip())) or [piece]
        if len(expanded) == 1:
            fixed[key] = parse_value(spec, expanded[0])
        else:
            grid[key] = [parse_value(spec, t.strip()) for t in expanded]
    return fixed, grid


def parse_assignments(config_cls: type[LabConfig], items: Sequence[str]) -> tuple[dict, str | None, list]:
    """One-key form of :func:`parse_grid`: fixed overrides, the swept key (or None) and its values."""
    fixed, grid = parse_grid(config_cls, items)
    if len(grid) > 1:
        raise ConfigError(t("runs.err.several_swept", keys=", ".join(grid)))
    if grid:
        key, values = next(iter(grid.items()))
        return fixed, key, values
    return fixed, None, []


# ----- progress bars -------------------------------------------------------------------------------
def tqdm_progress(label: str, *, file: Any = None, disable: bool | None = None,
                  mininterval: float = 0.1) -> ProgressFn:
    """A progress callback drawing a tqdm bar on stderr (hidden when stderr is not a terminal).

    The bar is redrawn at most every ``mininterval`` seconds (and at the end): a lab reports every step,
    and redrawing each one wrote hundreds of KB to the terminal and slowed short steps down.
    """
    from tqdm.auto import tqdm

    state: dict[str, Any] = {"last": -float("inf")}

    def update(done: int, total: int, info) -> None:
        bar = state.get("bar")
        if bar is None:
            bar = state["bar"] = tqdm(total=total, desc=label, leave=False, disable=disable,
                                      unit=t("cli.progress_unit"), file=file, mininterval=mininterval)
        if bar.disable:
            return
        now = time.monotonic()
        if done < total and now - state["last"] < mininterval:
            return
        state["last"] = now
        if bar.total != total:
            bar.total = total
        bar.n = done
        if info:
            bar.set_postfix({k: f"{v:.4g}" for k, v in info.items()}, refresh=False)
        bar.refresh()
        if done >= total:
            bar.close()
            del state["bar"]

    return update


# ----- commands ----------------------------------------------------------------------------------
def _index() -> dict[str, dict[str, Any]]:
    from dlsm.lab_index import load

    return load()


def _index_entry(name: str) -> dict[str, Any]:
    labs = _index()
    if name not in labs:
        raise ConfigError(t("cli.err.unknown_lab", name=name, labs=", ".join(labs)), key=name)
    if "broken" in labs[name]:
        working = ", ".join(n for n, lab in labs.items() if "broken" not in lab)
        raise DlsmError(t("cli.err.broken_lab", name=name, error=labs[name]["broken"], labs=working))
    return labs[name]


def metric_meaning(lab: str, name: str) -> str:
    """The one-line meaning (and unit) of a metric of a lab in the current language; '' when not described."""
    from dlsm.lab_index import meaning

    return meaning(lab, name)


def cmd_list(args: argparse.Namespace) -> int:
    from dlsm.lab_index import description

    labs = _index()
    width = max(len(n) for n in labs)
    lecture = t("cli.list.lecture")
    print(f"{t('cli.list.lab'):<{width}}  {lecture}  {t('cli.list.description')}")
    for name, lab in labs.items():
        text = lab["description"] if "broken" in lab else description(name)
        print(f"{name:<{width}}  {lab['lecture'] or '-':>{len(lecture)}}  {text}")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from dlsm.i18n import param_help
    from dlsm.lab_index import description

    lab = _index_entry(args.lab)
    print(t("cli.show.title", lab=args.lab, lecture=lab["lecture"], description=description(args.lab)) + "\n")
    specs = lab["params"]
    w = max(len(s["name"]) for s in specs)
    for s in specs:
        print(f"  {s['name']:<{w}}  {s['type']:<16} " + t("cli.show.default", value=s["default"]))
        print(f"  {'':<{w}}  " + t("cli.show.allowed", help=param_help(args.lab, s["name"], s["help"]),
                                   allowed=s["allowed"]))
    for size, preset in lab["presets"].items():
        text = ", ".join(f"{k}={v}" for k, v in preset.items())
        print("\n  " + t("cli.show.preset", size=size, settings=text))
    others = [m[0] for m in lab.get("metrics", []) if m[0] not in lab["headline"]]
    for heading, names in ((t("cli.show.headline"), lab["headline"]), (t("cli.show.other_metrics"), others)):
        if names:
            print("\n  " + heading)
        for name in names:
            meaning = metric_meaning(args.lab, name)
            print(f"    {name}" + (f": {meaning}" if meaning else ""))
    return 0


def _size(args: argparse.Namespace) -> str:
    return "quick" if args.quick else "full" if args.full else "course"


def text_table(table: Table) -> str:
    """A table as aligned plain text for the terminal."""
    from dlsm.result import format_scalar

    cells = [list(table.columns)] + [[format_scalar(c) for c in row] for row in table.rows]
    widths = [max(len(r[j]) for r in cells) for j in range(len(table.columns))]
    lines = ["  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join("    " + line for line in lines)


def _print_outcome(lab: Lab, outcome) -> None:
    from dlsm.result import format_scalar

    print(t("cli.run_folder", path=outcome.path))
    if outcome.result is None:
        return
    result = outcome.result
    for name in lab.headline or list(result.metrics)[:8]:
        if name in result.metrics:
            meaning = metric_meaning(lab.name, name)
            print(f"  {name} = {format_scalar(result.metrics[name])}" + (f"   ({meaning})" if meaning else ""))
    for name, table in result.tables.items():
        if 0 < len(table.rows) <= PRINT_TABLE_ROWS:
            print(f"\n  {name}:\n{text_table(table)}")
    if result.tables:
        print()
    for note in result.notes:
        print("  " + t("cli.note", note=note))
    for note in result.explanations:
        print("  " + t("cli.explanation", note=note))


def _root(args: argparse.Namespace) -> Path:
    from dlsm.runs import check_writable_root

    return check_writable_root(Path(args.out) if args.out else DEFAULT_ROOT)


def _set_threads(n: int | None) -> None:
    if n is not None:
        import torch

        torch.set_num_threads(n)


def _check_keys(lab_name: str, items: Sequence[str]) -> None:
    """An unknown lab or key is answered from the lab index, before torch and the lab are imported."""
    keys = [p["name"] for p in _index_entry(lab_name)["params"]]
    for item in items:
        key = item.split("=", 1)[0].strip()
        if "=" in item and key not in keys:
            raise ConfigError(t("cli.err.unknown_key", key=key, keys=", ".join(keys)), key=key)


def cmd_run(args: argparse.Namespace) -> int:
    from dlsm import runner
    from dlsm.labs import get_lab

    _check_keys(args.lab, args.assignments)
    lab = get_lab(args.lab)
    if args.resume:
        if args.assignments or args.seed is not None or args.quick or args.full or args.seeds != 1:
            raise ConfigError(t("cli.err.resume_with_settings"), key="resume")
        target = Path(args.resume)
        if (target / "sweep.json").is_file():
            from dlsm.sweeps import resume_sweep

            with _input_errors():  # a sweep that cannot be resumed is a bad --resume target (exit 2)
                result = resume_sweep(lab, target, tqdm_progress)
            return _finish_sweep(lab, result, len(result.seeds))
        outcome = runner.resume_run(lab, target, tqdm_progress(lab.name), args.checkpoint_every)
        if (outcome.path.parent / "sweep.json").is_file():  # a run of a sweep: its comparison is rebuilt
            from dlsm.sweeps import refresh_sweep

            refresh_sweep(lab, outcome.path.parent, outcome)
        return _finish_run(lab, outcome)
    fixed, grid = parse_grid(lab.config, args.assignments)
    if args.seed is not None:
        fixed["seed"] = args.seed
    size = _size(args)
    if not grid and args.seeds == 1:
        config = lab.config.make(size, **fixed)
        root = _root(args)
        _set_threads(args.threads)
        outcome = runner.run_one(lab, config, root, size, tqdm_progress(lab.name),
                                 checkpoint_every=args.checkpoint_every,
                                 on_start=lambda folder: print(t("cli.run_folder", path=folder), flush=True))
        return _finish_run(lab, outcome)
    if args.executor == "ray":
        from dlsm.sweeps import require_ray

        require_ray()
    root = _root(args)
    jobs = args.jobs if args.jobs is not None else (os.cpu_count() or 1)
    from dlsm.sweeps import sweep_grid

    result = sweep_grid(lab, fixed, grid, root, size, tqdm_progress, seeds=args.seeds, jobs=jobs,
                        executor=args.executor, address=args.address, figures=args.figures,
                        threads=args.threads or 1, checkpoint_every=args.checkpoint_every)
    return _finish_sweep(lab, result, args.seeds)


def _finish_sweep(lab: Lab, result, seeds: int) -> int:
    from dlsm.sweeps import compact_table

    print(t("cli.sweep_folder", path=result.path))
    table = compact_table(result.comparison)
    print(text_table(table))
    if any("±" in str(cell) for row in table.rows for cell in row):
        print(t("cli.sweep_ci", seeds=seeds))
    for r in result.failed:
        print(t("cli.failed_run", name=r.path.name, error=r.error), file=sys.stderr)
    if result.interrupted:
        print(t("cli.interrupted_sweep", path=result.path), file=sys.stderr)
        print(t("cli.continue_with", command=f"dlsm run {lab.name} --resume {result.path}"), file=sys.stderr)
        return EXIT_INTERRUPTED
    return 1 if result.failed else 0


def _finish_run(lab: Lab, outcome) -> int:
    _print_outcome(lab, outcome)
    if outcome.interrupted:
        print(t("cli.interrupted_run", path=outcome.path), file=sys.stderr)
        if (outcome.path / "checkpoint.pt").is_file():
            print(t("cli.continue_with", command=f"dlsm run {lab.name} --resume {outcome.path}"), file=sys.stderr)
        return EXIT_INTERRUPTED
    return 0


def cmd_tour(args: argparse.Namespace) -> int:
    from dlsm import runner
    from dlsm.labs import get_lab
    from dlsm.report import build_report
    from dlsm.runs import status_text

    labs = args.labs.split(",") if args.labs else None
    for name in labs or []:
        get_lab(name)
    root = _root(args)
    tour_dir, outcomes = runner.tour(root, tqdm_progress, labs)
    for o in outcomes:
        print(f"  {o.path.name:<14} {status_text(o.status.value):<11} {o.elapsed_s:6.1f} s"
              + (f"  {o.error}" if o.error else ""))
    html_path, md_path = build_report([tour_dir], tour_dir / "report.html", title=t("cli.tour_title"),
                                      with_discussion=False)
    print(t("cli.tour_folder", path=tour_dir))
    print(t("cli.report_written", path=html_path) + f"\n        {md_path}")
    if any(o.interrupted for o in outcomes):
        print(t("cli.interrupted_tour", path=tour_dir), file=sys.stderr)
        return EXIT_INTERRUPTED
    return 1 if any(o.error for o in outcomes) else 0


def _refuse_running(paths: Sequence[str]) -> None:
    """A run folder (given, or inside a given folder) that a live process is still writing is not reported."""
    from dlsm.run_lock import LOCK_NAME, RunLocked, locked_by

    for given in map(Path, paths):
        if not given.is_dir():
            continue
        for lock in sorted({given / LOCK_NAME, *given.rglob(LOCK_NAME)}):
            pid = locked_by(lock.parent)
            if pid is not None:
                raise RunLocked(t("cli.err.report_running", path=lock.parent, pid=pid))


@contextlib.contextmanager
def _input_errors() -> Iterator[None]:
    """A plain DataError raised here is about what the user gave (a folder, a file): exit status 2, as every
    user error; its subclasses keep their own status (a full disk, :class:`~dlsm.errors.WriteFailed`, is 1)."""
    try:
        yield
    except DataError as exc:
        if type(exc) is not DataError:
            raise
        raise InputError(str(exc)) from None


def cmd_report(args: argparse.Namespace) -> int:
    with _input_errors():  # every error of a report is about the folders or files it was given
        return _report(args)


def _report(args: argparse.Namespace) -> int:
    from dlsm.report import build_report, size_summary

    _refuse_running(args.runs)

    if args.pdf or Path(args.output).suffix.lower() == ".pdf":
        from dlsm.report_pdf import build_pdf_report

        output = Path(args.output if args.output != "report.html" else "report.pdf")
        discussion = Path(args.discussion) if args.discussion else None
        pdf_path = build_pdf_report([Path(p) for p in args.runs], output, title=args.title, name=args.name,
                                    student_id=args.student_id, discussion=discussion,
                                    explanations=not args.no_explanations, points=args.points)
        print(t("cli.report_written", path=pdf_path))
        return 0
    html_path, md_path = build_report([Path(p) for p in args.runs], Path(args.output), title=args.title,
                                      name=args.name, student_id=args.student_id,
                                      explanations=not args.no_explanations, points=args.points,
                                      discussion=Path(args.discussion) if args.discussion else None)
    print(t("cli.report_written", path=html_path) + f"\n        {md_path}")
    print(size_summary(html_path))
    return 0


def cmd_ui(args: argparse.Namespace) -> int:
    try:
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        raise DlsmError(t("cli.err.no_ui")) from None
    from dlsm.runs import check_writable_root
    from dlsm.ui import serve

    out = check_writable_root(Path(args.out) if args.out else DEFAULT_ROOT / "ui")
    data_root = Path(args.data_root).expanduser() if args.data_root else None
    if data_root is not None and not data_root.is_dir():
        raise InputError(t("cli.err.no_data_root", path=data_root))
    serve(out, args.host, args.port, "quick" if args.quick else "course", data_root, args.workers)
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    from dlsm.predict import cli_predict

    with _input_errors():  # a checkpoint that cannot be used is the user's input (exit 2)
        return cli_predict(args)


def cmd_download_mnist(args: argparse.Namespace) -> int:
    from tqdm.auto import tqdm

    from dlsm.problems.mnist_download import DEFAULT_MIRRORS, MNIST_FILES, download_mnist

    with tqdm(total=sum(f.n_bytes for f in MNIST_FILES), unit="B", unit_scale=True, desc="MNIST") as bar:
        folder = download_mnist(Path(args.cache_dir) if args.cache_dir else None, args.mirror or DEFAULT_MIRRORS,
                                progress=lambda done, total, info: bar.update(done - bar.n))
    print(t("cli.mnist_ready", path=folder))
    return 0


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dlsm", description="Hands-on labs for Deep Learning and Sparse Modeling.")
    parser.add_argument("--version", action="version", version=f"dlsm {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("list", help="list the labs")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("show", help="show a lab's parameters")
    p.add_argument("lab")
    p.set_defaults(func=cmd_show)

    p = sub.add_parser(
        "run", help="run a lab (several values of a key, or --seeds, run a sweep)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n  dlsm run gd2d lr=0.2,0.05,0.005\n  dlsm run gd2d x0=4,1 x0=0,1\n"
               "  dlsm run mimo snr_db=0:20:2 modulation=bpsk,pam4 --seeds 5 --jobs 4   (0:20:2 = 0, 2, ..., 20)\n"
               "  dlsm run gates --resume runs/gates/20250101-120000")
    p.add_argument("lab")
    p.add_argument("assignments", nargs="*", metavar="key=value")
    p.add_argument("--out", help=f"root folder of the run folders (default: {DEFAULT_ROOT}/)")
    p.add_argument("--seed", type=int, help="seed (same as seed=N)")
    size = p.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="the small size used by the tour and tests")
    size.add_argument("--full", action="store_true", help="the benchmark size")
    p.add_argument("--resume", metavar="RUN_DIR", help="continue a killed or interrupted run in its folder")
    p.add_argument("--checkpoint-every", type=_positive, metavar="N",
                   help="checkpoint every N optimizer steps (default: when a trainer ends and every 60 s)")
    p.add_argument("--seeds", type=_positive, default=1, metavar="N",
                   help="repeat every grid point with seeds seed, seed+1, ..., seed+N-1 (mean, std, 95%% CI)")
    p.add_argument("--jobs", type=_positive, metavar="N",
                   help="runs of a sweep in parallel in a local process pool (default: the number of cores)")
    p.add_argument("--executor", choices=["local", "ray"], default="local",
                   help='where a sweep runs: local processes, or a Ray cluster (pip install "dlsm[cluster]")')
    p.add_argument("--address", help="Ray cluster address for --executor ray (default: start a local Ray)")
    p.add_argument("--threads", type=_positive, metavar="N",
                   help="torch threads per run (sweeps: default 1 per run; single runs: torch's default)")
    p.add_argument("--figures", action="store_true", help="also draw every run's figures in a sweep")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("tour", help="run every lab at quick size and write a report")
    p.add_argument("--out", help=f"root folder (default: {DEFAULT_ROOT}/); the tour goes to OUT/tour/<time>")
    p.add_argument("--labs", help="comma list of labs (default: all)")
    p.set_defaults(func=cmd_tour)

    p = sub.add_parser("report", help="write an HTML + Markdown report of run folders")
    p.add_argument("runs", nargs="+", metavar="RUN_DIR")
    p.add_argument("-o", "--output", default="report.html", help="output .html (a .md twin is written too)")
    p.add_argument("--title", default="", help="the report's title (default: 'dlsm report', in the language set)")
    p.add_argument("--pdf", action="store_true", help="write an A4 PDF to hand in (also when -o ends in .pdf)")
    p.add_argument("--name", default="", help="the student's name for the title block")
    p.add_argument("--student-id", default="", help="the student ID for the title block")
    p.add_argument("--no-explanations", action="store_true",
                   help="leave out the labs' explanations (why a result happens), as in a student's report")
    p.add_argument("--discussion", metavar="FILE.md", help="Markdown with your 考察 (PDF and HTML); '## LAB' "
                   "sections go to that lab's runs, the rest to the overall discussion (default: empty boxes)")
    p.add_argument("--points", action="store_true",
                   help="give every point of a sweep a section of its own (default: a sweep is one section, its "
                        "comparison table and overlays)")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("ui", help="every lab in the browser: controls, figures, metrics and notes (local page)")
    p.add_argument("--port", type=int, default=8765, help="port (default: 8765)")
    p.add_argument("--host", default="127.0.0.1", help="interface (default: 127.0.0.1, this machine only)")
    p.add_argument("--out", help=f"root folder of the run folders (default: {DEFAULT_ROOT}/ui/)")
    p.add_argument("--data-root", help="the only folder whose image sub-folders the classify page may train on")
    p.add_argument("--quick", action="store_true", help="the labs' quick size (default: the course's)")
    p.add_argument("--workers", type=_positive, default=1, help="runs at the same time (default: 1)")
    p.set_defaults(func=cmd_ui)

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
    from dlsm.i18n import get_language, use_japanese_font

    if get_language() == "ja" and args.command in ("run", "tour", "report"):
        use_japanese_font()  # before any figure exists: a figure made earlier draws its text as boxes
    try:
        return args.func(args)
    except DlsmError as exc:
        print(t("cli.error", message=exc), file=sys.stderr)
        if getattr(exc, "run_dir", None) is not None:
            print(t("cli.failure_recorded", path=exc.run_dir), file=sys.stderr)
        return exc.exit_status
    except BrokenPipeError:  # `dlsm list | head -1`: the reader has what it wanted; end quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # Python would report the failed flush of stdout at exit
        return 0
    except OSError as exc:  # a folder or file that cannot be written or read: a clear message, not a traceback
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):  # a full disk is a failure of the run, not of the user
            print(t("cli.error", message=t("cli.err.disk_full", path=exc.filename or "?")), file=sys.stderr)
            return 1
        where = f"{exc.filename}: " if exc.filename else ""
        print(t("cli.error", message=f"{where}{exc.strerror or exc}"), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(t("cli.interrupted"), file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # an error inside a lab's run (a bug): recorded in the run folder, exit 1
        run_dir = getattr(exc, "run_dir", None)
        if run_dir is None:
            raise  # not from a run: a bug of the command line itself, its traceback is the report
        print(t("cli.error", message=f"{exc} ({type(exc).__name__})"), file=sys.stderr)
        print(t("cli.failure_recorded", path=run_dir), file=sys.stderr)
        return 1
