"""Your own model through the same measurements: built by a `module:function` of yours, its
weights read from a checkpoint, and checked against its data before anything is measured.

- `import_builder("pkg.mod:build")` or `"path/to/file.py:build"`: the function that builds the
  model; a module name is imported with the working directory first on the path (as
  `python -m` does).
- `read_state(path)`: a `.safetensors` file, or a state dict saved with `torch.save` and read
  with `torch.load(..., weights_only=True)` (never a pickle of code); a mapping that holds it
  under `state_dict` or `model` is unwrapped.
- `load(spec, data)`: the model in eval mode (BatchNorm with the checkpoint's running
  statistics), its weights matched key by key and shape by shape, its inputs and outputs tried
  on two samples of the data, and at least one weight to perturb.

Every such mistake raises `UserModelError` naming the file and what was expected.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from pathlib import Path

import torch
from torch import nn

from landscapes.data import Dataset
from landscapes.params import Layout

SHOWN = 5  # keys listed in a mismatch message before "and N more"


class UserModelError(ValueError):
    """A user's model, checkpoint or data that the measurements cannot use."""


def _split_ref(ref: str) -> tuple[str, str]:
    module, sep, name = str(ref).rpartition(":")
    if not sep or not module or not name.isidentifier():
        raise UserModelError(f"model '{ref}': expected 'module:function' (e.g. "
                             "torchvision.models:resnet18) or 'path/to/file.py:function'")
    return module, name


def model_file(ref: str) -> str | None:
    """The Python file a `file.py:function` reference names (None for a module name)."""
    module, _ = _split_ref(ref)
    return module if module.endswith(".py") else None


def _first_line(e: BaseException) -> str:
    return f"{type(e).__name__}: {str(e).strip().splitlines()[0] if str(e).strip() else ''}"


