"""Surfaces for viewers: the VTK file read back by VTK, the HTML page drawn by headless
Chromium with the network off."""

import base64
import json
import re
import shutil
import subprocess

import numpy as np
import pytest

from landscapes import viewers
from landscapes.surface import Grid, Surface


def surface():
    """A non-square grid (7 x 5) with a bumpy bowl, so axis mix-ups show."""
    grid = Grid.linspace(alpha=(-1.0, 1.0, 7), beta=(-0.5, 1.5, 5))
    a, b = np.meshgrid(*grid.values, indexing="ij")
    loss = a**2 + 3 * b**2 + 0.3 * np.sin(5 * a) + 0.1 * a * b
    return Surface(grid, {"train_loss": loss, "train_acc": 1 / (1 + loss)})


def test_vts_reads_back_with_vtk_as_the_surface(tmp_path):
    import vtk
    from vtk.util.numpy_support import vtk_to_numpy

    s = surface()
    viewers.write_vts(tmp_path / "s.vts", s)
    reader = vtk.vtkXMLStructuredGridReader()
    reader.SetFileName(str(tmp_path / "s.vts"))
    reader.Update()
    grid = reader.GetOutput()
    dims = [0, 0, 0]
    grid.GetDimensions(dims)
    assert dims == [7, 5, 1]
    points = vtk_to_numpy(grid.GetPoints().GetData()).reshape(5, 7, 3)  # VTK: i fastest
    data = grid.GetPointData()
    names = sorted(data.GetArrayName(k) for k in range(data.GetNumberOfArrays()))
    assert names == ["train_acc", "train_loss"]
    assert data.GetScalars().GetName() == "train_loss"
    for name, values in s.metrics.items():
        assert np.array_equal(vtk_to_numpy(data.GetArray(name)).reshape(5, 7).T, values)
    assert np.array_equal(points[..., 0].T, np.meshgrid(*s.grid.values, indexing="ij")[0])
    assert np.array_equal(points[..., 1].T, np.meshgrid(*s.grid.values, indexing="ij")[1])
    assert np.array_equal(points[..., 2].T, s.metrics["train_loss"])  # z = loss


def test_files_are_byte_identical_for_identical_inputs(tmp_path):
    for d in ("a", "b"):
        (tmp_path / d).mkdir()
        viewers.write_vts(tmp_path / d / "s.vts", surface())
        viewers.write_html(tmp_path / d / "s.html", [viewers.Panel("bowl", surface())], "t")
    for name in ("s.vts", "s.html"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_page_holds_the_surface_with_hover_values_and_loads_nothing(tmp_path):
    s = surface()
    viewers.write_html(tmp_path / "s.html", [viewers.Panel("bowl", s)], "a bowl")
    page = (tmp_path / "s.html").read_text()
    assert not re.search(r"https?://", page), "the page names a web address"
    assert not re.search(r"<(script|link|img|iframe)[^>]*\s(src|href)\s*=", page, re.I)
    # plotly.js packed, and small enough for a report item: a data URI, at most 2 MB
    assert len(base64.b64encode(page.encode())) < 1.5e6
    fig = viewers.figure([viewers.Panel("bowl", s)], "a bowl")
    (trace,) = fig.data
    assert np.array_equal(trace.z, s.metrics["train_loss"].T)  # z[row][col] at (x[col], y[row])
    assert np.array_equal(trace.x, s.grid.values[0]) and np.array_equal(trace.y, s.grid.values[1])
    assert np.array_equal(trace.customdata[..., 0], s.metrics["train_acc"].T)
    assert "alpha" in trace.hovertemplate and "train acc %{customdata[0]" in trace.hovertemplate
    figure_json = re.search(r'<script type="application/json" id="figure">(.*?)</script>', page,
                            re.S)[1]
    assert json.loads(figure_json)["data"][0]["type"] == "surface"


def test_linear_grids_become_surfaces_on_their_axes():
    axis = np.linspace(-2.0, 2.0, 5)
    a, b = np.meshgrid(axis, axis, indexing="xy")  # linear.surfaces' [j, i] layout
    arrays = {"axis": axis, "bowl": a + 10 * b, "chain": a * b, "slice_linear": a - b,
              "slice_sigmoid": a + b, "center_linear": np.array([0.5, -1.0]),
              "center_sigmoid": np.array([1.0, 2.0])}
    panels = viewers.linear_panels(arrays)
    assert [p.surface.grid.names for p in panels] == [names for _, names, _ in
                                                      viewers.LINEAR_GRIDS]
    bowl = panels[0].surface
    assert bowl.metrics["loss"][1, 3] == axis[1] + 10 * axis[3]  # [i, j] = (a_i, b_j)
    sig = panels[3].surface.grid.values
    assert np.array_equal(sig[0], 1.0 + axis) and np.array_equal(sig[1], 2.0 + axis)


def test_paper_scale_grids_are_thinned_to_fit_a_report_item():
    axis = np.linspace(-2.0, 2.0, 201)  # linear.surfaces at paper scale: four 201 x 201 grids
    a, b = np.meshgrid(axis, axis, indexing="xy")
    arrays = {"axis": axis, "bowl": a**2 + b, "chain": a * b, "slice_linear": a - b,
              "slice_sigmoid": np.sin(a) + b, "center_linear": np.zeros(2),
              "center_sigmoid": np.zeros(2)}
    panels = viewers.linear_panels(arrays)
    page = viewers.html_text(panels, "paper scale")
    assert len(page.encode()) < viewers.REPORT_LIMIT
    trace = viewers.figure(panels, "paper scale").data[0]
    assert trace.z.shape == (101, 101)
    assert trace.x[0] == -2.0 and trace.x[-1] == 2.0 and np.all(np.isin(trace.x, axis))
    i, j = np.searchsorted(axis, trace.x[37]), np.searchsorted(axis, trace.y[80])
    assert trace.z[80, 37] == arrays["bowl"][j, i]  # kept points keep their exact values


def chromium():
    for name in ("chromium", "chromium-browser"):
        if path := shutil.which(name):
            return path
    pytest.fail("headless Chromium is needed to draw the viewer page: apt-get install -y "
                "chromium (.ci/run installs it)")


def headless(page, *args):
    """Chromium on a local file with every host unresolvable and a dead proxy: no network."""
    cmd = [chromium(), "--headless", "--no-sandbox", "--disable-gpu",
           "--use-angle=swiftshader", "--enable-unsafe-swiftshader",  # software WebGL
           f"--user-data-dir={page.parent / 'profile'}", "--no-first-run",
           "--disable-background-networking", "--disable-component-update",
           "--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=127.0.0.1:9",
           "--window-size=900,650", "--virtual-time-budget=15000", *args, page.as_uri()]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=180)


