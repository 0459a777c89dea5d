"""Which script a rule of this workflow runs, read from the workflow's own rule files.

`landscapes audit --reproduce` re-runs a step by the rule its sidecar names, never by the
script path the sidecar records: a sidecar is a file under `results/` that anyone can edit,
the rule files are the checkout's code. The files are read as text, not run (running them
needs a config and runs the Snakefile's Python): `rule NAME:` and `checkpoint NAME:` blocks
with their `script:` directive, a path relative to the file holding the rule, as Snakemake
reads it; `use rule BASE as NAME ...` makes NAME run BASE's script (Snakemake allows no
`script:` in a `with:` block).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

RULE_FILES = ("Snakefile", "workflow/rules/*.smk", "workflow/rules/helpers/*.smk")
SCRIPTS_DIR = "scripts"

_RULE = re.compile(r"(?P<indent>[ \t]*)(?:rule|checkpoint)\s+(?P<name>[A-Za-z_]\w*)\s*:")
_USE = re.compile(r"(?P<indent>[ \t]*)use\s+rule\s+(?P<base>[A-Za-z_]\w*)\s+as\s+"
                  r"(?P<name>[A-Za-z_]\w*)\s*(?:with\s*:|#|$)")
_SCRIPT = re.compile(r"script\s*:(?P<value>.*)")


@dataclass(frozen=True)
class RuleDef:
    name: str
    file: Path
    line: int
    script: str | None = None  # the directive's text as written; None: no script directive
    base: str | None = None  # `use rule BASE as NAME`


class RuleError(ValueError):
    """The rule cannot be mapped to a script of this checkout; the message says why."""


def rule_files(root: Path) -> list[Path]:
    files = []
    for pattern in RULE_FILES:
        files += sorted(p for p in root.glob(pattern) if p.is_file())
    return files


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def _body(lines: list[str], start: int, indent: int) -> list[tuple[int, str]]:
    """The lines of the block whose header is lines[start]: until the first code line that is
    not indented deeper than the header."""
    body = []
    for i in range(start + 1, len(lines)):
        text = lines[i]
        if text.strip() and not text.lstrip().startswith("#") and _indent(text) <= indent:
            break
        body.append((i, text))
    return body


def _script_of(body: list[tuple[int, str]]) -> str | None:
    code = [t for _, t in body if t.strip() and not t.lstrip().startswith("#")]
    if not code:
        return None
    level = _indent(code[0])  # the rule's directives; deeper lines are their values
    for k, text in enumerate(code):
        m = _SCRIPT.fullmatch(text.strip())
        if _indent(text) != level or m is None:
            continue
        value = [m["value"]]
        for more in code[k + 1:]:
            if _indent(more) <= level:
                break
            value.append(more)
        return "\n".join(v.strip() for v in value)
    return None


def defined_rules(root: Path) -> dict[str, list[RuleDef]]:
    """Every rule the rule files define, by name (a list: a name defined twice is an error)."""
    rules: dict[str, list[RuleDef]] = {}
    for file in rule_files(root):
        lines = file.read_text().splitlines()
        for i, text in enumerate(lines):
            if m := _RULE.match(text):
                body = _body(lines, i, len(m["indent"]))
                rule = RuleDef(m["name"], file, i + 1, script=_script_of(body))
            elif m := _USE.match(text):
                rule = RuleDef(m["name"], file, i + 1, base=m["base"])
            else:
                continue
            rules.setdefault(rule.name, []).append(rule)
    return rules


def _where(rule: RuleDef, root: Path) -> str:
    return f"{rule.file.relative_to(root)}:{rule.line}"


def rule_script(root: str | Path, name: str) -> Path:
    """The resolved path of the script rule `name` runs, a file in this checkout's scripts/;
    RuleError saying why there is none."""
    root = Path(root).resolve()
    rules = defined_rules(root)
    seen = []
    while True:
        found = rules.get(name, [])
        if not found:
            where = f" (used as a base by rule {seen[-1]})" if seen else ""
            raise RuleError(f"the workflow defines no rule {name}{where} in "
                            f"{', '.join(RULE_FILES)}")
        if len(found) > 1:
            raise RuleError(f"rule {name} is defined more than once: "
                            + ", ".join(_where(r, root) for r in found))
        rule = found[0]
        if rule.base is None:
            break
        if rule.base in seen or rule.base == name:
            raise RuleError(f"rule {name} derives from itself through `use rule`")
        seen.append(name)
        name = rule.base
    if rule.script is None:
        raise RuleError(f"rule {name} ({_where(rule, root)}) has no script: directive, so "
                        "there is no script to re-run")
    try:
        # a literal only: a script path computed by code cannot be checked without running it
        text = ast.literal_eval("(\n" + rule.script + "\n)")
    except (ValueError, SyntaxError):
        text = None
    if not isinstance(text, str):
        raise RuleError(f"the script: of rule {name} ({_where(rule, root)}) is not a plain "
                        f"string: {rule.script.strip()}")
    script = (rule.file.parent / text).resolve()
    scripts = (root / SCRIPTS_DIR).resolve()
    if not script.is_relative_to(scripts):
        raise RuleError(f"the script of rule {name}, {text}, is not in this checkout's "
                        f"{SCRIPTS_DIR}/ folder")
    if not script.is_file():
        raise RuleError(f"the script of rule {name}, {script.relative_to(root)}, is missing")
    return script
