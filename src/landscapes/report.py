"""Generic pieces of the HTML report: the claims table as a page, and when it was made.

`snakemake --report` shows each figure with its caption, grouped by paper; these pages put the
claims and their verdicts beside them. The stamp (date and commit) is read from the claims
files' own provenance sidecars, so a table's bytes depend only on its inputs.
"""

from __future__ import annotations

import html
from collections import defaultdict

from landscapes.claims import figure_label, fmt
from landscapes.provenance import atomic_path, read_sidecar

COLUMNS = ("figure", "claim", "paper's value", "measured", "threshold", "verdict")

STYLE = """
body { font-family: sans-serif; font-size: 14px; margin: 1em; }
h2 { font-size: 16px; margin-top: 1.2em; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid #ccc; padding: 4px 6px; text-align: left; vertical-align: top; }
th { background: #f2f2f2; }
td.holds { color: #176b2c; font-weight: bold; }
td.fails { color: #a61b1b; font-weight: bold; }
p.stamp { color: #555; }
"""


def stamp(paths) -> str:
    """'made <date> at commit <sha>' from the sidecars of the claims files."""
    records = [r for r in (read_sidecar(p) for p in paths) if r]
    if not records:
        return "made by steps without provenance sidecars"
    date = max(r.get("end", "") for r in records)[:10]
    commits = sorted({(r.get("git") or {}).get("commit") or "none" for r in records})
    dirty = any((r.get("git") or {}).get("dirty") for r in records)
    text = f"made {date} at commit {', '.join(c[:12] for c in commits)}"
    return text + (" with uncommitted changes" if dirty else "")


def by_paper(records: list[dict]) -> dict[str, list[dict]]:
    groups = defaultdict(list)
    for r in records:
        groups[r["paper"]].append(r)
    return dict(groups)


def claims_html(records: list[dict], title: str, made: str) -> str:
    """A standalone page: one table per paper, each claim with its measured value and verdict."""
    parts = ["<!DOCTYPE html>", "<html><head><meta charset='utf-8'>",
             f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>",
             f"<h1>{html.escape(title)}</h1>"]
    held = sum(bool(r["holds"]) for r in records)
    parts.append(f"<p class='stamp'>{held} of {len(records)} claims hold; "
                 f"{html.escape(made)}.</p>")
    for paper, rows in by_paper(records).items():
        parts.append(f"<h2>{html.escape(paper)}</h2><table><tr>"
                     + "".join(f"<th>{html.escape(c)}</th>" for c in COLUMNS) + "</tr>")
        for r in rows:
            verdict = "holds" if r["holds"] else "fails"
            cells = [figure_label(r), r["claim"], r["paper_value"], fmt(r["measured"]),
                     r["threshold"]]
            parts.append("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells)
                         + f"<td class='{verdict}'>{verdict}</td></tr>")
        parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def caption_template(pattern: str) -> str | None:
    """One caption template for a rule whose caption path names wildcards
    (`workflow/report/linear/{figure}.rst`): Snakemake reads a caption by its literal path, so
    the caption files matching the pattern are joined into one Jinja template that picks the
    text by the job's wildcards. None when no file matches."""
    import re
    from pathlib import Path

    names = re.findall(r"{(\w+)}", pattern)
    regex = re.escape(pattern)
    for name in names:
        regex = regex.replace(re.escape("{" + name + "}"), f"(?P<{name}>[^/]+)", 1)
    parent = Path(pattern.split("{", 1)[0]).parent
    branches = []
    for path in sorted(parent.rglob("*")):
        match = re.fullmatch(regex, str(path))
        if match and path.is_file():
            cond = " and ".join(f"snakemake.wildcards.{n} == {match[n]!r}" for n in names)
            branches.append((cond, path.read_text()))
    if not branches:
        return None
    parts = [f"{{% {'if' if i == 0 else 'elif'} {cond} %}}\n{text.rstrip()}\n"
             for i, (cond, text) in enumerate(branches)]
    return "".join(parts) + "{% endif %}\n"


# ------------------------------------------------------------------ wiring (report.smk calls these)


