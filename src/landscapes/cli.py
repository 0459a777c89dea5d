"""The `landscapes` command: `landscapes audit PATH` checks an artifact's provenance;
`landscapes check-config FILE` checks a config overlay without running Snakemake;
`landscapes surface --model ... --checkpoint ... --data ...` runs the workflow's measurements
of one model of yours (an overlay written into its results folder, then Snakemake)."""

from __future__ import annotations

import argparse
import json
import os
import re
import sys

from pathlib import Path

from landscapes import audit as audit_module
from landscapes import config as config_module

CHECKOUT = Path(__file__).resolve().parents[2]

AUDIT_HELP = """Print the provenance tree of an artifact under results/ down to the raw data,
verify every recorded hash against the files on disk, the scripts and library modules against
the checkout, and, by Snakemake's summary, that the current workflow and config would make
each file with the same rule, inputs and params (naming the changed config keys when the step
ran from a clean git commit). Each step's record holds the hashes of its inputs' records, so a
rewritten upstream record is named too. The records are unsigned: a consistent forgery of a
file and of every record downstream of it passes; --reproduce re-runs the step and compares
bytes, which is what proves a file. Exits 1 naming each drifted item (missing, modified, stale
input, rewritten record, changed code or params, unaudited file, failed reproduction), 2 on a
usage error (no such file, a file that is no pipeline artifact, a folder without artifacts),
0 when everything matches."""


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="landscapes", description="The landscapes replication "
                                "suite's command line.")
    sub = p.add_subparsers(dest="command", required=True)
    a = sub.add_parser("audit", help="check the provenance of an artifact", description=AUDIT_HELP)
    a.add_argument("paths", nargs="+", metavar="PATH",
                   help="figure or artifact to audit; a folder audits every file in it")
    a.add_argument("--reproduce", action="store_true",
                   help="re-run the step that made PATH in a scratch folder and compare bytes "
                   "(the script its rule has in this checkout's rule files; a sidecar "
                   "naming paths outside PATH's results/<run_name>/ is refused)")
    a.add_argument("--deep", action="store_true",
                   help="with --reproduce: re-run every step of the tree, not only the last")
    a.add_argument("--json", action="store_true", help="print the audit as JSON")
    a.add_argument("--configfile", help="config to compare params with "
                   "(default: config/<run_name>.yaml of the path's results/<run_name>/)")
    a.add_argument("--no-config", action="store_true",
                   help="do not compare with the current workflow and config (no Snakemake "
                   "run)")
    a.add_argument("--root", help="workflow root the recorded paths are relative to "
                   "(default: read off the sidecar)")
    a.add_argument("--keep", action="store_true",
                   help="with --reproduce: keep the scratch folders and print where they are")
    c = sub.add_parser("check-config", help="check config overlays as the workflow will",
                       description="Read each overlay as the workflow does (YAML errors with "
                       "file, line and column; every section named), merge it over "
                       "config/default.yaml and validate the result against the schema. "
                       "Exits 0 when the run would start, 2 naming the problem otherwise.")
    c.add_argument("paths", nargs="+", metavar="FILE", help="config overlay(s), in order")
    add_surface_parser(sub)
    return p


def check_config(paths: list[str]) -> int:
    default = CHECKOUT / "config" / "default.yaml"
    try:
        config_module.check_sources(default, paths, {})
        config_module.load([default, *paths], CHECKOUT / "workflow" / "schemas")
    except config_module.ConfigError as e:
        print(f"landscapes check-config: {e}", file=sys.stderr)
        return 2
    print(f"{', '.join(paths)}: valid")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "check-config":
        return check_config(args.paths)
    if args.command == "surface":
        return surface(args)
    if args.deep and not args.reproduce:
        args.reproduce = True
    try:
        results = audit_module.audit_many(
            audit_module.expand_paths(args.paths, root=args.root), root=args.root,
            configfile=args.configfile, check_config=not args.no_config,
            reproduce=args.reproduce, deep=args.deep, keep=args.keep)
    except audit_module.AuditError as e:
        print(f"landscapes audit: {e}", file=sys.stderr)
        return 2
    failed = any(not r.ok for r in results)
    if not args.json:
        for result in results:
            print(audit_module.format_audit(result))
            print()
    if args.json:
        doc = [r.to_json() for r in results]
        print(json.dumps(doc[0] if len(doc) == 1 else doc, indent=1, sort_keys=True))
    return 1 if failed else 0


