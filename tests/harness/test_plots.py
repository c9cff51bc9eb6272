"""Run plots: a throughput plot shows a run of any length, a simulated run's
fraction of a second of virtual time as much as a real run's minutes."""

from __future__ import annotations

from pathlib import Path

import pytest
from matplotlib.image import imread

from checkers.history import Event
from harness.plots import MIN_BINS, bin_width, plot_run

GREEN = (0x2C / 255, 0xA0 / 255, 0x2C / 255)  # tab:green, the ok line


@pytest.mark.parametrize("end", [0.003, 0.2, 0.7, 4.0, 19.0])
def test_a_short_run_gets_at_least_min_bins_bins(end: float) -> None:
    width = bin_width(end)
    assert end / width >= MIN_BINS
    assert end / width < MIN_BINS * 2.5  # and no narrower than that needs


@pytest.mark.parametrize("end", [20.0, 60.0, 600.0])
def test_a_long_run_counts_per_second(end: float) -> None:
    assert bin_width(end) == 1.0


def _green_pixels(png: Path) -> int:
    image = imread(png)
    return int(((abs(image[:, :, 0] - GREEN[0]) < 0.02) & (abs(image[:, :, 1] - GREEN[1]) < 0.02)
                & (abs(image[:, :, 2] - GREEN[2]) < 0.02)).sum())


def test_the_throughput_of_a_run_of_a_fifth_of_a_second_is_drawn(tmp_path: Path) -> None:
    events, index = [], 0
    for i in range(40):  # an op every 5 ms, each taking 2 ms
        start = i * 5_000_000
        events += [Event(index, start, 0, "invoke", "read", key="k"),
                   Event(index + 1, start + 2_000_000, 0, "ok", "read", key="k")]
        index += 2
    plot_run(events, tmp_path)
    # the legend's sample of the line alone is about 50 pixels (all a single bin drew)
    assert _green_pixels(tmp_path / "throughput.png") > 500