def report_categories(workflow) -> dict[str, str]:
    """{experiment: report category}, read off the outputs each experiment's rules mark for
    the report (rule names start with `<experiment>_`)."""
    from snakemake.io import is_flagged

    categories = {}
    for rule in workflow.rules:
        for f in rule.output:
            if is_flagged(f, "report") and f.flags["report"].category:
                categories.setdefault(rule.name.split("_")[0], f.flags["report"].category)
    return categories


def rst_escape(text: str) -> str:
    """Plain text safe inside reStructuredText (claims write |x| and a_i)."""
    for ch in "\\`*_|":
        text = text.replace(ch, "\\" + ch)
    return text


def figure_of(record: dict) -> str:
    """'<experiment>/<figure>' of a claim, from its `experiment` and `figure` fields."""
    return f"{record['experiment']}/{record['figure']}"


def verdicts_rst(records: list[dict], source: str) -> str:
    """The claims a figure illustrates and their verdicts, as a caption paragraph."""
    lines = [f"**Verdicts at this scale** (from ``{source}``):", ""]
    for r in records:
        verdict = "holds" if r["holds"] else "FAILS"
        lines.append(f"* **{verdict}**: {rst_escape(r['claim'])} (paper: "
                     f"{rst_escape(str(r['paper_value']))}; measured "
                     f"{rst_escape(fmt(r['measured']))}; threshold "
                     f"{rst_escape(str(r['threshold']))}).")
    return "\n".join(lines) + "\n"


def figure_verdicts(claims_paths, results: str) -> dict[str, str]:
    """{figure PNG path: verdicts paragraph} from the claims files that exist now (at
    `snakemake --report` time, all of them). A claim's `experiment` and `figure` fields name
    the figure results/<run>/figures/<experiment>/<figure>.png."""
    import json
    from pathlib import Path

    by_figure = defaultdict(list)
    sources = {}
    for path in claims_paths:
        if not Path(path).is_file():
            continue
        for record in json.loads(Path(path).read_text()):
            figure = f"{results}/figures/{figure_of(record)}.png"
            by_figure[figure].append(record)
            sources[figure] = path
    return {f: verdicts_rst(rs, sources[f]) for f, rs in by_figure.items()}


def annotate_captions(workflow, claims_paths, results: str) -> None:
    """Give every report caption its figure's verdicts, and let caption paths name wildcards
    (`../report/linear/{figure}.rst`, which Snakemake alone reads literally). Each output's
    caption becomes one template under .snakemake/report-captions/ that picks the caption text
    by the job's wildcards and appends the verdicts of the figure the job made. The figure
    rules keep their own caption files; only the report reads the joined templates."""
    import os
    from pathlib import Path

    from snakemake.exceptions import WorkflowError
    from snakemake.io import is_flagged
    from snakemake.sourcecache import LocalSourceFile

    verdicts = figure_verdicts(claims_paths, results)
    folder = Path.cwd() / ".snakemake" / "report-captions"  # the working directory's
    for rule in workflow.rules:
        for index, ((name, _), f) in enumerate(zip(rule.output._allitems(), rule.output)):
            obj = f.flags.get("report") if is_flagged(f, "report") else None
            if obj is None or obj.caption is None:
                continue
            pattern = os.path.normpath(obj.caption.get_path_or_uri(secret_free=True))
            if "{" in pattern:
                template = caption_template(pattern)
                if template is None:
                    raise WorkflowError(f"rule {rule.name}: no caption file matches {pattern}")
            else:
                template = Path(pattern).read_text()
            branches = [f"{{% {'if' if i == 0 else 'elif'} snakemake.output[{index}] == "
                        f"{figure!r} %}}\n{{% raw %}}\n{text}{{% endraw %}}\n"
                        for i, (figure, text) in enumerate(sorted(verdicts.items()))]
            if branches:
                template = template.rstrip() + "\n\n" + "".join(branches) + "{% endif %}\n"
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"{rule.name}.{name or index}.rst"
            if not path.is_file() or path.read_text() != template:
                with atomic_path(path) as tmp:
                    tmp.write_text(template)
            subcategory = obj.subcategory
            if subcategory is None and obj.category and str(f).endswith((".png", ".svg")):
                subcategory = "Figures"  # not Snakemake's "Other", beside "Claims and verdicts"
            f.flags["report"] = obj._replace(caption=LocalSourceFile(str(path)),
                                             subcategory=subcategory)