# ---------------------------------------------------------------- landscapes surface

SURFACE_HELP = """Measure one model of yours as the workflow's `user` section does: 2D
filter-normalized surfaces (in tiles), 1D slices, Hessian extremes and |lambda_min /
lambda_max| maps, the Hessian spectrum (stochastic Lanczos quadrature) and Keskar's sharpness,
with their figures. It writes the overlay results/<run-name>/config.yaml (pass it to snakemake
with --configfile to rerun or extend) and runs Snakemake on the figures in this folder."""

USER_FIGURES = ("contours", "surface3d", "slices", "nonconvexity", "spectrum", "sharpness")


def add_surface_parser(sub) -> None:
    s = sub.add_parser("surface", help="measure one model of yours (no config to write)",
                       description=SURFACE_HELP)
    s.add_argument("--model", required=True, metavar="MODULE:FUNCTION",
                   help="the function that builds the model: pkg.mod:build, or "
                   "path/to/file.py:build")
    s.add_argument("--kwargs", default="{}", metavar="JSON",
                   help="keyword arguments of that function, as a JSON object "
                   "(e.g. '{\"num_classes\": 10}')")
    s.add_argument("--checkpoint", required=True,
                   help="its weights: .safetensors, or a state dict torch.load reads with "
                   "weights_only=True")
    s.add_argument("--data", required=True,
                   help="a dataset name (cifar10, mnist, fashion_mnist from --resources; "
                   "digits, mnist1d), an .npz with x and y, or an image folder "
                   "(<folder>/<class>/<image>)")
    s.add_argument("--name", default="model", help="the model's name in paths and figures")
    s.add_argument("--run-name", default="user", help="outputs go to results/<run-name>/")
    s.add_argument("--grid", type=int, default=21, help="points per axis of the 2D surface")
    s.add_argument("--extent", type=float, default=1.0, help="each axis spans [-extent, extent]")
    s.add_argument("--tiles", type=int, default=None,
                   help="surface tiles, one job each (default: one per core, at most --grid)")
    s.add_argument("--slice-points", type=int, default=None,
                   help="points on the 1D slice (default: --grid)")
    s.add_argument("--hessian-grid", type=int, default=5,
                   help="points per axis of the Hessian map")
    s.add_argument("--lanczos-steps", type=int, default=20,
                   help="Lanczos steps per Hessian map point and per spectrum probe")
    s.add_argument("--hessian-samples", type=int, default=128,
                   help="training samples in the Hessian's loss (0: all)")
    s.add_argument("--eps", default="1e-3,5e-4", metavar="EPS",
                   help="comma-separated box sizes of Keskar's sharpness")
    s.add_argument("--sharpness-spaces", default="full,subspace", metavar="SPACES",
                   help="Keskar's sharpness in the full space and/or a random subspace")
    s.add_argument("--subspace-dim", type=int, default=100,
                   help="dimensions of Keskar's random subspace")
    s.add_argument("--sharpness-iterations", type=int, default=10,
                   help="L-BFGS-B iterations of Keskar's sharpness")
    s.add_argument("--sharpness-samples", type=int, default=0,
                   help="training samples in Keskar's sharpness (0: all, as the paper)")
    s.add_argument("--n-train", type=int, default=None, help="training samples (default: all)")
    s.add_argument("--n-test", type=int, default=None, help="test samples (default: all)")
    s.add_argument("--size", type=int, default=None, help="downsample images to size x size")
    s.add_argument("--normalize", action=argparse.BooleanOptionalAction, default=None,
                   help="standardize inputs with training statistics (default: yes, except "
                   "for an .npz, taken as stored)")
    s.add_argument("--resources", default="resources",
                   help="folder of torchvision's datasets (downloaded there on first use)")
    s.add_argument("--seed", type=int, default=0, help="seed of directions, probes, subspace")
    s.add_argument("--only", default=None, metavar="FIGURES",
                   help=f"comma-separated figures to make (of {', '.join(USER_FIGURES)}; "
                   "default all, with the checks)")
    s.add_argument("--cores", type=int, default=os.cpu_count() or 1, help="Snakemake's cores")
    s.add_argument("-n", "--dry-run", action="store_true", help="show the jobs, run nothing")


