"""2D loss surfaces for viewers: a VTK structured grid for ParaView and a self-contained
interactive HTML page (rotate, zoom, hover values).

VTK: an XML structured grid (`.vts`), points (axis 0, axis 1, loss) so the surface is its
geometry, every metric as point data. Written here, not through VTK, so the bytes depend only
on the arrays: float64 little-endian, base64 inline ("binary" format), no compression.

HTML: one page with one 3D scene per panel, drawn by plotly.js. The page makes no network
request: plotly.js (its 3D bundle, vendored) is embedded gzip-compressed and base64-encoded,
0.75 MB instead of 1.75 MB, and unpacked in the browser with `DecompressionStream` before the
figure is drawn. Small enough for the Snakemake report, whose items are data URIs (Chromium
takes at most 2 MB). The div id is fixed and nothing holds a time, so identical inputs give
identical bytes.
"""

from __future__ import annotations

import base64
import functools
import gzip
import hashlib
import html
import logging
import math
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from landscapes.provenance import atomic_path

log = logging.getLogger(__name__)

if TYPE_CHECKING:  # the rule files read LINEAR_GRIDS when they are parsed: no torch import
    from landscapes.surface import Surface

DIV_ID = "surface"
MAX_POINTS = 101  # grid points per axis drawn in a page (the .vts keeps every point)
# A report item is a data URI, which Chromium caps at 2 MB: a page must stay under this.
REPORT_LIMIT = 1_500_000
COLORSCALE = "Viridis"  # the matplotlib figures' colormap
# The 2D loss grids of the linear experiment's surfaces.npz: key, axis names, title.
LINEAR_GRIDS = (
    ("bowl", ("a", "b"), "2-3-1 linear net over its effective weights (a, b)"),
    ("chain", ("w1", "w2"), "1-1-1 chain L = 1/2 (s - w2 w1)^2"),
    ("slice_linear", ("w11", "w21"), "2-3-1 net, linear units: two first-layer weights"),
    ("slice_sigmoid", ("w11", "w21"), "2-3-1 net, sigmoid units: two first-layer weights"),
)


@dataclass(frozen=True)
class Panel:
    """One surface to draw: `height` is the metric used as z (the others are shown on hover)."""

    title: str
    surface: Surface
    height: str = "train_loss"


def _check(surface: Surface, height: str) -> None:
    if len(surface.grid.names) != 2:
        raise ValueError(f"a viewer needs a 2D surface, got axes {surface.grid.names}")
    if height not in surface.metrics:
        raise ValueError(f"the surface has no metric '{height}' to use as height; it has "
                         f"{', '.join(sorted(surface.metrics))}")
    for name, values in surface.metrics.items():
        if np.shape(values) != surface.grid.shape:
            raise ValueError(f"metric '{name}' has shape {np.shape(values)}, not the grid's "
                             f"{surface.grid.shape} (a tile, not a whole surface?)")


# ------------------------------------------------------------------ VTK


def _vtk_binary(values: np.ndarray) -> str:
    """A DataArray's "binary" text: base64 of a UInt64 byte count and the float64 data."""
    data = np.ascontiguousarray(values, dtype="<f8").tobytes()
    return base64.b64encode(struct.pack("<Q", len(data)) + data).decode("ascii")


def vts_text(surface: Surface, height: str = "train_loss") -> str:
    """The `.vts` file of a 2D surface: points (axis 0, axis 1, height), metrics as point data.

    VTK orders points with the first index fastest, so point (i, j) of metric[i, j] is at
    position i + j * n0: the metric's transpose, flattened.
    """
    _check(surface, height)
    (n0, n1), (v0, v1) = surface.grid.shape, surface.grid.values
    a, b = np.meshgrid(np.asarray(v0, float), np.asarray(v1, float), indexing="xy")
    z = np.asarray(surface.metrics[height], float).T
    points = np.stack([a.ravel(), b.ravel(), z.ravel()], axis=1)
    extent = f"0 {n0 - 1} 0 {n1 - 1} 0 0"
    lines = [
        '<?xml version="1.0"?>',
        f"<!-- {html.escape(' x '.join(surface.grid.names))} grid; z = {html.escape(height)} -->",
        '<VTKFile type="StructuredGrid" version="1.0" byte_order="LittleEndian" '
        'header_type="UInt64">',
        f'  <StructuredGrid WholeExtent="{extent}">',
        f'    <Piece Extent="{extent}">',
        f'      <PointData Scalars="{html.escape(height)}">',
    ]
    for name in sorted(surface.metrics):
        lines.append(f'        <DataArray type="Float64" Name="{html.escape(name)}" '
                     f'format="binary">{_vtk_binary(np.asarray(surface.metrics[name]).T)}'
                     "</DataArray>")
    lines += [
        "      </PointData>",
        "      <Points>",
        '        <DataArray type="Float64" NumberOfComponents="3" format="binary">'
        f"{_vtk_binary(points)}</DataArray>",
        "      </Points>",
        "    </Piece>",
        "  </StructuredGrid>",
        "</VTKFile>",
    ]
    return "\n".join(lines) + "\n"


