import json
import re
from types import SimpleNamespace

import pytest

from landscapes import provenance
from landscapes.store import load_npz, save_csv, save_json, save_npz


def test_atomic_path_leaves_nothing_when_the_job_dies(tmp_path):
    target = tmp_path / "out.npz"
    with pytest.raises(RuntimeError):
        with provenance.atomic_path(target) as tmp:
            tmp.write_bytes(b"half")
            raise RuntimeError("killed")
    assert list(tmp_path.iterdir()) == []


def test_a_rewrite_removes_what_a_killed_job_left_half_written(tmp_path):
    """kill -9 runs no cleanup: the temporary file stays until the job reruns."""
    target = tmp_path / "out.npz"
    left = tmp_path / ".out.npz.abc123.tmp"
    other = tmp_path / ".out.npz2.abc123.tmp"  # another file's: not this write's to remove
    left.write_bytes(b"half")
    other.write_bytes(b"half")
    with provenance.atomic_path(target) as tmp:
        tmp.write_bytes(b"whole")
    assert sorted(p.name for p in tmp_path.iterdir()) == [other.name, "out.npz"]
    assert target.read_bytes() == b"whole"


def test_npz_bytes_depend_only_on_arrays(tmp_path):
    save_npz(tmp_path / "a.npz", x=[1.0, 2.0], y=[[3]])
    save_npz(tmp_path / "b.npz", y=[[3]], x=[1.0, 2.0])
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()
    assert load_npz(tmp_path / "a.npz")["x"].tolist() == [1.0, 2.0]


class Named(list):
    """Snakemake's Namedlist: a list whose entries may also have names."""

    def __init__(self, **named):
        super().__init__(named.values())
        self._named = named

    def items(self):
        return self._named.items()

    def __getattr__(self, name):
        try:
            return self.__dict__["_named"][name]
        except KeyError:
            raise AttributeError(name) from None


def test_step_writes_a_sidecar_per_output(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "in.json").write_text("{}")
    script = tmp_path / "scripts" / "make.py"
    script.parent.mkdir()
    script.write_text("# the script\n")
    smk = SimpleNamespace(
        rule="make", input=Named(src="in.json"), output=Named(table="out.csv", js="out.json"),
        params=Named(seed=7, settings={"a": 1}), wildcards=Named(), log=Named(log="make.log"),
        threads=1, resources=Named(mem_mb=100), scriptdir=str(script.parent))
    with provenance.step(smk, ".snakemake/scripts/tmpab12.make.py") as s:
        save_csv(smk.output.table, [{"a": 1, "b": 2}])
        save_json(smk.output.js, {"ok": True})
        assert s.figure_metadata()["rule"] == "make"
    side = json.loads((tmp_path / "out.csv.prov.json").read_text())
    assert side["rule"] == "make" and side["seed"] == 7 and side["script"] == "scripts/make.py"
    assert side["inputs"]["src"][0]["sha256"] == provenance.sha256_file("in.json")
    assert side["output"]["sha256"] == provenance.sha256_file("out.csv")
    assert side["params"]["settings"] == {"a": 1} and side["script_sha256"]
    assert side["device"] == "cpu"  # no gpu resource: the CPU
    assert {"torch", "numpy", "python"} <= set(side["versions"]) and "commit" in side["git"]
    assert (tmp_path / "out.json.prov.json").exists()
    assert "rule make started" in (tmp_path / "make.log").read_text()


