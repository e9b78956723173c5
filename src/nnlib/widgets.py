"""Interactive figures that work in a live kernel *and* on the static website.

In JupyterLab, Binder or Colab an :class:`InteractiveFigure` displays as an
ipywidgets control panel that redraws a matplotlib figure. The same display call
also offers a ``text/html`` version: every combination of the *static* controls
is drawn once in advance (a "frame"), and a few lines of inline JavaScript swap
the frames when the reader moves the browser-side controls. The page built by
Jupyter Book prefers that HTML (see ``nb_mime_priority_overrides`` in
``_config.yml``), so the figure responds with no kernel, no network and no CDN.

The frames cost a drawing each (a trained model, for some figures), and a reader
in a live kernel never sees them, so they are drawn only while the website is
built (:func:`nnlib.building_website`); a live kernel gets the widget alone.

Frames are sized for the page: a figure ``figsize`` inches wide is shown
``figsize * dpi`` CSS pixels wide (at most :data:`PAGE_COLUMN_PX`, so the page's
column never shrinks it), its PNG holds :data:`DENSITY` times as many pixels per
side (sharp on high-DPI screens), and no text is smaller than
:data:`MIN_FONT_PX` CSS pixels.

Drawing is kept separate from the controls (``plot_*`` functions in
:mod:`nnlib.plots` draw on an Axes), so the live widget and the static frames
come from one drawing function.
"""

from __future__ import annotations

import base64
import html
import io
import itertools
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.text import Text
from PIL import Image

from nnlib import building_website

__all__ = ["Slider", "Choice", "InteractiveFigure", "on_axes"]

#: Frames beyond this many make pages heavy; the constructor refuses more.
MAX_FRAMES = 200
#: PNG pixels per CSS pixel of a frame: 2 keeps lines and text sharp on high-DPI screens.
DENSITY = 2
#: Width in CSS pixels of the book theme's content column in a 1280-pixel-wide window;
#: a wider frame would be scaled down by ``max-width:100%``, and its text with it.
PAGE_COLUMN_PX = 720
#: Smallest readable text, in CSS pixels, on the website and in the live widget.
MIN_FONT_PX = 9.0
#: Shortest alt text accepted: enough for a sentence, too long for "figure" or a file name.
MIN_ALT_CHARS = 20
#: CSS pixels per inch of the live widget's picture at least (JupyterLab's column is wider).
LIVE_DPI = 100


def _fmt(value: Any) -> str:
    if isinstance(value, float | np.floating):
        return f"{value:.3g}"
    return str(value)


@dataclass(frozen=True)
class Slider:
    """A numeric control: a continuous slider live, a grid of values on the website.

    Parameters
    ----------
    name : str
        Keyword argument of the drawing function that the slider sets.
    min, max, step : float
        Range of the live slider.
    default : float, optional
        Starting value (``min`` if omitted).
    static_values : sequence of float, optional
        Values precomputed for the website; by default 9 evenly spaced values from
        ``min`` to ``max``, always including both ends.
    integer : bool
        Use an integer slider (``step`` is then rounded to an int).
    label : str, optional
        Text shown beside the control (``name`` if omitted).

    Examples
    --------
    >>> s = Slider("b", -1.0, 1.0, 0.5)
    >>> [float(v) for v in s.grid()]
    [-1.0, -0.5, 0.0, 0.5, 1.0]
    """

    name: str
    min: float
    max: float
    step: float
    default: float | None = None
    static_values: Sequence[float] | None = None
    integer: bool = False
    label: str | None = None

    def __post_init__(self) -> None:
        if not self.max > self.min:
            raise ValueError(
                f"Slider {self.name!r}: expected max > min, got {self.min}..{self.max}"
            )
        if self.step <= 0:
            raise ValueError(f"Slider {self.name!r}: expected step > 0, got {self.step}")
        if self.default is not None and not self.min <= self.default <= self.max:
            raise ValueError(
                f"Slider {self.name!r}: default {self.default} is outside [{self.min}, {self.max}]"
            )

    @property
    def initial(self) -> float:
        return self.min if self.default is None else self.default

    def grid(self) -> list:
        """Values drawn in advance for the static website."""
        if self.static_values is not None:
            values = list(self.static_values)
        else:
            n = int(round((self.max - self.min) / self.step)) + 1
            values = list(np.linspace(self.min, self.max, min(n, 9)))
        if self.integer:
            values = sorted({int(round(v)) for v in values})
        return [v.item() if isinstance(v, np.generic) else v for v in values]

    def extremes(self) -> list:
        """The ends of the live range, where drawing code most often breaks."""
        return [self.min, self.max]

    def widget(self):
        import ipywidgets as W

        kind = W.IntSlider if self.integer else W.FloatSlider
        step = max(1, int(round(self.step))) if self.integer else self.step
        return kind(
            value=self.initial,
            min=self.min,
            max=self.max,
            step=step,
            description=self.label or self.name,
            continuous_update=False,
        )


