"""One figure style, and saving PNG + PDF that are byte-identical for identical inputs.

Provenance fields go into the files' metadata; dates and software versions do not, so the
bytes depend only on what was drawn and where it came from.
"""

from __future__ import annotations

import io
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from landscapes.provenance import atomic_path  # noqa: E402

STYLE = {
    "figure.dpi": 100,
    "savefig.dpi": 150,
    "font.size": 10,
    "axes.titlesize": 10,
    "axes.labelsize": 10,
    "legend.fontsize": 8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": False,
    "image.cmap": "viridis",
    "pdf.fonttype": 42,
    "svg.hashsalt": "landscapes",
    "path.simplify": True,
}


def style() -> None:
    plt.rcParams.update(STYLE)


def figure(*args, **kwargs):
    """`plt.subplots` in the project's style, laid out so labels never overlap."""
    style()
    kwargs.setdefault("layout", "constrained")
    return plt.subplots(*args, **kwargs)


def save_figure(fig, png_path: str | os.PathLike, pdf_path: str | os.PathLike | None = None,
                metadata: dict[str, str] | None = None) -> None:
    """Write PNG (and PDF) atomically, with provenance in their metadata and no timestamps."""
    meta = dict(metadata or {})
    png_meta = {"Software": None, **{k.capitalize(): v for k, v in meta.items()}}
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata=png_meta, bbox_inches="tight")
    with atomic_path(png_path) as tmp:
        tmp.write_bytes(buf.getvalue())
    if pdf_path is not None:
        # PDF's info dictionary takes free keys; CreationDate and Producer are dropped.
        pdf_meta = {"CreationDate": None, "Producer": None, "Creator": None,
                    "Subject": meta.get("rule", ""), "Keywords": " ".join(
                        f"{k}={v}" for k, v in sorted(meta.items()))}
        buf = io.BytesIO()
        fig.savefig(buf, format="pdf", metadata=pdf_meta, bbox_inches="tight")
        with atomic_path(pdf_path) as tmp:
            tmp.write_bytes(buf.getvalue())
    plt.close(fig)
