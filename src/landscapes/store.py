"""The project's file formats, each written atomically: safetensors, npz, JSON and CSV.

No pickle anywhere: arrays load with allow_pickle=False and tensors through safetensors.
A CSV table loads as a list of rows (dicts of strings); `columns` groups them into arrays.
"""

from __future__ import annotations

import csv
import io
import json
import os
import zipfile
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from landscapes.provenance import atomic_path


def save_tensors(path: str | os.PathLike, tensors: dict[str, torch.Tensor],
                 metadata: dict | None = None) -> None:
    """Tensors and a JSON-able metadata dict in one safetensors file."""
    tensors = {k: v.detach().contiguous().cpu() for k, v in tensors.items()}
    meta = {"json": json.dumps(metadata or {}, sort_keys=True)}
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata=meta)


def load_tensors(path: str | os.PathLike) -> tuple[dict[str, torch.Tensor], dict]:
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        meta = json.loads((f.metadata() or {}).get("json", "{}"))
    return load_file(str(path)), meta


def save_npz(path: str | os.PathLike, **arrays) -> None:
    """Arrays in an npz whose bytes depend only on the arrays (fixed zip timestamps)."""
    with atomic_path(path) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(arrays):
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.asarray(arrays[name]), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, buf.getvalue())


def load_npz(path: str | os.PathLike) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def save_json(path: str | os.PathLike, obj) -> None:
    with atomic_path(path) as tmp:
        Path(tmp).write_text(json.dumps(obj, indent=1, sort_keys=True, allow_nan=True) + "\n")


def load_json(path: str | os.PathLike):
    return json.loads(Path(path).read_text())


def save_csv(path: str | os.PathLike, rows: list[dict]) -> None:
    """Rows of dicts with the same keys; column order from the first row."""
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as f:
        if rows:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)


def load_csv(path: str | os.PathLike) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def columns(rows: list[dict], group: str, *fields: str) -> dict[int, dict[str, np.ndarray]]:
    """Rows grouped by an integer column, each group's fields as float arrays."""
    keys = sorted({int(r[group]) for r in rows})
    return {k: {f: np.array([float(r[f]) for r in rows if int(r[group]) == k]) for f in fields}
            for k in keys}
