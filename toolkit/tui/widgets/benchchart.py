"""Benchmark charts (textual-plotext): speed and TTFT per repetition, and per concurrency level."""

from __future__ import annotations

from textual_plotext import PlotextPlot


class RepetitionChart(PlotextPlot):
    """Decode tok/s (left axis) and TTFT in ms (right axis) of each measured request, in order."""

    def on_mount(self) -> None:
        self.tps: list[float] = []
        self.ttft_ms: list[float] = []
        self.draw()

    def add(self, tps: float | None, ttft_s: float | None) -> None:
        self.tps.append(tps or 0.0)
        self.ttft_ms.append((ttft_s or 0.0) * 1000)
        self.draw()

    def clear_points(self) -> None:
        self.tps.clear()
        self.ttft_ms.clear()
        self.draw()

    def draw(self) -> None:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title("per request: tok/s (left), TTFT ms (right)")
        if self.tps:
            xs = list(range(1, len(self.tps) + 1))
            plt.plot(xs, self.tps, marker="braille", label="tok/s")
            plt.plot(xs, self.ttft_ms, marker="braille", label="TTFT ms", yside="right")
            plt.xticks([float(x) for x in xs])
        self.refresh()


class ConcurrencyChart(PlotextPlot):
    """Aggregate tok/s and per-stream median tok/s at each number of simultaneous streams."""

    def on_mount(self) -> None:
        self.levels: list[tuple[int, float, float]] = []
        self.draw()

    def set_levels(self, levels: list[tuple[int, float, float]]) -> None:
        self.levels = list(levels)
        self.draw()

    def draw(self) -> None:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title("per concurrency: total / per-stream tok/s")
        if self.levels:
            labels = [str(streams) for streams, _, _ in self.levels]
            plt.multiple_bar(
                labels,
                [[total for _, total, _ in self.levels], [each for _, _, each in self.levels]],
                labels=["total", "per stream"],  # type: ignore[call-arg]
            )
        self.refresh()