PROBE = ("<script>setTimeout(() => { document.body.dataset.loads = JSON.stringify("
         "performance.getEntriesByType('resource').map((e) => e.name)); }, 5000);</script>")


def test_page_draws_the_surface_in_headless_chromium_offline(tmp_path):
    import matplotlib.image

    page = tmp_path / "s.html"
    viewers.write_html(page, [viewers.Panel("bowl", surface())], "a bowl")
    # a copy that lists every resource the page asked for (a failed load is listed too)
    probe = tmp_path / "probe.html"
    probe.write_text(page.read_text().replace("</body>", PROBE + "</body>"))
    dom = headless(probe, "--dump-dom")
    assert 'data-drawn="yes"' in dom.stdout, dom.stdout[-2000:] + dom.stderr[-2000:]
    assert 'data-loads="[]"' in dom.stdout, re.findall(r'data-loads="[^"]*"', dom.stdout)
    assert 'data-title="Share chart' not in dom.stdout  # no upload button in the mode bar
    # drawn as the Snakemake report shows it: the page as a data URI in an iframe
    frame = tmp_path / "frame.html"
    uri = "data:text/html;charset=utf8;base64," + base64.b64encode(page.read_bytes()).decode()
    frame.write_text(f'<html><body style="margin: 0"><iframe src="{uri}" style="width: 100%; '
                     'height: 640px; border: 0"></iframe></body></html>')
    shot = tmp_path / "s.png"
    out = headless(frame, f"--screenshot={shot}")
    assert shot.exists(), out.stderr[-3000:]
    rgb = (matplotlib.image.imread(shot)[..., :3] * 255).round().astype(int)
    rgb = rgb[:, : rgb.shape[1] * 3 // 4]  # the scene, not the colour bar (drawn without WebGL)
    background = (rgb >= 250).all(-1)
    assert (~background).mean() > 0.08, "the screenshot is mostly blank"
    colors = {tuple(c) for c in rgb[~background]}
    assert len(colors) > 300, f"only {len(colors)} colours: no shaded surface drawn"
    # viridis ends: the surface's low (purple) and high (yellow-green) parts are both there
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    assert ((r < 90) & (g < 60) & (b > 80)).sum() > 200
    assert ((r > 150) & (g > 180) & (b < 90)).sum() > 200
