"""A rule's script is read from the workflow's rule files, as Snakemake would resolve it."""

from pathlib import Path

import pytest

from landscapes import rule_files
from landscapes.rule_files import RuleError, rule_script

REPO = Path(__file__).resolve().parents[1]

RULES = '''\
rule make:
    input:
        "results/{run}/in.txt",
    output:
        out="results/{run}/out.txt",
    # script: "../../scripts/commented.py"
    script:
        "../../scripts/make.py"  # the real one


use rule make as make_again with:
    output:
        out="results/{run}/again.txt",


use rule make as make_plain


rule noscript:
    output:
        "x.txt",
    shell:
        "touch {output}"


rule elsewhere:
    script: "../../results/tiny/evil.py"


rule computed:
    script:
        SCRIPTS + "/make.py"


if True:

    rule nested:
        params:
            script="not a directive",
        script:
            "../../scripts/make.py"


use rule missing_base as orphan with:
    params:
        a=1,
'''


@pytest.fixture
def checkout(tmp_path) -> Path:
    (tmp_path / "workflow" / "rules").mkdir(parents=True)
    (tmp_path / "workflow" / "rules" / "make.smk").write_text(RULES)
    (tmp_path / "Snakefile").write_text('include: "workflow/rules/make.smk"\n\n'
                                        'rule top:\n    script:\n        "scripts/top.py"\n')
    (tmp_path / "scripts").mkdir()
    for name in ("make.py", "top.py"):
        (tmp_path / "scripts" / name).write_text("")
    (tmp_path / "results" / "tiny").mkdir(parents=True)
    (tmp_path / "results" / "tiny" / "evil.py").write_text("")
    return tmp_path


def test_script_is_read_relative_to_the_rule_file(checkout):
    make = (checkout / "scripts" / "make.py").resolve()
    assert rule_script(checkout, "make") == make
    assert rule_script(checkout, "nested") == make
    assert rule_script(checkout, "top") == (checkout / "scripts" / "top.py").resolve()


def test_use_rule_inherits_the_base_rules_script(checkout):
    make = (checkout / "scripts" / "make.py").resolve()
    assert rule_script(checkout, "make_again") == make
    assert rule_script(checkout, "make_plain") == make
    with pytest.raises(RuleError, match="defines no rule missing_base .used as a base by "
                       "rule orphan"):
        rule_script(checkout, "orphan")


@pytest.mark.parametrize("name, why", [
    ("unknown", "the workflow defines no rule unknown"),
    ("noscript", r"rule noscript \(workflow/rules/make.smk:\d+\) has no script: directive"),
    ("elsewhere", "is not in this checkout's scripts/ folder"),
    ("computed", "is not a plain string: SCRIPTS"),
])
def test_rules_without_a_script_of_this_checkout_are_refused(checkout, name, why):
    with pytest.raises(RuleError, match=why):
        rule_script(checkout, name)


def test_a_rule_defined_twice_is_refused(checkout):
    extra = checkout / "workflow" / "rules" / "helpers"
    extra.mkdir()
    (extra / "more.smk").write_text('rule make:\n    script:\n        "../../../scripts/top.py"\n')
    with pytest.raises(RuleError, match="rule make is defined more than once"):
        rule_script(checkout, "make")


def test_a_missing_script_is_refused(checkout):
    (checkout / "scripts" / "make.py").unlink()
    with pytest.raises(RuleError, match="scripts/make.py, is missing"):
        rule_script(checkout, "make")


def test_every_rule_of_this_workflow_with_a_script_resolves():
    rules = rule_files.defined_rules(REPO)
    assert {"plot", "claims", "linear_surfaces", "sharpness_seed_summary"} <= set(rules)
    assert rule_script(REPO, "plot") == REPO / "scripts" / "plot.py"
    assert rule_script(REPO, "sharpness_seed_summary") == (
        REPO / "scripts" / "sharpness" / "summary.py")
    for name in rules:
        if name != "all":  # the one rule without a script
            assert rule_script(REPO, name).is_relative_to(REPO / "scripts")
