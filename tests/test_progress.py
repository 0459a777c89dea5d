import logging

import pytest

from landscapes import data, progress, train
from landscapes.progress import Progress, duration


class Clock:
    def __init__(self):
        self.t = 100.0

    def __call__(self):
        return self.t


def lines(caplog):
    return [r.getMessage() for r in caplog.records if r.name == "landscapes.progress"]


def test_durations_read_short():
    assert [duration(s) for s in (0, 42.4, 65, 3599, 7620)] == ["0s", "42s", "1m05s", "59m59s",
                                                                "2h07m"]


def test_eta_is_the_mean_time_per_item_times_the_items_left():
    clock = Clock()
    p = Progress(10, "epochs", clock=clock)
    for _ in range(2):
        clock.t += 10
        p.step()
    assert p.text() == "epochs: 2/10, elapsed 20s, ~1m20s left"
    clock.t += 80
    p.step(8)
    assert p.text() == "epochs: 10/10, elapsed 1m40s, done"


def test_lines_come_at_most_every_interval_and_a_short_loop_stays_quiet(caplog):
    caplog.set_level(logging.INFO)
    clock = Clock()
    p = Progress(100, "tiles", every=30, clock=clock)
    for _ in range(100):
        clock.t += 1
        p.step()
    # after 30, 60 and 90 s, and the closing line of a loop that logged
    assert lines(caplog) == ["tiles: 30/100, elapsed 30s, ~1m10s left",
                             "tiles: 60/100, elapsed 1m00s, ~40s left",
                             "tiles: 90/100, elapsed 1m30s, ~10s left",
                             "tiles: 100/100, elapsed 1m40s, done"]
    caplog.clear()
    quick = Progress(5, "points", every=30, clock=clock)
    for _ in range(5):
        clock.t += 1
        quick.step()
    assert lines(caplog) == []


def test_over_counts_the_items_it_yields(caplog):
    caplog.set_level(logging.INFO)
    assert list(Progress.over([3, 1, 2], "runs", every=0)) == [3, 1, 2]
    assert lines(caplog)[-1].startswith("runs: 3/3, elapsed")


@pytest.fixture(scope="module")
def digits():
    return data.prepare("digits", n_train=100, n_test=50, seed=0)


def test_a_training_run_logs_progress_and_trains_the_same(digits, caplog, monkeypatch):
    caplog.set_level(logging.INFO)
    cfg = train.TrainConfig(epochs=3, batch_size=50, lr=0.05)
    spec = {"name": "mlp", "hidden": [8]}
    quiet = train.train(train.init_model(spec, digits, 0), digits, cfg, 0, name="mlp").metrics
    assert lines(caplog) == []  # seconds, not half a minute: no progress lines
    monkeypatch.setattr(progress, "EVERY", 0.0)
    logged = train.train(train.init_model(spec, digits, 0), digits, cfg, 0, name="mlp").metrics
    got = lines(caplog)
    assert [g.split(",")[0] for g in got] == ["mlp epochs: 1/3", "mlp epochs: 2/3",
                                              "mlp epochs: 3/3"]
    assert "left" in got[0] and got[-1].endswith("done")
    assert logged == quiet