@dataclass(frozen=True)
class Choice:
    """A control that picks one of a few options (a dropdown).

    Examples
    --------
    >>> Choice("task", ["AND", "OR", "XOR"]).grid()
    ['AND', 'OR', 'XOR']
    """

    name: str
    options: Sequence[Any]
    default: Any = None
    label: str | None = None

    def __post_init__(self) -> None:
        if len(self.options) == 0:
            raise ValueError(f"Choice {self.name!r}: expected at least one option")
        if self.default is not None and self.default not in self.options:
            raise ValueError(
                f"Choice {self.name!r}: default {self.default!r} is not one of {list(self.options)}"
            )

    @property
    def initial(self) -> Any:
        return self.options[0] if self.default is None else self.default

    def grid(self) -> list:
        return list(self.options)

    def extremes(self) -> list:
        """Every option: for a dropdown, each one is an edge case."""
        return list(self.options)

    def widget(self):
        import ipywidgets as W

        return W.Dropdown(
            options=list(self.options), value=self.initial, description=self.label or self.name
        )


Control = Slider | Choice


def on_axes(plot: Callable[..., Any]) -> Callable[..., Any]:
    """Adapt a ``plot_*(ax, **params)`` function to draw on a fresh Figure.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> draw = on_axes(lambda ax, k: ax.plot([0, 1], [0, k]))
    >>> fig = Figure()
    >>> _ = draw(fig, k=2)
    >>> [float(y) for y in fig.axes[0].lines[0].get_ydata()]
    [0.0, 2.0]
    """

    def draw(fig: Figure, **params: Any) -> Any:
        return plot(fig.add_subplot(), **params)

    return draw


