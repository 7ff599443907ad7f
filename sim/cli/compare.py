"""``ddsim compare BASE [VARIANT ...]``: compare variants of a scenario over paired replicates."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

from sim.cli.options import add_store_options, examples, paragraph, positive_int, seed_value
from sim.cli.signals import interrupted, sigterm_as_interrupt
from sim.errors import InputError

DEFAULT_REPLICATES = 20
COMPARISONS_DIR = "comparisons"
NAMED_SET = re.compile(r"([A-Za-z0-9_][A-Za-z0-9_.-]{0,59}):([^=:]+=.*)", re.S)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``compare`` sub-command."""
    p = subparsers.add_parser(
        "compare",
        help="compare variants of a scenario over paired replicates (common random numbers)",
        description=paragraph(
            "Run BASE and every VARIANT for the same replicates (replicate r has the same seed "
            "in every variant) and report, per outcome, the mean paired difference variant - "
            "BASE with a 95% confidence interval over the replicates and a standardized effect, "
            "time-series bands per variant, per-state and per-dyad differences, figures and a "
            "report page. A variant is a scenario file or name (usually a few lines with "
            "extends:) or a named --set variant of BASE. The runs are stored in DIR: rerunning "
            "the same command resumes; more --replicates extend. Exit status: 0 all runs ok, 1 "
            "some runs failed, 2 bad input, 130 interrupted, 143 terminated."
        ),
        epilog=examples(
            "ddsim compare indo_pacific scenarios/variants/transparent_exercises.yaml",
            "ddsim compare indo_pacific --set transparent:governance.transparency=0.8 "
            "--replicates 20 --dyad CHN-IND --state IND",
            "ddsim compare indo_pacific scenarios/variants/quad_tempo.yaml --steps 120 "
            "--out comparisons/quad",
            "ddsim compare minimal --set a:governance.transparency=0.8 --set "
            "b:governance.transparency=0.1 --replicates 5 --workers 1",
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("base", metavar="BASE", help="the base scenario: file or bundled name")
    p.add_argument(
        "variants",
        metavar="VARIANT",
        nargs="*",
        help="scenario files or names to compare with BASE (named by their file name)",
    )
    p.add_argument(
        "--set",
        dest="named_sets",
        action="append",
        default=[],
        metavar="NAME:KEY=VALUE",
        help="override KEY in variant NAME (repeatable); a NAME that is not a VARIANT is a new "
        "variant of BASE, e.g. --set transparent:governance.transparency=0.8",
    )
    p.add_argument(
        "--replicates",
        type=positive_int,
        default=DEFAULT_REPLICATES,
        metavar="R",
        help=f"replicates per variant (default {DEFAULT_REPLICATES})",
    )
    p.add_argument("--steps", type=positive_int, metavar="N", help="steps of every run")
    p.add_argument(
        "--seed",
        type=seed_value,
        default=0,
        metavar="S",
        help="root seed of the replicates' seeds (default 0)",
    )
    p.add_argument(
        "--state",
        dest="states",
        action="append",
        default=[],
        metavar="ID",
        help="also compare this state's outcomes (repeatable)",
    )
    p.add_argument(
        "--dyad",
        dest="dyads",
        action="append",
        default=[],
        metavar="A-B",
        help="also compare this pair's crises, escalation risk and trust (repeatable), e.g. CHN-IND",
    )
    p.add_argument(
        "--out",
        metavar="DIR",
        help=f"output directory (default: {COMPARISONS_DIR}/<base>-vs-<variants>)",
    )
    add_store_options(p, "comparison")
    p.add_argument("--no-figures", action="store_true", help="tables and report without figures")
    p.add_argument("--quiet", action="store_true", help="no progress and no table")
    p.set_defaults(func=cmd_compare)


def _name_of(arg: str) -> str:
    """A variant name from a scenario argument: the file's stem, letters kept."""
    stem = Path(arg).name
    for suffix in (".yaml", ".yml"):
        stem = stem.removesuffix(suffix)
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", stem).lstrip(".-")[:60]
    return name or "variant"


def _named_sets(texts: list[str]) -> dict[str, dict[str, Any]]:
    """--set NAME:KEY=VALUE options -> {NAME: {KEY: value}} (in order, later win)."""
    from sim.scenarios.loader import parse_set_option

    out: dict[str, dict[str, Any]] = {}
    for text in texts:
        m = NAMED_SET.fullmatch(text)
        if not m:
            raise InputError(
                f"--set: expected NAME:KEY=VALUE (e.g. transparent:governance.transparency=0.8), "
                f"got {text!r}"
            )
        key, value = parse_set_option(m.group(2))
        out.setdefault(m.group(1), {})[key] = value
    return out


def plan_variants(args: argparse.Namespace) -> list:
    """The `Variant`s to run: BASE, the VARIANT files, then the named --set variants.
    InputError for an unknown file, a bad --set or nothing to compare."""
    from sim.experiments.ensemble import Variant

    sets = _named_sets(args.named_sets)
    names: list[str] = []
    for arg in [args.base, *args.variants]:
        name, k = _name_of(arg), 2
        while name in names:
            name, k = f"{_name_of(arg)}-{k}", k + 1
        names.append(name)
    variants = []
    for arg, name in zip([args.base, *args.variants], names, strict=True):
        over = sets.pop(name, {})
        label = name + (f" ({_describe(over)})" if over else "")
        variants.append(Variant.load(name, arg, over, label))
    base_tree = variants[0].scenario
    for name, over in sets.items():
        variants.append(Variant(name, base_tree, over, f"{name} ({_describe(over)})"))
    if len(variants) < 2:
        raise InputError(
            "compare: expected at least one VARIANT or --set NAME:KEY=VALUE to compare with "
            f"{args.base}, got none"
        )
    return variants


def _describe(over: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in over.items())


def _default_out(variants: list) -> Path:
    tail = "-".join(v.name for v in variants[1:])
    return Path(COMPARISONS_DIR) / f"{variants[0].name}-vs-{tail}"[:100]


def cmd_compare(args: argparse.Namespace) -> int:
    """``ddsim compare``: 0 all runs ok, 1 some failed, 2 bad input, 130 interrupted, 143
    terminated (the store is closed cleanly; rerun to resume)."""
    from sim.experiments.compare import comparison_outcomes
    from sim.experiments.ensemble import run_ensemble
    from sim.running.simulate import prepare_scenario

    with sigterm_as_interrupt() as signals:
        try:
            variants = plan_variants(args)
            base_world = prepare_scenario(
                variants[0].scenario, overrides=variants[0].overrides, source=args.base
            )
            outcomes = comparison_outcomes(
                args.states, args.dyads, [s.id for s in base_world.states], args.base
            )
            out = Path(args.out) if args.out else _default_out(variants)
            summary = run_ensemble(
                variants,
                args.replicates,
                out=out,
                root_seed=args.seed,
                steps=args.steps,
                outcomes=outcomes,
                workers=args.workers,
                scheduler=args.scheduler,
                dask_local=args.dask_local,
                quiet=args.quiet,
                force_new=args.force_new,
                retry_failed=args.retry_failed,
                commit_every=args.commit_every,
            )
        except KeyboardInterrupt:
            return interrupted("compare", signals)
    if summary.interrupted:
        return interrupted("compare", signals)
    return _finish(out, args, summary.exit_code)


def _finish(out: Path, args: argparse.Namespace, code: int) -> int:
    """Tables, figures and the report of the store in `out`; the table of differences."""
    from sim.cli.options import os_reason
    from sim.experiments.compare import compare_tables, write_tables
    from sim.reports.compare import write_comparison_report

    tables = compare_tables(out)
    if tables.ensemble.outcomes.empty:
        print(f"ddsim compare: no finished run in {out}", file=sys.stderr)
        return 1
    try:
        files = write_tables(tables, out)
        files += write_comparison_report(tables, out, figures=not args.no_figures)
    except OSError as exc:
        print(
            f"ddsim compare: cannot write the results to {out}: {os_reason(exc)}", file=sys.stderr
        )
        return 2
    if not args.quiet:
        print_differences(tables)
        print(f"wrote {len(files)} files to {out}", file=sys.stderr)
        print(f"report: {out / 'report.html'}", file=sys.stderr)
    return code


def print_differences(tables) -> None:  # noqa: ANN001
    """The scenario-wide differences (and --state/--dyad ones) as a rich table on stdout."""
    import math

    from rich.console import Console
    from rich.table import Table

    from sim.reports.compare import effect_text, outcome_label

    labels = {v.name: v.label for v in tables.ensemble.variants}
    diff = tables.differences
    table = Table(
        title=f"Paired differences against {labels.get(tables.base, tables.base)} "
        "(variant - base, 95% CI over the replicates)",
        title_justify="left",
    )
    for col, just in (
        ("outcome", "left"),
        ("variant", "left"),
        ("base", "right"),
        ("variant", "right"),
        ("difference", "right"),
        ("95% CI", "right"),
        ("effect", "right"),
        ("n", "right"),
    ):
        if col == "outcome":  # the longest cells: wrapped, never cut
            table.add_column(col, justify=just, overflow="fold", min_width=28)
        else:
            table.add_column(col, justify=just, overflow="fold")

    def num(x: float) -> str:
        return "n/a" if not math.isfinite(x) else f"{x:.3g}"

    for _, r in diff.iterrows():
        label, _unit = outcome_label(tables, r["outcome"])
        clear = math.isfinite(r["ci_low"]) and (r["ci_low"] > 0 or r["ci_high"] < 0)
        style = "bold" if clear else ""
        table.add_row(
            label,
            r["variant"],
            num(r["base_mean"]),
            num(r["variant_mean"]),
            num(r["mean"]),
            f"{num(r['ci_low'])} to {num(r['ci_high'])}",
            effect_text(r["effect"]),
            str(int(r["n"])),
            style=style,
        )
    Console(width=max(120, Console().width)).print(table)
    print(
        "bold: the 95% CI excludes 0. effect: difference / SD of the outcome between seeds "
        "(+∞ (SD 0): the outcome does not vary between seeds)."
    )
