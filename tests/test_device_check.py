"""benchmarks/check_device.py on the CPU (`--device cpu --quick`): the same code paths as on a
GPU, where the results must agree exactly and every paper-scale network gets its rates and a
projected time."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_device_check_runs_on_the_cpu(tmp_path):
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks/check_device.py"), "--device",
                           "cpu", "--quick", "--threads", "1", "--out", str(tmp_path)],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    report = json.loads((tmp_path / "device_check.json").read_text())
    assert set(report["agreement"]) == {"weights", "loss", "eigenvalues", "sharpness"}
    assert all(a["ok"] and a["difference"] == 0 for a in report["agreement"].values())
    assert {"resnet20", "resnet56", "resnet110", "f1", "c1", "vgg"} == set(report["rates"])
    assert all(v > 0 for r in report["rates"].values() for v in r.values())
    parts = [r["part"] for r in report["projection"]]
    assert any("ResNet-110" in p for p in parts) and any("train vgg" in p for p in parts)
    assert all(r["hours"] > 0 for r in report["projection"])
    assert "projected hours" in (tmp_path / "device_check.md").read_text()
