"""The config schema and its validation, with errors that name the key and what is allowed.

The schema is `workflow/schemas/config.schema.yaml` for the top-level keys plus one file per
experiment section in `workflow/schemas/sections/<section>.schema.yaml`, so each paper's rules
own their part of the config.

`config/default.yaml` is the one complete config; `tiny.yaml` and `paper.yaml` are overlays
holding only what differs, merged over it (nested mappings key by key, any other value
replaced whole) before validation. A key the schema gives a `default` may be left out of every
file; `fill_defaults` puts it in.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import jsonschema
import yaml


class ConfigError(ValueError):
    """A config value the pipeline cannot run with."""


def load_schema(schema_dir: str | Path) -> dict:
    schema_dir = Path(schema_dir)
    schema = yaml.safe_load((schema_dir / "config.schema.yaml").read_text())
    for section in sorted((schema_dir / "sections").glob("*.schema.yaml")):
        name = section.name.removesuffix(".schema.yaml")
        schema["properties"][name] = yaml.safe_load(section.read_text())
        schema.setdefault("required", []).append(name)
    return schema


def _key(path) -> str:
    return ".".join(str(p) for p in path) or "<top level>"


def _describe(error: jsonschema.ValidationError) -> str:
    key = _key(error.absolute_path)
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        extra = sorted(set(error.instance) - set(allowed))
        where = f"under '{key}'" if error.absolute_path else "at the top level"
        return (f"unknown config key {', '.join(repr(e) for e in extra)} {where}; "
                f"allowed: {', '.join(allowed)}")
    if error.validator == "required":
        return f"config key '{key}' is missing {error.message.split(' is a required')[0]}"
    desc = error.schema.get("description")
    hint = f" ({desc})" if desc else ""
    return f"config key '{key}': {error.message}{hint}"


def _dataset_references(node, path=()):
    """Every `dataset: <name>` setting in the config, with its key path."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "dataset" and isinstance(v, str):
                yield ".".join(map(str, (*path, k))), v
            else:
                yield from _dataset_references(v, (*path, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _dataset_references(v, (*path, i))


def validate(config: dict, schema_dir: str | Path) -> None:
    """Raise ConfigError listing every problem, each with the key that has it."""
    schema = load_schema(schema_dir)
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: list(map(str, e.absolute_path)))
    problems = [_describe(e) for e in errors]
    known = config.get("datasets", {}) if isinstance(config, dict) else {}
    problems += [f"config key '{key}': dataset '{name}' is not defined under 'datasets' "
                 f"(defined: {', '.join(sorted(known))})"
                 for key, name in _dataset_references(config) if name not in known]
    if problems:
        lines = "\n".join(f"  - {p}" for p in problems)
        raise ConfigError(f"invalid config:\n{lines}")


def merge(base: dict, overlay: dict) -> dict:
    """`overlay` over `base`, as Snakemake merges config files: mappings key by key, every
    other value (lists included) replaced whole. Neither argument is changed."""
    merged = copy.deepcopy(base)
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def fill_defaults(config: dict, schema_dir: str | Path) -> dict:
    """Put in, in place, every key the schema gives a `default` and the config leaves out, then
    the defaults inside it (a mapping whose keys all have defaults takes `default: {}`)."""
    schema = load_schema(schema_dir)

    def resolve(node):
        if "$ref" in node:
            node = schema["$defs"][node["$ref"].split("/")[-1]]
        for part in node.get("allOf", []):
            node = {**resolve(part), **{k: v for k, v in node.items() if k != "allOf"}}
        return node

    def fill(node, value):
        node = resolve(node)
        for key, sub in node.get("properties", {}).items():
            sub = resolve(sub)
            if key not in value and "default" in sub:
                value[key] = copy.deepcopy(sub["default"])
            if isinstance(value.get(key), dict):
                fill(sub, value[key])
        extra = node.get("additionalProperties")
        if isinstance(extra, dict):
            for key in set(value) - set(node.get("properties", {})):
                if isinstance(value[key], dict):
                    fill(extra, value[key])

    if isinstance(config, dict):
        fill(schema, config)
    return config


def read(path: str | Path) -> dict:
    """One config file as a mapping. A YAML error names the file, line and column; an empty
    file or one that is not a mapping of keys is refused by name."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as e:
        raise ConfigError(f"{path}: cannot read the config file: {e.strerror or e}") from None
    try:
        value = yaml.safe_load(text)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "somewhere"
        problem = " ".join(str(p) for p in (e.context, e.problem) if p)
        raise ConfigError(f"{path}: not valid YAML at {where}: {problem}") from None
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: not valid YAML: {e}") from None
    if value is None:
        raise ConfigError(f"{path}: the config file is empty")
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: a config file is a mapping of keys (run_name: ..., "
                          f"linear: ...), not a {type(value).__name__}")
    return value


def sections(config: dict) -> list[str]:
    """The top-level keys that hold a mapping: datasets and one per experiment."""
    return [key for key, value in config.items() if isinstance(value, dict)]


def check_overlay(path: str | Path, default: dict) -> dict:
    """An overlay is a scale of its own: it names its `run_name` and every section of the
    default, so a section forgotten in a copy is reported instead of silently running at the
    default's size under the overlay's results folder. `<section>: {}` keeps a section as in
    the default. Returns the overlay."""
    overlay = read(path)
    problems = []
    if "run_name" not in overlay:
        problems.append("it sets no run_name (each scale writes results/<run_name>/)")
    missing = [s for s in sections(default) if s not in overlay]
    if missing:
        problems.append("it has no section " + ", ".join(f"'{s}'" for s in missing)
                        + " (write `<section>: {}` to run a section exactly as in the "
                        "default)")
    if problems:
        raise ConfigError(f"{path}: an overlay names its run_name and every section of the "
                          f"default config; " + "; ".join(problems))
    return overlay


def check_sources(default_path: str | Path, overlays, command_line: dict) -> None:
    """A run's config is exactly the default and the named overlays: every overlay checked by
    `check_overlay`, and no `--config` values, which no file would record."""
    default = read(default_path)
    for path in overlays:
        if Path(path).resolve() != Path(default_path).resolve():
            check_overlay(path, default)
    if command_line:
        keys = ", ".join(sorted(map(str, command_line)))
        raise ConfigError(f"--config {keys}: values given on the command line are in no "
                          "config file, so no record or audit could name them; put them in an "
                          "overlay (a copy of config/tiny.yaml with its own run_name) and pass "
                          "it with --configfile")


def load(paths, schema_dir: str | Path) -> dict:
    """The config the workflow runs with: each file merged over the previous one (the first
    is config/default.yaml), schema defaults filled in, validated."""
    config: dict = {}
    for path in paths:
        config = merge(config, read(path))
    fill_defaults(config, schema_dir)
    validate(config, schema_dir)
    return config


def replicate_seeds(section: dict) -> list[int]:
    """The seeds an experiment runs over: `replicates` of them, counting up from `seed`."""
    return [int(section["seed"]) + r for r in range(int(section.get("replicates", 1)))]


def _rows(schema: dict, root: dict, prefix: str):
    """(key, type, range, description) for every documented key, depth first."""
    if "$ref" in schema:
        schema = root["$defs"][schema["$ref"].split("/")[-1]]
    if "allOf" in schema:
        merged = {k: v for k, v in schema.items() if k != "allOf"}
        for part in schema["allOf"]:
            part = root["$defs"][part["$ref"].split("/")[-1]] if "$ref" in part else part
            merged = {**part, **merged}
        schema = merged
    kind = schema.get("type", "enum" if "enum" in schema else "")
    kind = " or ".join(kind) if isinstance(kind, list) else kind
    limits = [f"{word} {schema[k]}" for k, word in
              (("minimum", ">="), ("exclusiveMinimum", ">"), ("maximum", "<="),
               ("exclusiveMaximum", "<"), ("minItems", "items >="), ("pattern", "matches"))
              if k in schema]
    if "enum" in schema:
        limits.append("one of " + ", ".join(map(str, schema["enum"])))
    if "default" in schema:
        limits.append(f"default {json.dumps(schema['default'])}")
    if prefix:
        yield prefix, kind, "; ".join(limits), schema.get("description", "")
    for name, sub in schema.get("properties", {}).items():
        yield from _rows(sub, root, f"{prefix}.{name}" if prefix else name)
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):
        yield from _rows(extra, root, f"{prefix}.<name>")


def markdown_reference(schema_dir: str | Path) -> str:
    """config/README.md: every key with its type, allowed range and meaning, from the schema."""
    schema = load_schema(schema_dir)
    lines = ["# Config reference", "",
             "Generated from `workflow/schemas/` by `python -m landscapes.config`; the schema",
             "is validated before any job runs. Three configs ship: `tiny.yaml` (tests),",
             "`default.yaml` (offline, 2-core CPU), `paper.yaml` (the papers' settings).", "",
             "| key | type | allowed | meaning |", "|---|---|---|---|"]
    for key, kind, limits, desc in _rows(schema, schema, ""):
        lines.append(f"| `{key}` | {kind} | {limits.replace('|', '/')} | {desc} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    import sys

    root = Path(__file__).resolve().parents[2]
    text = markdown_reference(root / "workflow" / "schemas")
    if sys.argv[1:] == ["--check"]:
        sys.exit(0 if (root / "config" / "README.md").read_text() == text else
                 "config/README.md is out of date: run python -m landscapes.config")
    (root / "config" / "README.md").write_text(text)
