"""Your own model through the same DAG: torchvision's resnet18 (BatchNorm in eval mode with
stored statistics) on fabricated CIFAR-shaped data, by config and by `landscapes surface`, and
the errors a user's mistakes get."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from torch import nn

from landscapes import cli, data, user

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).parent / "snakemake")
FIGURES = cli.USER_FIGURES
N_IMAGES = 48  # 32 train, 16 test
NET_PY = """import torchvision


def build(num_classes=10):
    return torchvision.models.resnet18(num_classes=num_classes)
"""


def images(n=N_IMAGES, classes=10, seed=0):
    """uint8 CIFAR-shaped images whose brightness tells the class, labels 0..classes-1."""
    y = np.arange(n) % classes
    noise = np.random.default_rng(seed).integers(0, 128, (n, 3, 32, 32))
    return (noise + 12 * y[:, None, None, None]).astype(np.uint8), y


def fitted_resnet18(x, y):
    """A few SGD steps, then BatchNorm's running statistics of the whole set (so eval mode
    sees stored statistics that fit the weights)."""
    import torchvision

    torch.manual_seed(0)
    model = torchvision.models.resnet18(num_classes=10)
    xt, yt = torch.from_numpy(x).float() / 255, torch.from_numpy(y).long()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    model.train()
    for _ in range(4):
        opt.zero_grad()
        nn.functional.cross_entropy(model(xt), yt).backward()
        opt.step()
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.reset_running_stats()
            m.momentum = None  # a cumulative average: the statistics of this one pass
    with torch.no_grad():
        model(xt)
    return model.eval()


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """data.npz, an image folder, resnet18 as safetensors and as a torch.save state dict, and
    net.py:build."""
    from PIL import Image
    from safetensors.torch import save_file

    work = tmp_path_factory.mktemp("user")
    x, y = images()
    np.savez(work / "data.npz", x=x, y=y)
    for i, (im, label) in enumerate(zip(x, y)):
        folder = work / "folder" / f"class{label}"
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(im.transpose(1, 2, 0)).save(folder / f"{i}.png")
    model = fitted_resnet18(x, y)
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    save_file(state, work / "r18.safetensors")
    torch.save(state, work / "r18.pt")
    (work / "net.py").write_text(NET_PY)
    return work


# ---------------------------------------------------------------- data


def test_npz_and_image_folder_give_the_same_images(files):
    a = data.prepare("npz", n_test=16, seed=0, normalize=False, path=files / "data.npz")
    b = data.prepare("image_folder", n_test=16, seed=0, normalize=False, path=files / "folder")
    for d in (a, b):
        assert d.x_train.shape == (32, 3, 32, 32) and d.x_test.shape == (16, 3, 32, 32)
        assert d.n_classes == 10 and 0 <= d.x_train.min() and d.x_train.max() <= 1
    # the folder's images are the npz's, pixel for pixel (the order is each one's own)
    assert sorted(a.x_train.sum((1, 2, 3)).tolist() + a.x_test.sum((1, 2, 3)).tolist()) == \
        pytest.approx(sorted(b.x_train.sum((1, 2, 3)).tolist() + b.x_test.sum((1, 2, 3)).tolist()))


def test_npz_with_its_own_test_split(tmp_path):
    x, y = images(30)
    np.savez(tmp_path / "d.npz", x=x[:20].astype(np.float32), y=y[:20],
             x_test=x[20:].astype(np.float32), y_test=y[20:])
    d = data.prepare("npz", n_train=12, path=tmp_path / "d.npz", normalize=False)
    assert len(d.y_train) == 12 and len(d.y_test) == 10
    assert d.x_train.max() > 1  # float inputs are taken as stored


@pytest.mark.parametrize("arrays, says", [
    ({"x": np.zeros((12, 3))}, "expected arrays 'x'"),
    ({"x": np.zeros((12, 3)), "y": np.zeros(11, dtype=int)}, "'y' must be 12"),
    ({"x": np.zeros((12, 3)), "y": np.zeros(12)}, "integer class labels"),
])
def test_a_malformed_npz_is_named_with_what_was_expected(tmp_path, arrays, says):
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(ValueError, match=says) as e:
        data.prepare("npz", path=tmp_path / "bad.npz")
    assert "bad.npz" in str(e.value)


def test_a_file_source_without_its_path_is_refused_before_any_job(tmp_path):
    from landscapes.config import ConfigError, load

    default = yaml.safe_load((ROOT / "config" / "default.yaml").read_text())
    overlay = {"run_name": "x", **{k: {} for k, v in default.items() if isinstance(v, dict)},
               "datasets": {"mine": {"source": "npz", "seed": 0}}}
    (tmp_path / "x.yaml").write_text(yaml.safe_dump(overlay))
    with pytest.raises(ConfigError, match="config key 'datasets.mine' is missing 'path'"):
        load([ROOT / "config" / "default.yaml", tmp_path / "x.yaml"], ROOT / "workflow/schemas")


# ---------------------------------------------------------------- a user's mistakes


def spec(files, **kw):
    return {"model": "torchvision.models:resnet18", "kwargs": {"num_classes": 10},
            "checkpoint": str(files / "r18.safetensors"), **kw}


def cifar(files, **kw):
    return data.prepare("npz", n_test=16, path=files / "data.npz", **kw)


def test_the_checkpoint_loads_in_eval_mode_with_its_statistics(files):
    for checkpoint in ("r18.safetensors", "r18.pt"):
        model = user.load(spec(files, checkpoint=str(files / checkpoint)), cifar(files))
        assert not model.training
        assert model.bn1.running_var.std() > 0  # the stored statistics, not fresh ones


@pytest.mark.parametrize("ref, says", [
    ("no_such_module_xyz:build", "module 'no_such_module_xyz' does not import"),
    ("torchvision.models:no_such_net", "has no function 'no_such_net'"),
    ("missing.py:build", "missing.py: no such Python file"),
    ("resnet18", "expected 'module:function'"),
])
def test_a_model_that_does_not_import_is_named(files, ref, says):
    with pytest.raises(user.UserModelError, match=says):
        user.build(ref)


def test_a_model_file_that_fails_to_import_names_the_file(tmp_path):
    (tmp_path / "broken.py").write_text("import no_such_package_xyz\n")
    with pytest.raises(user.UserModelError, match=r"broken.py: importing it failed "
                       r"\(ModuleNotFoundError"):
        user.build(f"{tmp_path / 'broken.py'}:build")


def test_a_checkpoint_that_does_not_match_names_keys_and_shapes(files, tmp_path):
    from safetensors.torch import load_file, save_file

    state = load_file(files / "r18.safetensors")
    del state["layer1.0.conv1.weight"]
    state["extra.weight"] = torch.zeros(2)
    save_file(state, tmp_path / "bad.safetensors")
    with pytest.raises(user.UserModelError) as e:
        user.load(spec(files, checkpoint=str(tmp_path / "bad.safetensors")), cifar(files))
    text = str(e.value)
    assert "bad.safetensors does not match model 'torchvision.models:resnet18'" in text
    assert "missing keys" in text and "layer1.0.conv1.weight" in text
    assert "unexpected keys" in text and "extra.weight" in text
    with pytest.raises(user.UserModelError, match=r"shape mismatch: fc.weight is \(10, 512\) "
                       r"in the checkpoint, \(7, 512\) in the model"):
        user.load(spec(files, kwargs={"num_classes": 7}), cifar(files))


def test_a_checkpoint_torch_load_refuses_is_named(files, tmp_path):
    torch.save({"model": nn.Linear(2, 2)}, tmp_path / "pickled.pt")  # a module, not weights
    with pytest.raises(user.UserModelError, match=r"pickled.pt: torch.load\(\.\.\., "
                       r"weights_only=True\) cannot read it"):
        user.read_state(tmp_path / "pickled.pt")
    torch.save([1, 2], tmp_path / "list.pt")
    with pytest.raises(user.UserModelError, match="list.pt: expected a state dict"):
        user.read_state(tmp_path / "list.pt")


def test_data_of_the_wrong_shape_for_the_model_is_named(files, tmp_path):
    x, y = images()
    np.savez(tmp_path / "gray.npz", x=x[:, :1], y=y)  # one channel for a 3-channel net
    gray = data.prepare("npz", path=tmp_path / "gray.npz", n_test=16)
    where = user.describe("gray", {"source": "npz", "path": str(tmp_path / "gray.npz")})
    with pytest.raises(user.UserModelError, match=r"does not take the inputs of dataset 'gray' "
                       r"\(.*gray.npz\): samples of shape \(1, 32, 32\) give RuntimeError"):
        user.load(spec(files), gray, where)


def test_too_few_logits_for_the_classes_are_named(files, tmp_path):
    torch.manual_seed(0)
    small = nn.Sequential(nn.Flatten(), nn.Linear(3 * 32 * 32, 3))
    with pytest.raises(user.UserModelError, match="gives 3 logits per sample but the data "
                       "has 10 classes"):
        user.check_data(small, cifar(files), "mine:small", "the data")


def test_a_model_with_no_parameters_to_perturb_is_refused():
    with pytest.raises(user.UserModelError, match="has no parameters to perturb"):
        user.check_perturbable(nn.ReLU(), "mine:relu")
    with pytest.raises(user.UserModelError, match="only one-dimensional parameters"):
        user.check_perturbable(nn.BatchNorm1d(4), "mine:bn")
    user.check_perturbable(nn.BatchNorm1d(4), "mine:bn", ignore_bias_bn=False)


def run_cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "landscapes", "surface", *args], cwd=cwd,
                          capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT / "src")})


def test_the_command_names_a_mistake_before_any_job(files, tmp_path):
    base = ["--checkpoint", str(files / "r18.safetensors"), "--data", str(files / "data.npz")]
    proc = run_cli("--model", "no_such_module_xyz:build", *base, cwd=tmp_path)
    assert proc.returncode == 2 and "module 'no_such_module_xyz' does not import" in proc.stderr
    assert "Traceback" not in proc.stderr
    proc = run_cli("--model", "torchvision.models:resnet18", "--kwargs", '{"num_classes": 7}',
                   *base, cwd=tmp_path)
    assert proc.returncode == 2 and "shape mismatch: fc.weight" in proc.stderr
    proc = run_cli("--model", "torchvision.models:resnet18", "--checkpoint", "x.pt",
                   "--data", "nowhere", cwd=tmp_path)
    assert proc.returncode == 2 and "--data nowhere: neither a dataset name" in proc.stderr


# ---------------------------------------------------------------- end to end

# Tiny measurements: a 3 x 3 surface, 2 x 2 Hessian map, a few Lanczos steps and samples.
SMALL = {
    "surface": {"points": [3, 3], "tiles": 1},
    "slice": {"points": 5},
    "hessian": {"points": [2, 2], "n_samples": 8, "lanczos_steps": 2},
    "spectrum": {"n_samples": 8, "lanczos_steps": 3, "probes": 1},
    # a random subspace: the full space of resnet18's 11M weights costs SciPy's L-BFGS-B set-up
    # about a minute (a Python loop over the bounds), whatever the data
    "sharpness": {"eps": [1.0e-3], "spaces": ["subspace"], "subspace_dim": 2, "maxiter": 1,
                  "n_samples": 8},
}


def check_outputs(results: Path, model: str, space: str):
    for f in FIGURES:
        png = results / "figures" / "user" / f"{f}.png"
        assert png.stat().st_size > 0 and Path(f"{png}.prov.json").is_file(), png
    records = json.loads((results / "claims" / "user.json").read_text())
    assert {r["id"] for r in records} == {"user.minimum", "user.locally_convex"}
    assert all(isinstance(r["holds"], bool) and model in r["per_seed"][0]["details"]
               for r in records)
    check = json.loads((results / "models" / "user" / model / "check.json").read_text())
    assert check["parameters"] == 11181642 and check["input_shape"] == [3, 32, 32]
    sharp = json.loads((results / "measurements/user/seed0" / model / "sharpness.json")
                       .read_text())
    assert {r["space"] for r in sharp["sharpness"]} == {space}
    assert all(r["phi"] >= 0 for r in sharp["sharpness"])


@pytest.mark.workflow
def test_a_config_section_runs_resnet18_through_the_dag(files, tmp_path):
    default = yaml.safe_load((ROOT / "config" / "default.yaml").read_text())
    overlay = {"run_name": "mine", **{k: {} for k, v in default.items() if isinstance(v, dict)},
               "experiments": ["user"],  # this model only: its figures, claims and report
               "datasets": {"fake": {"source": "npz", "path": str(files / "data.npz"),
                                     "seed": 0, "n_test": 16}},
               "user": {"models": {"r18": {"model": "torchvision.models:resnet18",
                                           "kwargs": {"num_classes": 10},
                                           "checkpoint": str(files / "r18.safetensors"),
                                           "dataset": "fake"}}, **SMALL}}
    (tmp_path / "mine.yaml").write_text(yaml.safe_dump(overlay))
    # the whole DAG of this overlay: only the user experiment's figures, claims and captions
    proc = subprocess.run([SNAKEMAKE, "--snakefile", str(ROOT / "Snakefile"), "--cores", "2",
                           "--configfile", "mine.yaml"], cwd=tmp_path,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    check_outputs(tmp_path / "results" / "mine", "r18", "subspace")
    # the model's figures make their own report category
    report = subprocess.run([SNAKEMAKE, "--snakefile", str(ROOT / "Snakefile"), "--report",
                             "results/mine/report.html", "--configfile", "mine.yaml"],
                            cwd=tmp_path, capture_output=True, text=True)
    assert report.returncode == 0, report.stdout[-3000:] + report.stderr[-3000:]
    html = (tmp_path / "results/mine/report.html").read_text(errors="replace")
    assert "Your own models" in html and "contours.png" in html


@pytest.mark.workflow
def test_the_command_runs_one_checkpoint_without_a_config(files, tmp_path):
    proc = run_cli(
        "--model", f"{files / 'net.py'}:build", "--checkpoint", str(files / "r18.pt"),
        "--data", str(files / "folder"), "--name", "r18", "--n-test", "16", "--grid", "3",
        "--slice-points", "5", "--hessian-grid", "2", "--lanczos-steps", "2",
        "--hessian-samples", "8", "--eps", "1e-3", "--sharpness-spaces", "subspace",
        "--subspace-dim", "2", "--tiles", "1",
        "--sharpness-iterations", "1", "--sharpness-samples", "8", "--cores", "2", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    results = tmp_path / "results" / "user"
    overlay = yaml.safe_load((results / "config.yaml").read_text())
    assert overlay["user"]["surface"]["points"] == [3, 3]
    assert overlay["datasets"]["user_r18"]["source"] == "image_folder"
    check_outputs(results, "r18", "subspace")
    html = (results / "report.html").read_text(errors="replace")
    assert "Your own models" in html  # the model's report, its own category
    # the overlay it wrote reruns nothing
    again = subprocess.run([SNAKEMAKE, "--snakefile", str(ROOT / "Snakefile"), "-n",
                            *[f"results/user/figures/user/{f}.png" for f in FIGURES],
                            "--configfile", "results/user/config.yaml"], cwd=tmp_path,
                           capture_output=True, text=True)
    assert "Nothing to be done" in again.stdout + again.stderr, again.stdout[-2000:]


@pytest.mark.workflow
def test_data_the_model_does_not_take_stops_the_command_at_the_check(files, tmp_path):
    x, y = images()
    np.savez(tmp_path / "gray.npz", x=x[:, :1], y=y)
    proc = run_cli("--model", "torchvision.models:resnet18", "--kwargs", '{"num_classes": 10}',
                   "--checkpoint", str(files / "r18.safetensors"), "--data",
                   str(tmp_path / "gray.npz"), "--grid", "3", "--cores", "2", cwd=tmp_path)
    assert proc.returncode != 0
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("landscapes surface: model 'torchvision.models:resnet18' does not "
                           "take the inputs of dataset 'user_model'"), last
    assert "gray.npz): samples of shape (1, 32, 32)" in last
    assert not list(tmp_path.glob("results/user/surfaces/**/*.npz"))  # nothing measured