@dataclass
class InteractiveFigure:
    """A figure with controls, live in a kernel and precomputed on the website.

    Parameters
    ----------
    draw : callable
        ``draw(fig, **params)`` draws on an empty :class:`matplotlib.figure.Figure`.
        Use :func:`on_axes` to adapt a single-Axes ``plot_*`` function.
    controls : sequence of Slider or Choice
        One control per keyword argument of ``draw``.
    static : sequence of str, optional
        Names of the controls the website can change (all controls by default).
        The others stay at their default value on the website.
    figsize : (float, float)
        Size of each frame in inches.
    dpi : int
        CSS pixels per inch on the website: a frame is shown ``figsize * dpi`` CSS
        pixels large (at most :data:`PAGE_COLUMN_PX` wide), from a PNG with
        :data:`DENSITY` times as many pixels per side. Text of ``s`` points shows
        ``s * dpi / 72`` CSS pixels high; smaller than :data:`MIN_FONT_PX`, it is
        enlarged to that.
    alt : str
        Required, keyword only: the text alternative of the picture that a screen
        reader reads, a sentence or two that say what the figure shows (at least
        :data:`MIN_ALT_CHARS` characters).

    Shapes
    ------
    The website holds ``prod(len(grid) for static controls)`` PNG frames, each
    ``DENSITY * css_size`` pixels.

    Examples
    --------
    >>> fig = InteractiveFigure(
    ...     on_axes(lambda ax, k: ax.plot([0, 1], [0, k])),
    ...     [Slider("k", 0.0, 1.0, 0.5)],
    ...     figsize=(5.0, 4.0),
    ...     dpi=72,
    ...     alt="A straight line from the origin whose slope is set by k.",
    ... )
    >>> fig.frame_count
    3
    >>> fig.css_size
    (360, 288)
    >>> "<input type=\\"range\\"" in fig.static_html()
    True
    """

    draw: Callable[..., Any]
    controls: Sequence[Control]
    static: Sequence[str] | None = None
    figsize: tuple[float, float] = (5.0, 4.0)
    dpi: int = 72
    alt: str = field(kw_only=True)
    _uid: str = field(default_factory=lambda: uuid.uuid4().hex[:10], repr=False)

    def __post_init__(self) -> None:
        for c in self.controls:
            if not isinstance(c, Slider | Choice):
                raise TypeError(f"expected Slider or Choice controls, got {type(c).__name__}")
        names = [c.name for c in self.controls]
        if len(set(names)) != len(names):
            raise ValueError(f"control names must be unique, got {names}")
        if self.static is None:
            self.static = names
        unknown = [s for s in self.static if s not in names]
        if unknown:
            raise ValueError(f"static controls {unknown} are not among the controls {names}")
        if not isinstance(self.alt, str) or len(self.alt.strip()) < MIN_ALT_CHARS:
            raise ValueError(
                "expected alt: a sentence that describes the figure for screen readers "
                f"(at least {MIN_ALT_CHARS} characters), got {self.alt!r}"
            )
        if self.dpi <= 0:
            raise ValueError(f"expected dpi > 0, got {self.dpi}")
        width = self.css_size[0]
        if width > PAGE_COLUMN_PX:
            raise ValueError(
                f"the figure would show {width} CSS pixels wide (figsize {self.figsize[0]} in "
                f"x dpi {self.dpi}), wider than the page's column ({PAGE_COLUMN_PX} px), which "
                "would shrink it and its text: give a smaller figsize or dpi"
            )
        if self.frame_count > MAX_FRAMES:
            raise ValueError(
                f"{self.frame_count} static frames requested; at most {MAX_FRAMES} keep the "
                "page light: give fewer static_values or fewer static controls"
            )

    # -- the shared drawing --------------------------------------------------------
    @property
    def static_controls(self) -> list[Control]:
        return [c for c in self.controls if c.name in self.static]

    @property
    def frame_count(self) -> int:
        return int(np.prod([len(c.grid()) for c in self.static_controls], dtype=int))

    @property
    def css_size(self) -> tuple[int, int]:
        """Width and height, in CSS pixels, at which the website shows a frame."""
        return round(self.figsize[0] * self.dpi), round(self.figsize[1] * self.dpi)

    @property
    def min_font_points(self) -> float:
        """The smallest font size, in points, that shows at least ``MIN_FONT_PX``."""
        return MIN_FONT_PX * 72 / self.dpi

    def extreme_settings(self) -> list[dict[str, Any]]:
        """Every combination of the controls' extremes (slider ends, every option).

        Tests draw the figure at each of these, so that every control is known to
        work at its minimum and maximum.

        Examples
        --------
        >>> controls = [Slider("k", 0, 1, 1), Choice("c", "ab")]
        >>> draw = on_axes(lambda ax, k, c: ax)
        >>> fig = InteractiveFigure(draw, controls, alt="Empty axes at every setting.")
        >>> fig.extreme_settings()
        [{'k': 0, 'c': 'a'}, {'k': 0, 'c': 'b'}, {'k': 1, 'c': 'a'}, {'k': 1, 'c': 'b'}]
        """
        names = [c.name for c in self.controls]
        combos = itertools.product(*[c.extremes() for c in self.controls])
        return [dict(zip(names, combo, strict=True)) for combo in combos]

    def defaults(self) -> dict[str, Any]:
        return {c.name: c.initial for c in self.controls}

    def render(self, **params: Any) -> Figure:
        """Draw one frame (any missing parameter takes its default) and return the Figure.

        Text smaller than :attr:`min_font_points` is enlarged to it.
        """
        unknown = set(params) - {c.name for c in self.controls}
        if unknown:
            raise ValueError(f"unknown parameters {sorted(unknown)} for this figure")
        fig = Figure(figsize=self.figsize, dpi=self.dpi, layout="constrained")
        self.draw(fig, **{**self.defaults(), **params})
        _floor_font_sizes(fig, self.min_font_points)
        return fig

    def png(self, dpi: float | None = None, **params: Any) -> bytes:
        """One frame as PNG bytes, at ``dpi`` pixels per inch (default ``DENSITY * dpi``)."""
        buf = io.BytesIO()
        self.render(**params).savefig(buf, format="png", dpi=dpi or DENSITY * self.dpi)
        return buf.getvalue()

    def frame(self, **params: Any) -> str:
        """One website frame: a palette PNG, base64-encoded."""
        # Plots use few colours: a 64-colour palette keeps them visually identical at
        # about a third of the bytes, which matters with a hundred frames on a page.
        # Maximum coverage keeps every pixel of the course's figures within 23 of 255
        # levels of its colour and packs up to 25 % smaller than median cut, which
        # was off by up to 110 (a small yellow star turned pale); the fast octree
        # merged a light grey fill into the white.
        image = Image.open(io.BytesIO(self.png(**params))).convert("RGB")
        buf = io.BytesIO()
        image.quantize(colors=64, method=Image.Quantize.MAXCOVERAGE).save(
            buf, format="PNG", optimize=True
        )
        return base64.b64encode(buf.getvalue()).decode("ascii")

    def frames(self) -> list[str]:
        """Base64 PNGs for every combination of static values, last control fastest."""
        grids = [c.grid() for c in self.static_controls]
        names = [c.name for c in self.static_controls]
        return [
            self.frame(**dict(zip(names, combo, strict=True)))
            for combo in itertools.product(*grids)
        ]

    # -- the website ---------------------------------------------------------------
    @staticmethod
    def _initial_index(control: Control, grid: list) -> int:
        if isinstance(control, Choice):
            return grid.index(control.initial)
        return int(np.argmin([abs(v - control.initial) for v in grid]))

    def static_html(self) -> str:
        """Self-contained HTML: the frames, native form controls and inline JavaScript."""
        uid = f"nnlib-fig-{self._uid}"
        controls = self.static_controls
        grids = [c.grid() for c in controls]
        shape = [len(g) for g in grids]
        labels = [[_fmt(v) for v in g] for g in grids]
        start = [self._initial_index(c, g) for c, g in zip(controls, grids, strict=True)]
        rows = []
        for axis, c in enumerate(controls):
            label = html.escape(c.label or c.name)
            if isinstance(c, Choice):
                opts = "".join(
                    f'<option value="{i}"{" selected" if i == start[axis] else ""}>'
                    f"{html.escape(text)}</option>"
                    for i, text in enumerate(labels[axis])
                )
                field_html = f'<select data-axis="{axis}" aria-label="{label}">{opts}</select>'
            else:
                field_html = (
                    f'<input type="range" min="0" max="{shape[axis] - 1}" step="1" '
                    f'value="{start[axis]}" data-axis="{axis}" aria-label="{label}">'
                    f'<output style="min-width:3em;display:inline-block">'
                    f"{html.escape(labels[axis][start[axis]])}</output>"
                )
            rows.append(
                f'<label style="display:flex;gap:.5em;align-items:center;margin:.2em 0">'
                f'<span style="min-width:8em">{label}</span>{field_html}</label>'
            )
        frames = self.frames()
        flat = int(np.ravel_multi_index(start, shape)) if shape else 0
        width, height = self.css_size
        payload = json.dumps({"shape": shape, "labels": labels, "frames": frames})
        # The script finds its own figure through the id, so several figures can
        # share one page; it needs nothing but the DOM (no kernel, no library).
        script = (
            "(function(){"
            f"var root=document.getElementById('{uid}');"
            "var data=JSON.parse(root.querySelector('script.nnlib-frames').textContent);"
            "var img=root.querySelector('img');"
            "var fields=root.querySelectorAll('[data-axis]');"
            "function update(){var k=0;fields.forEach(function(f){"
            "var a=+f.dataset.axis;var i=+f.value;k=k*data.shape[a]+i;"
            "var o=f.parentNode.querySelector('output');if(o){o.textContent=data.labels[a][i];}});"
            "img.src='data:image/png;base64,'+data.frames[k];img.dataset.frame=k;}"
            "fields.forEach(function(f){f.addEventListener('input',update);"
            "f.addEventListener('change',update);});"
            "})();"
        )
        return (
            f'<div class="nnlib-figure" id="{uid}" data-frames="{len(frames)}">'
            f'<div class="nnlib-controls">{"".join(rows)}</div>'
            f'<img alt="{html.escape(self.alt)}" data-frame="{flat}" width="{width}" '
            f'height="{height}" style="max-width:100%;height:auto" '
            f'src="data:image/png;base64,{frames[flat]}">'
            f'<script type="application/json" class="nnlib-frames">{payload}</script>'
            f"<script>{script}</script></div>"
        )

    # -- the live kernel -----------------------------------------------------------
    def widget(self):
        """The ipywidgets version: every control, any value, redrawn in the kernel."""
        import ipywidgets as W
        from IPython.display import Image as PNGImage  # not PIL's Image, imported above
        from IPython.display import display

        def show(**params: Any) -> None:
            # A PNG displays the same in JupyterLab, Colab and VS Code, whichever
            # matplotlib backend the kernel has (or has not) activated; retina=True
            # shows it at half its pixel size, as sharp as the website's frames.
            png = self.png(dpi=DENSITY * max(LIVE_DPI, self.dpi), **params)
            display(PNGImage(data=png, retina=True))

        return W.interactive(show, **{c.name: c.widget() for c in self.controls})

    def _repr_mimebundle_(
        self, include=None, exclude=None
    ) -> dict[str, Any] | tuple[dict[str, Any], dict[str, Any]]:
        """The website build gets the frames; a live kernel gets the widget alone."""
        text = f"<InteractiveFigure: {self.alt}>"
        if building_website():
            return {"text/plain": text, "text/html": self.static_html()}
        try:
            live = self.widget()._repr_mimebundle_()
        except Exception:  # no ipywidgets, or no widget front end
            live = None
        if live:
            return {**live, "text/plain": text}
        # Without widgets the reader still sees the figure, at its default settings.
        width, height = self.css_size
        data = {
            "text/plain": f"{text} (install ipywidgets to move its controls)",
            "image/png": base64.b64encode(self.png()).decode("ascii"),
        }
        return data, {"image/png": {"width": width, "height": height}}


def _floor_font_sizes(fig: Figure, points: float) -> None:
    """Enlarge every text of ``fig`` smaller than ``points`` to ``points``.

    Drawing functions choose sizes relative to the default ("small", "x-small")
    without knowing how large the figure will show; the widget knows, so it puts
    a floor under them rather than let a label shrink below readability.
    """
    for text in fig.findobj(Text):
        if text.get_fontsize() < points:
            text.set_fontsize(points)
