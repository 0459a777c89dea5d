"""The `landscapes` command: `landscapes audit PATH` checks an artifact's provenance;
`landscapes check-config FILE` checks a config overlay without running Snakemake."""

from __future__ import annotations

import argparse
import json
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


if __name__ == "__main__":
    sys.exit(main())