def import_builder(ref: str):
    """The function `ref` names, imported."""
    module_name, name = _split_ref(ref)
    if module_name.endswith(".py"):
        path = Path(module_name)
        if not path.is_file():
            raise UserModelError(f"{path}: no such Python file (model '{ref}')")
        spec = importlib.util.spec_from_file_location(f"landscapes_user_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(module)
        except Exception as e:
            raise UserModelError(f"{path}: importing it failed ({_first_line(e)}), so model "
                                 f"'{ref}' cannot be built") from e
        where = str(path)
    else:
        if os.getcwd() not in sys.path:
            sys.path.insert(0, os.getcwd())
        try:
            module = importlib.import_module(module_name)
        except Exception as e:
            raise UserModelError(
                f"model '{ref}': module '{module_name}' does not import ({_first_line(e)}); "
                "it must be importable from the working directory or PYTHONPATH, or name a "
                "file as path/to/file.py:function") from e
        where = f"module '{module_name}' ({getattr(module, '__file__', None) or 'built in'})"
    fn = getattr(module, name, None)
    if not callable(fn):
        raise UserModelError(f"model '{ref}': {where} has no function '{name}'")
    return fn


def build(ref: str, kwargs: dict | None = None, seed: int = 0) -> nn.Module:
    """The model `ref` builds with `kwargs` (seeded, so anything it draws is reproducible)."""
    fn = import_builder(ref)
    torch.manual_seed(seed)
    try:
        model = fn(**(kwargs or {}))
    except Exception as e:
        raise UserModelError(f"model '{ref}': calling it with {kwargs or {}} failed "
                             f"({_first_line(e)})") from e
    if not isinstance(model, nn.Module):
        raise UserModelError(f"model '{ref}' returned a {type(model).__name__}; expected a "
                             "torch.nn.Module")
    return model


def read_state(path) -> dict[str, torch.Tensor]:
    """A checkpoint's state dict: safetensors, or torch.load with weights_only=True."""
    path = Path(path)
    if not path.is_file():
        raise UserModelError(f"{path}: no such checkpoint file")
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        try:
            return load_file(str(path))
        except Exception as e:
            raise UserModelError(f"{path}: not a readable safetensors file "
                                 f"({_first_line(e)})") from e
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        raise UserModelError(f"{path}: torch.load(..., weights_only=True) cannot read it "
                             f"({_first_line(e)}); save the state dict "
                             "(torch.save(model.state_dict(), path)) or a .safetensors "
                             "file") from e
    for key in ("state_dict", "model"):
        if isinstance(obj, dict) and isinstance(obj.get(key), dict):
            obj = obj[key]
            break
    if not (isinstance(obj, dict) and obj and all(
            isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in obj.items())):
        raise UserModelError(f"{path}: expected a state dict (parameter name -> tensor), got "
                             f"{type(obj).__name__}"
                             + (f" with keys {', '.join(map(str, list(obj)[:SHOWN]))}"
                                if isinstance(obj, dict) else ""))
    return dict(obj)


def _listed(keys) -> str:
    keys = list(keys)
    more = f" and {len(keys) - SHOWN} more" if len(keys) > SHOWN else ""
    return ", ".join(keys[:SHOWN]) + more


def load_weights(model: nn.Module, state: dict[str, torch.Tensor], path, ref: str) -> None:
    """`state` into `model`, refusing any missing or unexpected key or shape mismatch."""
    expected = model.state_dict()
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    shapes = [f"{k} is {tuple(state[k].shape)} in the checkpoint, {tuple(v.shape)} in the "
              f"model" for k, v in expected.items() if k in state and state[k].shape != v.shape]
    problems = []
    if missing:
        problems.append(f"missing keys (the model has them, the checkpoint not): "
                        f"{_listed(missing)}")
    if unexpected:
        problems.append(f"unexpected keys (in the checkpoint, not in the model): "
                        f"{_listed(unexpected)}")
    if shapes:
        problems.append(f"shape mismatch: {_listed(shapes)}")
    if problems:
        hint = ""
        if unexpected and all(k.startswith("module.") for k in unexpected):
            hint = " (its keys start with 'module.': saved from a DataParallel wrapper?)"
        raise UserModelError(f"{path} does not match model '{ref}'{hint}: "
                             + "; ".join(problems))
    model.load_state_dict(state)


def check_perturbable(model: nn.Module, ref: str, ignore_bias_bn: bool = True) -> None:
    """A surface moves weights: refuse a model with none the directions would move."""
    lay = Layout.of(model)
    if lay.dim == 0:
        raise UserModelError(f"model '{ref}' has no parameters to perturb "
                             "(named_parameters() is empty)")
    if ignore_bias_bn and bool(lay.bias_bn_mask().all()):
        raise UserModelError(f"model '{ref}' has only one-dimensional parameters (biases, "
                             "BatchNorm), which filter-normalized directions leave fixed: "
                             "nothing to perturb; set user.directions.ignore_bias_bn to false")


@torch.no_grad()
def check_data(model: nn.Module, data: Dataset, ref: str, where: str) -> None:
    """Two training samples through the model in eval mode: logits (2, classes) expected."""
    x = data.x_train[:2]
    try:
        out = model.eval()(x)
    except Exception as e:
        raise UserModelError(f"model '{ref}' does not take the inputs of {where}: samples of "
                             f"shape {tuple(x.shape[1:])} give {_first_line(e)}") from e
    if not isinstance(out, torch.Tensor) or out.ndim != 2 or len(out) != len(x):
        got = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise UserModelError(f"model '{ref}' maps 2 samples of {where} to {got}; expected "
                             "logits of shape (2, classes)")
    if out.shape[1] < data.n_classes:
        raise UserModelError(f"model '{ref}' gives {out.shape[1]} logits per sample but "
                             f"{where} has {data.n_classes} classes")


def describe(dataset_name: str, dataset_spec: dict) -> str:
    """How an error names a dataset: its file where it has one."""
    path = dataset_spec.get("path")
    return f"dataset '{dataset_name}' ({path})" if path else \
        f"dataset '{dataset_name}' ({dataset_spec.get('source', '?')})"


def load(spec: dict, data: Dataset, where: str = "the data", ignore_bias_bn: bool = True,
         seed: int = 0) -> nn.Module:
    """The user's model with its checkpoint, checked, in eval mode. `spec` has `model`
    (module:function), `kwargs` and `checkpoint`; `where` names the data in errors."""
    ref = spec["model"]
    model = build(ref, spec.get("kwargs") or {}, seed)
    check_perturbable(model, ref, ignore_bias_bn)
    load_weights(model, read_state(spec["checkpoint"]), spec["checkpoint"], ref)
    model.eval()
    check_data(model, data, ref, where)
    return model