def test_failed_step_writes_no_sidecar(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    smk = SimpleNamespace(rule="r", input=Named(), output=Named(o="o.json"), params=Named(),
                          wildcards=Named(), log=Named(), threads=1, resources=Named(),
                          scriptdir=str(tmp_path))
    with pytest.raises(ValueError):
        with provenance.step(smk, "r.py"):
            raise ValueError("bad")
    assert not (tmp_path / "o.json.prov.json").exists()


def test_a_job_computes_on_a_gpu_only_when_given_one_and_torch_sees_it(caplog, monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert provenance.compute_device(0).type == "cpu"
    with caplog.at_level("WARNING"):
        assert provenance.compute_device(1).type == "cpu"  # granted, not visible: said
    assert "torch sees none" in caplog.text
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert provenance.compute_device(1).type == "cuda"
    assert provenance.compute_device(0).type == "cpu"  # not given one: never takes it


# ------------------------------------------------------------------ inputs checked before use


def make_step(tmp_path, rule, inputs, outputs, body=None):
    """Run a stand-in job of `rule` in `tmp_path`; `body(smk)` writes its outputs."""
    smk = SimpleNamespace(rule=rule, input=Named(**inputs), output=Named(**outputs),
                          params=Named(seed=0), wildcards=Named(),
                          log=Named(log=f"results/tiny/logs/{rule}.log"), threads=1,
                          resources=Named(), scriptdir=str(tmp_path))
    with provenance.step(smk, f"{rule}.py"):
        for path in outputs.values():
            (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / path).write_bytes(f"{rule} wrote {path}".encode() * 100)
        if body:
            body(smk)
    return smk


MODEL = "results/tiny/models/skips/seed0/resnet.safetensors"
TRAJECTORY = "results/tiny/models/skips/seed0/trajectory.safetensors"
DATA = "results/tiny/data/digits.safetensors"


@pytest.fixture
def trained(tmp_path, monkeypatch):
    """A folder where rules prepare_data and skips_train have run (stand-ins)."""
    monkeypatch.chdir(tmp_path)
    make_step(tmp_path, "prepare_data", {}, {"data": DATA})
    make_step(tmp_path, "skips_train", {"data": DATA}, {"model": MODEL, "trajectory": TRAJECTORY})
    return tmp_path


def test_a_truncated_input_is_refused_before_loading_naming_file_and_rule(trained):
    model = trained / MODEL
    model.write_bytes(model.read_bytes()[:50])  # as a full disk or a killed copy leaves it
    loaded = []
    with pytest.raises(provenance.InputCheckError) as err:
        make_step(trained, "skips_directions",
                  {"data": DATA, "model": MODEL, "trajectory": TRAJECTORY},
                  {"directions": "results/tiny/surfaces/skips/directions.safetensors"},
                  body=lambda smk: loaded.append(True))
    assert loaded == []  # the body never ran
    assert err.value.path == MODEL and err.value.rule == "skips_train"
    message = str(err.value)
    assert message.startswith(f"input {MODEL} (made by rule skips_train) is not the file its "
                              "rule wrote (sha256 now ")
    assert "snakemake --forcerun skips_train" in message
    assert not (trained / "results/tiny/surfaces/skips/directions.safetensors.prov.json").exists()
    assert message in (trained / "results/tiny/logs/skips_directions.log").read_text()


@pytest.mark.parametrize("damage, problem", [
    ("no sidecar", "has no provenance sidecar (resnet.safetensors.prov.json)"),
    ("bad sidecar", "that is not a provenance record"),
    ("unreadable", "cannot be read"),
])
def test_an_input_that_cannot_be_checked_is_refused_naming_it(trained, damage, problem):
    model, side = trained / MODEL, provenance.sidecar_path(trained / MODEL)
    if damage == "no sidecar":  # under results/, so not raw data: unaudited
        side.unlink()
    elif damage == "bad sidecar":
        side.write_text(side.read_text()[:40])
    else:
        model.unlink()
        model.symlink_to(model.parent / "gone")  # any read fails (root reads even mode 000)
    with pytest.raises(provenance.InputCheckError, match=re.escape(problem)) as err:
        make_step(trained, "skips_directions", {"model": MODEL}, {"d": "results/tiny/d.npz"})
    assert err.value.path == MODEL and str(err.value).startswith(f"input {MODEL}")
    if damage == "unreadable":  # its sidecar still names the rule to rerun
        assert "(made by rule skips_train) cannot be read" in str(err.value)


def test_inputs_record_their_sidecars_and_raw_data_is_only_hashed(trained):
    (trained / "resources").mkdir()
    (trained / "resources" / "raw.bin").write_bytes(b"downloaded")
    make_step(trained, "skips_directions", {"model": MODEL, "raw": "resources/raw.bin"},
              {"d": "results/tiny/d.npz"})
    record = json.loads((trained / "results/tiny/d.npz.prov.json").read_text())
    assert record["format"] == provenance.FORMAT_VERSION == 2
    (model,), (raw,) = record["inputs"]["model"], record["inputs"]["raw"]
    assert model["sidecar_sha256"] == provenance.sha256_file(provenance.sidecar_path(MODEL))
    assert model["sha256"] == provenance.sha256_file(MODEL)
    assert raw == {"path": "resources/raw.bin", "sha256": provenance.sha256_file(
        "resources/raw.bin"), "sidecar_sha256": None}


def test_figure_metadata_holds_no_times_nor_sidecar_hashes(trained):
    """Figure bytes must stay the same when an input's step re-runs to identical bytes (its
    sidecar then differs only in its times)."""
    smk = SimpleNamespace(rule="plot", input=Named(model=MODEL), output=Named(), params=Named(),
                          wildcards=Named(), log=Named(), threads=1, resources=Named(),
                          scriptdir=str(trained))
    before = provenance.Step(smk, "plot.py").figure_metadata()
    side = provenance.sidecar_path(MODEL)
    record = json.loads(side.read_text())
    record["start"] = record["end"] = "2000-01-01T00:00:00+00:00"
    side.write_text(json.dumps(record))
    assert provenance.Step(smk, "plot.py").figure_metadata() == before
    assert "2000-01-01" not in json.dumps(before)
