"""Pieces of the HTML report: figure captions with their claims' verdicts, the claims table
as a page, and when it was made.

`snakemake --report` shows each figure with its caption, grouped by experiment; the caption
file `figure_captions` writes gives each figure the verdicts of the claims read off it, and the
claims pages list every claim. The stamp (date and commit) is read from the claims files' own
provenance sidecars, so a page's bytes depend only on its inputs.
"""

from __future__ import annotations

import html
import logging
from collections import defaultdict

from landscapes.claims import figure_label, measured_text, tally, verdict_text
from landscapes.provenance import read_sidecar

log = logging.getLogger("landscapes")

COLUMNS = ("figure", "claim", "paper's value", "measured", "threshold", "verdict")

STYLE = """
body { font-family: sans-serif; font-size: 14px; margin: 1em; }
h2 { font-size: 16px; margin-top: 1.2em; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid #ccc; padding: 4px 6px; text-align: left; vertical-align: top; }
th { background: #f2f2f2; }
td.holds { color: #176b2c; font-weight: bold; }
td.finding { color: #1f4e8c; }
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


def rst_escape(text: str) -> str:
    """Plain text safe inside reStructuredText (claims write |x| and a_i)."""
    for ch in "\\`*_|":
        text = text.replace(ch, "\\" + ch)
    return text


# ------------------------------------------------------------------ a claim and its figure


def figure_of(record: dict) -> tuple[str, str]:
    """(experiment, figure name) of the figure a claim is read off: its `experiment` and
    `figure` fields, the figure being results/<run>/figures/<experiment>/<figure>.png."""
    return str(record["experiment"]), str(record["figure"])


# ------------------------------------------------------------------ the claims table


def claims_html(records: list[dict], title: str, made: str) -> str:
    """A standalone page: one table per paper, each claim with its measured value and verdict."""
    parts = ["<!DOCTYPE html>", "<html><head><meta charset='utf-8'>",
             f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>",
             f"<h1>{html.escape(title)}</h1>"]
    parts.append(f"<p class='stamp'>{tally(records)}; "
                 f"{html.escape(made)}.</p>")
    for paper, rows in by_paper(records).items():
        parts.append(f"<h2>{html.escape(paper)}</h2><table><tr>"
                     + "".join(f"<th>{html.escape(c)}</th>" for c in COLUMNS) + "</tr>")
        for r in rows:
            cls = "finding" if r.get("finding") else "holds" if r["holds"] else "fails"
            cells = [figure_label(r), r["claim"], r["paper_value"], measured_text(r),
                     r["threshold"]]
            parts.append("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells)
                         + f"<td class='{cls}'>{html.escape(verdict_text(r))}</td></tr>")
        parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


# ------------------------------------------------------------------ figure captions


def verdicts_rst(records: list[dict], source: str) -> str:
    """The claims a figure illustrates and their verdicts, as a caption paragraph."""
    lines = [f"**Verdicts at this scale** (from ``{source}``):", ""]
    for r in records:
        word = (verdict_text(r) if r["holds"] or r.get("finding")
                else verdict_text(r).replace("fails", "FAILS", 1))
        lines.append(f"* **{rst_escape(word)}**: "
                     f"{rst_escape(r['claim'])} (paper: "
                     f"{rst_escape(str(r['paper_value']))}; measured "
                     f"{rst_escape(measured_text(r))}; threshold "
                     f"{rst_escape(str(r['threshold']))}).")
    return "\n".join(lines) + "\n"


def figure_captions(figures: dict[tuple[str, str], tuple[str, str]],
                    claims: dict[str, list[dict]]) -> str:
    """Every figure's caption in one file, for `report(caption=...)` of the figure rule.

    Snakemake reads a caption by one literal path and renders it as a Jinja template with the
    job that made the file (`snakemake.output`, `.wildcards`, `.params`), so one file serves
    every figure: a branch per figure (`figures`: {(experiment, figure): (its PNG path, caption
    text)}), picked by the PNG path as the rule's first output, holds the caption text (itself
    a template) and the verdicts of the claims read off that figure (`claims`: {claims file:
    records}), kept out of Jinja. A claim naming a figure the workflow does not draw is left
    to the claims pages, with a warning in the rule's log."""
    records = defaultdict(list)
    sources = {}
    for path, rows in claims.items():
        for r in rows:
            key = figure_of(r)
            if key not in figures:
                log.warning("claim %s in %s names figure %s, which no figure rule draws: it "
                            "is in the claims pages only", r.get("id"), path, "/".join(key))
                continue
            records[key].append(r)
            sources[key] = path
    parts = []
    for i, (key, (png, text)) in enumerate(sorted(figures.items())):
        parts.append(f"{{% {'if' if i == 0 else 'elif'} snakemake.output[0] == {png!r} %}}\n"
                     f"{text.rstrip()}\n")
        if records[key]:
            parts.append("\n{% raw %}\n" + verdicts_rst(records[key], sources[key])
                         + "{% endraw %}\n")
    return "".join(parts) + ("{% endif %}\n" if parts else "")
