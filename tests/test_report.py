"""The report's pieces: a claim's link to its figure, verdicts, the claims pages, and the one
caption file that gives every figure its caption and its claims' verdicts."""

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace

import pytest
from docutils.core import publish_parts
from jinja2 import Environment

from landscapes import claims, report

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).parent / "snakemake")


def record(experiment, figure, claim, holds, **extra):
    return {"id": f"{experiment}.{claim}", "experiment": experiment, "figure": figure,
            "paper_figure": "Fig. 5", "paper": "P", "claim": claim, "paper_value": "v",
            "measured": 0.5, "threshold": "t", "holds": holds, **extra}


def render(template: str, output: str) -> str:
    """A caption as Snakemake's report renders it: Jinja with the job, then reStructuredText."""
    env = Environment(trim_blocks=True, lstrip_blocks=True)  # Snakemake's report settings
    text = env.from_string(template).render(snakemake=SimpleNamespace(output=[output]))
    publish_parts(text, writer="html", settings_overrides={"halt_level": 2})
    return text


def test_a_claim_names_its_figure_by_experiment_and_figure():
    assert report.figure_of(record("linear", "convexity", "c", True)) == ("linear", "convexity")
    assert claims.figure_label(record("linear", "convexity", "c", True)) == (
        "linear/convexity Fig. 5")


def test_verdict_counts_replicate_seeds():
    assert claims.verdict_text(record("a", "f", "c", True)) == "holds"
    assert claims.verdict_text(record("a", "f", "c", True, held=1, n=1)) == "holds"
    assert claims.verdict_text(record("a", "f", "c", False, held=2, n=5)) == (
        "fails: holds in 2 of 5 seeds")
    assert claims.verdict_text(record("a", "f", "c", True, held=5, n=5)) == (
        "holds in 5 of 5 seeds")


def test_claims_page_shows_every_verdict_grouped_by_paper():
    records = [record("linear", "convexity", "c <1>", True) | {"paper": "P1"},
               record("linear", "saddle", "c2", False, held=1, n=3) | {"paper": "P2"}]
    page = report.claims_html(records, "Claims", "made today")
    assert page.index("<h2>P1</h2>") < page.index("<h2>P2</h2>")
    assert "c &lt;1&gt;" in page and "1 of 2 claims hold" in page
    assert "<td>linear/convexity Fig. 5</td>" in page
    assert "<td class='holds'>holds</td>" in page
    assert "<td class='fails'>fails: holds in 1 of 3 seeds</td>" in page


def test_each_figure_gets_its_caption_and_only_its_verdicts(caplog):
    png = "results/tiny/figures/{}/{}.png".format
    captions = {("linear", "permutation"): (png("linear", "permutation"), "**Permutation.**\n"),
                ("linear", "saddle"): (png("linear", "saddle"),
                                       "Saddle of ``{{ snakemake.output[0] }}``.\n"),
                ("minima", "spinglass"): (png("minima", "spinglass"), "Spin glass.\n")}
    claims = {"results/tiny/claims/linear.json": [
        record("linear", "permutation", "|L(P a) - L(a)| small {{ no jinja }}", True),
        record("linear", "saddle", "modes_in_order", False, held=2, n=3)]}
    template = report.figure_captions(captions, claims)

    perm = render(template, "results/tiny/figures/linear/permutation.png")
    assert perm.startswith("**Permutation.**")
    assert "from ``results/tiny/claims/linear.json``" in perm
    assert r"* **holds**: \|L(P a) - L(a)\| small {{ no jinja }}" in perm  # kept out of Jinja
    assert "modes" not in perm

    saddle = render(template, "results/tiny/figures/linear/saddle.png")
    assert saddle.startswith("Saddle of ``results/tiny/figures/linear/saddle.png``.")  # Jinja
    assert r"* **FAILS: holds in 2 of 3 seeds**: modes\_in\_order" in saddle

    assert render(template, "results/tiny/figures/minima/spinglass.png") == "Spin glass.\n"
    unknown = {"x.json": [record("linear", "convexity", "c", True)]}
    assert report.figure_captions(captions, unknown) == report.figure_captions(captions, {})
    assert "names figure linear/convexity, which no figure rule draws" in caplog.text


SNAKEFILE = """
import json
import os
import sys
sys.path.insert(0, {src!r})
from landscapes import report as _report

CAPTION = "results/figure_captions.rst"
FIGURES = {{"linear": ["convexity", "saddle"]}}

rule all:
    input:
        expand("results/figures/linear/{{figure}}.png", figure=FIGURES["linear"]),
        CAPTION,
    default_target: True

rule plot:
    output:
        png=report("results/figures/{{experiment}}/{{figure}}.png",
                   caption=os.path.abspath(CAPTION), subcategory="Figures",
                   category=lambda w: "Deep linear networks" if w.experiment == "linear" else "?"),
    shell:
        "printf '\\\\211PNG\\\\r\\\\n' > {{output.png}}"

rule figure_captions:
    input:
        claims="claims.json",
    output:
        CAPTION,
    run:
        figures = {{("linear", f): (f"results/figures/linear/{{f}}.png", f"Caption of {{f}}.")
                   for f in FIGURES["linear"]}}
        claims = {{input.claims: json.load(open(input.claims))}}
        with open(output[0], "w") as out:
            out.write(_report.figure_captions(figures, claims))
"""


@pytest.mark.workflow
def test_snakemake_report_shows_each_figure_with_its_caption_and_verdicts(tmp_path):
    """The design rests on Snakemake reading a caption that a rule wrote, from an absolute
    path, rendered per figure; nothing is written when the workflow is parsed."""
    (tmp_path / "Snakefile").write_text(textwrap.dedent(SNAKEFILE.format(src=str(REPO / "src"))))
    (tmp_path / "claims.json").write_text(json.dumps([
        record("linear", "saddle", "origin_is_a_saddle", True, held=3, n=3)]))
    for args in (["--cores", "1"], ["--report", "report.html"]):
        proc = subprocess.run([SNAKEMAKE, *args], cwd=tmp_path, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr[-3000:]
    page = (tmp_path / "report.html").read_text()
    assert "Caption of convexity." in page and "Caption of saddle." in page
    assert "holds in 3 of 3 seeds" in page and "origin_is_a_saddle" in page
    assert "Deep linear networks" in page


def test_every_caption_renders_without_docutils_errors():
    root = Path(__file__).resolve().parents[1]
    for path in sorted((root / "workflow" / "report").glob("*/*.rst")):
        # a warning (an undefined |substitution|, a broken table) stops docutils here
        publish_parts(path.read_text(), writer_name="html", source_path=str(path),
                      settings_overrides={"halt_level": 2, "report_level": 5})