class UsageError(ValueError):
    """A command-line value the run cannot use."""


def data_spec(data: str, args) -> dict:
    """The `datasets` entry for --data: a source by name, an .npz or an image folder."""
    from landscapes import data as data_module

    path = Path(data)
    if data in data_module.SOURCES and data not in data_module.FILES:
        spec = {"source": data}
    elif path.suffix == ".npz" or path.is_file():
        if not path.is_file():
            raise UsageError(f"--data {data}: no such file")
        spec = {"source": "npz", "path": str(path.resolve())}
    elif path.is_dir():
        spec = {"source": "image_folder", "path": str(path.resolve())}
    else:
        names = [n for n in data_module.SOURCES if n not in data_module.FILES]
        raise UsageError(f"--data {data}: neither a dataset name ({', '.join(names)}), an "
                         ".npz file nor a folder")
    normalize = spec["source"] != "npz" if args.normalize is None else args.normalize
    spec.update(seed=args.seed, n_train=args.n_train, n_test=args.n_test, size=args.size,
                flatten=False, normalize=normalize)
    return spec


def _numbers(text: str, option: str) -> list[float]:
    try:
        return [float(v) for v in text.split(",")]
    except ValueError:
        raise UsageError(f"{option} {text}: comma-separated numbers expected") from None


def _absolute_model(ref: str) -> str:
    module, sep, fn = ref.rpartition(":")
    return f"{Path(module).resolve()}:{fn}" if sep and module.endswith(".py") else ref


def surface_overlay(args) -> dict:
    """The overlay `landscapes surface` runs: every section of the default named, the model
    under `user.models`, its data under `datasets`; paths made absolute."""
    if not re.fullmatch(r"[A-Za-z0-9_]+", args.name):
        raise UsageError(f"--name {args.name}: letters, digits and '_' only (it goes into paths)")
    try:
        kwargs = json.loads(args.kwargs)
    except json.JSONDecodeError as e:
        raise UsageError(f"--kwargs: not JSON ({e})") from None
    if not isinstance(kwargs, dict):
        raise UsageError("--kwargs: a JSON object of keyword arguments, e.g. "
                         "'{\"num_classes\": 10}'")
    default = config_module.read(CHECKOUT / "config" / "default.yaml")
    overlay = {"run_name": args.run_name, **{s: {} for s in config_module.sections(default)},
               "experiments": ["user"]}  # this model's figures, claims and report only
    dataset = f"user_{args.name.lower()}"
    overlay["datasets"] = {dataset: data_spec(args.data, args)}
    if args.resources != "resources":
        overlay["resources_dir"] = str(Path(args.resources).resolve())
    g = args.grid
    overlay["user"] = {
        "seed": args.seed,
        "models": {args.name: {"model": _absolute_model(args.model), "kwargs": kwargs,
                               "checkpoint": str(Path(args.checkpoint).resolve()),
                               "dataset": dataset}},
        "surface": {"extent": args.extent, "points": [g, g],
                    "tiles": max(1, min(args.tiles or args.cores, g))},
        "slice": {"extent": args.extent, "points": args.slice_points or max(g, 3)},
        "hessian": {"points": [args.hessian_grid] * 2, "lanczos_steps": args.lanczos_steps,
                    "n_samples": args.hessian_samples or None},
        "spectrum": {"lanczos_steps": args.lanczos_steps,
                     "n_samples": args.hessian_samples or None},
        "sharpness": {"eps": _numbers(args.eps, "--eps"),
                      "spaces": args.sharpness_spaces.split(","),
                      "subspace_dim": args.subspace_dim,
                      "maxiter": args.sharpness_iterations,
                      "n_samples": args.sharpness_samples or None},
    }
    return overlay