def write_vts(path, surface: Surface, height: str = "train_loss") -> None:
    with atomic_path(path) as tmp:
        Path(tmp).write_text(vts_text(surface, height))


# ------------------------------------------------------------------ HTML


def _label(metric: str) -> str:
    return metric.replace("_", " ")


def thinned(surface: Surface, max_points: int) -> Surface:
    """The surface on at most `max_points` of its grid points per axis, ends kept: a page
    draws a 201 x 201 grid no better than a 101 x 101 one, and a report item must stay small.
    The points kept carry their exact values."""
    from landscapes.surface import Grid, Surface

    keep = [np.unique(np.linspace(0, n - 1, min(n, max_points)).round().astype(int))
            for n in surface.grid.shape]
    if all(len(k) == n for k, n in zip(keep, surface.grid.shape)):
        return surface
    grid = Grid(surface.grid.names, tuple(v[k] for v, k in zip(surface.grid.values, keep)))
    metrics = {m: np.asarray(v)[np.ix_(*keep)] for m, v in surface.metrics.items()}
    return Surface(grid, metrics, meta=dict(surface.meta))


def figure(panels: list[Panel], title: str, max_points: int = MAX_POINTS):
    """The plotly figure: one 3D scene per panel, two panels a row (a panel's title shown
    above it when there are several), each grid thinned to `max_points` per axis."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    for p in panels:
        _check(p.surface, p.height)
    cols = min(2, len(panels))
    rows = math.ceil(len(panels) / cols)
    fig = make_subplots(rows=rows, cols=cols, specs=[[{"type": "scene"}] * cols] * rows,
                        subplot_titles=[p.title for p in panels] if len(panels) > 1 else None,
                        horizontal_spacing=0.02, vertical_spacing=0.06)
    for k, p in enumerate(panels):
        s = thinned(p.surface, max_points)
        (x_name, y_name), (x, y) = s.grid.names, s.grid.values
        others = [m for m in sorted(s.metrics) if m != p.height]
        # plotly's z[row][col] is at (x[col], y[row]): the transpose of metric[i, j]
        hover = [f"{x_name} %{{x:.4g}}", f"{y_name} %{{y:.4g}}",
                 f"{_label(p.height)} %{{z:.6g}}"]
        hover += [f"{_label(m)} %{{customdata[{i}]:.6g}}" for i, m in enumerate(others)]
        trace = go.Surface(
            x=np.asarray(x, float), y=np.asarray(y, float),
            z=np.asarray(s.metrics[p.height], float).T,
            customdata=(np.stack([np.asarray(s.metrics[m], float).T for m in others], axis=-1)
                        if others else None),
            hovertemplate="<br>".join(hover) + "<extra></extra>",
            colorscale=COLORSCALE, showscale=len(panels) == 1,
            colorbar={"title": {"text": _label(p.height)}},
            contours={"z": {"show": True, "usecolormap": True, "project": {"z": True}}},
        )
        fig.add_trace(trace, row=k // cols + 1, col=k % cols + 1)
        scene = "scene" if k == 0 else f"scene{k + 1}"
        fig.update_layout({scene: {"xaxis_title": x_name, "yaxis_title": y_name,
                                   "zaxis_title": _label(p.height), "aspectmode": "cube",
                                   "camera": {"eye": {"x": -1.4, "y": -1.4, "z": 1.0}}}})
    fig.update_layout(template="plotly_white", title={"text": title},
                      height=560 * rows, margin={"l": 50, "r": 10, "t": 70, "b": 10})
    return fig


PLOTLY_JS = Path(__file__).parent / "vendor" / "plotly-gl3d.min.js"  # see vendor/README.md
PLOTLY_JS_VERSION = "4.1.1"
PLOTLY_JS_SHA256 = "aab04dcd9c103a92b18723f8c837712fe820f325d0bcd2421e415e8124a75b9f"


@functools.cache
def plotly_js_packed() -> str:
    """The vendored plotly.js bundle, gzip-compressed (no timestamp), base64."""
    from plotly.offline import get_plotlyjs_version

    if get_plotlyjs_version() != PLOTLY_JS_VERSION:
        raise RuntimeError(f"the plotly package writes figures for plotly.js "
                           f"{get_plotlyjs_version()} but the bundle in {PLOTLY_JS} is "
                           f"{PLOTLY_JS_VERSION}: update it as vendor/README.md says")
    js = PLOTLY_JS.read_bytes()
    if hashlib.sha256(js).hexdigest() != PLOTLY_JS_SHA256:
        raise RuntimeError(f"{PLOTLY_JS} is not the vendored plotly.js {PLOTLY_JS_VERSION} "
                           "(its sha256 differs)")
    return base64.b64encode(gzip.compress(js, compresslevel=9, mtime=0)).decode("ascii")


# Unpacks plotly.js (a script element runs it in the page's global scope), then draws.
LOADER = """
(async function () {
  const out = document.getElementById("%(div)s");
  try {
    const packed = document.getElementById("plotly-js").textContent;
    const raw = Uint8Array.from(atob(packed), (c) => c.charCodeAt(0));
    const stream = new Blob([raw]).stream().pipeThrough(new DecompressionStream("gzip"));
    const code = document.createElement("script");
    code.textContent = await new Response(stream).text();
    document.head.appendChild(code);
    const fig = JSON.parse(document.getElementById("figure").textContent);
    await Plotly.newPlot(out, fig.data, fig.layout, %(config)s);
    document.body.dataset.drawn = "yes";
  } catch (e) {
    out.textContent = "This page needs a browser with DecompressionStream and WebGL " +
      "(current Chrome, Firefox, Safari or Edge): " + e;
  }
})();
"""
# No logo link and no "share chart" button, which would upload the figure to a server.
CONFIG = ('{"displaylogo": false, "responsive": true, "showSendToCloud": false, '
          '"plotlyServerURL": ""}')


def html_text(panels: list[Panel], title: str) -> str:
    """The page: the figure as JSON, plotly.js packed, and the loader that joins them."""
    import plotly.io as pio

    figure_json = pio.to_json(figure(panels, title), validate=True).replace("<", "\\u003c")
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title>",
        "<style>body { margin: 0; font-family: sans-serif; }</style>",
        "</head><body>",
        f'<div id="{DIV_ID}" style="width: 100%; min-height: 560px;"></div>',
        f'<script type="application/json" id="figure">{figure_json}</script>',
        f'<script type="text/plain" id="plotly-js">{plotly_js_packed()}</script>',
        "<script>" + LOADER % {"div": DIV_ID, "config": CONFIG} + "</script>",
        "</body></html>",
    ]) + "\n"


def write_html(path, panels: list[Panel], title: str) -> None:
    text = html_text(panels, title)
    if len(text.encode()) > REPORT_LIMIT:
        log.warning("%s is %.1f MB: too large for the Snakemake report to show in Chromium "
                    "(at most %.1f MB); open the file itself", path, len(text.encode()) / 1e6,
                    REPORT_LIMIT / 1e6)
    with atomic_path(path) as tmp:
        Path(tmp).write_text(text)


# ------------------------------------------------------------------ the experiments' surfaces


def linear_panels(arrays: dict[str, np.ndarray]) -> list[Panel]:
    """The loss grids of `linear.surfaces` as panels. Those grids are indexed [j, i] = (second
    axis j, first axis i), the transpose of a `Surface`'s metric[i, j]; the weight slices are
    offsets around the fitted net's weights, shown at the weights themselves."""
    from landscapes.surface import Grid, Surface

    axis = np.asarray(arrays["axis"], float)
    panels = []
    for key, names, title in LINEAR_GRIDS:
        center = f"center_{key.removeprefix('slice_')}" if key.startswith("slice_") else None
        c = np.asarray(arrays[center], float) if center else np.zeros(2)
        grid = Grid(names, (c[0] + axis, c[1] + axis))
        panels.append(Panel(title, Surface(grid, {"loss": np.asarray(arrays[key]).T}),
                            height="loss"))
    return panels


def skips_title(model: str, plane: str, seed: int) -> str:
    """The page title of one surface of the skips experiment."""
    from landscapes.names import ResNetId

    where = {"random": "two filter-normalized random directions",
             "pca": "the PCA plane of its training trajectory"}[plane]
    return f"Li et al. 2018: {ResNetId.parse(model).label}, training loss over {where} " \
           f"(seed {seed})"


def linear_title(seed: int) -> str:
    """The page title of the linear experiment's loss grids."""
    return f"Deep linear networks: training-loss grids of figures (a) and (b) (seed {seed})"
