from landscapes.plotting import figure, save_figure


def _draw(path_png, path_pdf):
    fig, ax = figure()
    ax.plot([0, 1, 2], [1, 0, 1], "o-", label="loss")
    ax.legend()
    save_figure(fig, path_png, path_pdf, {"rule": "demo", "params": '{"a": 1}'})


def test_figures_are_byte_identical_and_carry_provenance(tmp_path):
    _draw(tmp_path / "a.png", tmp_path / "a.pdf")
    _draw(tmp_path / "b.png", tmp_path / "b.pdf")
    for ext in ("png", "pdf"):
        assert (tmp_path / f"a.{ext}").read_bytes() == (tmp_path / f"b.{ext}").read_bytes()
    png, pdf = (tmp_path / "a.png").read_bytes(), (tmp_path / "a.pdf").read_bytes()
    assert b"Rule" in png and b"demo" in png
    assert b"rule=demo" in pdf and b"CreationDate" not in pdf


def test_minima_figures_draw_when_no_run_converged(tmp_path):
    """A paper-scale smoke run trains one epoch: no minimum passes the gradient test, and the
    figures say so instead of failing on an empty array."""
    from landscapes.figures import minima
    from landscapes.store import save_csv

    nets = tmp_path / "nets.csv"
    save_csv(nets, [{"size": s, "train_loss": 2.0, "test_loss": 2.1, "converged": False}
                    for s in (25, 25, 500)])
    for draw in (minima.test_loss, minima.test_vs_train):
        fig = draw({"nets": str(nets)}, {"grad_tol": 2e-3})
        titles = " ".join([fig.get_suptitle(), *(ax.get_title() for ax in fig.axes)])
        assert "0 of 3 converged" in titles