def _preflight(overlay: dict) -> None:
    """Import, build and load the model before any job, so its mistakes read as one line."""
    from landscapes import user

    (spec,) = overlay["user"]["models"].values()
    model = user.build(spec["model"], spec["kwargs"])
    user.check_perturbable(model, spec["model"])
    user.load_weights(model, user.read_state(spec["checkpoint"]), spec["checkpoint"],
                      spec["model"])


def _job_error(results: Path) -> str | None:
    """The user's mistake a failed job logged (a UserModelError), if any."""
    for log in sorted((results / "logs").glob("user_*.log")):
        for line in log.read_text(errors="replace").splitlines():
            if "UserModelError: " in line:
                return line.split("UserModelError: ", 1)[1]
    return None


def surface(args) -> int:
    import subprocess

    import yaml

    from landscapes.user import UserModelError

    try:
        if not (CHECKOUT / "Snakefile").is_file():
            raise UsageError(f"no workflow at {CHECKOUT}: the command runs the checkout's "
                             "Snakefile (install the package editable, pip install -e .)")
        only = USER_FIGURES if args.only is None else tuple(args.only.split(","))
        unknown = [f for f in only if f not in USER_FIGURES]
        if unknown:
            raise UsageError(f"--only: unknown figure {', '.join(unknown)}; allowed: "
                             f"{', '.join(USER_FIGURES)}")
        overlay = surface_overlay(args)
        results = Path("results") / args.run_name
        results.mkdir(parents=True, exist_ok=True)
        path = results / "config.yaml"
        path.write_text("# written by `landscapes surface`; rerun with snakemake --configfile "
                        f"{path}\n" + yaml.safe_dump(overlay, sort_keys=False))
        config_module.check_sources(CHECKOUT / "config" / "default.yaml", [path], {})
        config_module.load([CHECKOUT / "config" / "default.yaml", path],
                           CHECKOUT / "workflow" / "schemas")
        if not args.dry_run:
            _preflight(overlay)
    except (UsageError, config_module.ConfigError, UserModelError) as e:
        print(f"landscapes surface: {e}", file=sys.stderr)
        return 2
    targets = [str(results / "figures" / "user" / f"{f}.png") for f in only]
    snakemake = [sys.executable, "-m", "snakemake", "--snakefile", str(CHECKOUT / "Snakefile"),
                 "--directory", os.getcwd()]
    # without --only, the overlay's whole DAG (experiments: [user]): figures, claims, report
    cmd = [*snakemake, "--cores", str(args.cores), *(targets if args.only else []),
           *(["--dry-run"] if args.dry_run else []), "--configfile", str(path)]
    print(" ".join(cmd), file=sys.stderr)
    code = subprocess.run(cmd, check=False).returncode
    if code:
        error = _job_error(results)
        if error:
            print(f"landscapes surface: {error}", file=sys.stderr)
        return code
    if args.only is None and not args.dry_run:
        report = str(results / "report.html")
        code = subprocess.run([*snakemake, "--report", report, "--configfile", str(path)],
                              check=False).returncode
        if code:
            return code
        targets += [str(results / "claims.md"), report]
    if not args.dry_run:
        print("\n".join(targets))
    return 0


if __name__ == "__main__":
    sys.exit(main())
