import json
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
