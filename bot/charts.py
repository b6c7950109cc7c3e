"""Charts drawn as PNG for the outbox's "chart" rows (handlers/charts.py writes them).

A row carries the chart's spec — translated titles and labels, and the numbers, a
few hundred bytes — never the image. The sender draws it here at send time, off the
event loop (a worker thread; matplotlib's object API with the Agg canvas keeps no
global state, unlike pyplot), and keeps the PNG per process under the spec's
fingerprint: the same data is drawn once, changed data has another fingerprint.
"""

from __future__ import annotations

import asyncio
import io
import threading
from collections import OrderedDict
from typing import Any

from handlers.charts import fingerprint

WIDTH_IN, PANEL_HEIGHT_IN, DPI = 9.0, 3.4, 100
COLOURS = ("#2b7bba", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#af7aa1")
CACHE_SIZE = 64
_DRAWING = threading.Lock()


def render_png(spec: dict[str, Any]) -> bytes:
    """Draw the spec: one panel per entry of spec["panels"], bars side by side and
    lines over them, sharing the x labels. CPU-bound: call it from a thread."""
    # Imported here: only a process that sends a chart pays for loading matplotlib.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    panels = spec["panels"]
    labels = [str(x) for x in spec["x"]]
    figure = Figure(figsize=(WIDTH_IN, 0.6 + PANEL_HEIGHT_IN * len(panels)), dpi=DPI)
    FigureCanvasAgg(figure)
    figure.suptitle(spec["title"], fontsize=14, fontweight="bold")
    axes = figure.subplots(len(panels), 1, squeeze=False)[:, 0]
    positions = list(range(len(labels)))
    colour = iter(COLOURS * 4)
    for ax, panel in zip(axes, panels, strict=True):
        bars = panel.get("bars", [])
        width = 0.8 / max(len(bars), 1)
        for k, series in enumerate(bars):
            offset = (k - (len(bars) - 1) / 2) * width
            ax.bar(
                [x + offset for x in positions],
                series["values"],
                width,
                label=series["name"],
                color=next(colour),
            )
        for series in panel.get("lines", []):
            ax.plot(
                positions,
                series["values"],
                marker="o",
                linewidth=2,
                label=series["name"],
                color=next(colour),
            )
        ax.set_title(panel["title"], fontsize=11, loc="left")
        if panel.get("unit"):
            ax.set_ylabel(panel["unit"])
        ax.set_xticks(positions, labels, rotation=45 if len(labels) > 8 else 0, fontsize=8)
        ax.yaxis.set_major_locator(MaxNLocator(integer=bool(panel.get("integer"))))
        ax.set_ylim(bottom=0, top=max(_top(panel) * 1.1, 1))
        ax.grid(axis="y", alpha=0.3)
        ax.spines[["top", "right"]].set_visible(False)
        entries = len(bars) + len(panel.get("lines", []))
        # Above the plot, right-aligned (the panel's title is on the left): never over a bar.
        ax.legend(
            loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=entries, fontsize=8, frameon=False
        )
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()


def _top(panel: dict[str, Any]) -> float:
    values = [v for s in (*panel.get("bars", []), *panel.get("lines", [])) for v in s["values"]]
    return float(max(values, default=0))


class ChartCache:
    """PNG per fingerprint, the most recently used kept."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self.size = size
        self._images: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()
        self.drawn = 0  # how many times a chart was actually drawn (tests read it)

    def get(self, key: str) -> bytes | None:
        with self._lock:
            image = self._images.get(key)
            if image is not None:
                self._images.move_to_end(key)
            return image

    def put(self, key: str, image: bytes) -> None:
        with self._lock:
            self._images[key] = image
            self._images.move_to_end(key)
            while len(self._images) > self.size:
                self._images.popitem(last=False)

    async def png(self, spec: dict[str, Any]) -> bytes:
        """The spec's PNG: from the cache, else drawn in a worker thread."""
        key = fingerprint(spec)
        image = self.get(key)
        if image is None:
            image = await asyncio.to_thread(self._draw, key, spec)
        return image

    def _draw(self, key: str, spec: dict[str, Any]) -> bytes:
        # One drawing at a time per process: matplotlib's font and text caches are not
        # thread-safe, and a chart costs a core for a moment. Rows of the same chart
        # sent at once wait here and then find it drawn.
        with _DRAWING:
            image = self.get(key)
            if image is None:
                image = render_png(spec)
                self.drawn += 1
                self.put(key, image)
            return image
