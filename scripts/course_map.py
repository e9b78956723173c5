"""Draw the map of the course shown on the introduction page.

Writes ``book/images/course_map.svg``: the chapters as boxes in three rows (the
foundations, the architectures, using networks), arrows for what each chapter builds
on, and under each chapter the design questions of the introduction it takes up. The
text stays text in the SVG, so it scales and can be selected. Run it after changing
the plan of the course:

    python scripts/course_map.py
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch  # noqa: E402

from nnlib.plots import OKABE_ITO  # noqa: E402

OUT = Path(__file__).resolve().parents[1] / "book" / "images" / "course_map.svg"

#: Rows of the map: (title, colour, edge style); colour and edge style both tell
#: the parts apart.
PARTS = {
    "foundations": ("Foundations: one network, trained well", OKABE_ITO["blue"], "solid"),
    "architectures": ("Architectures with the problem's symmetries", OKABE_ITO["orange"], "dashed"),
    "use": ("Using what a network has learned", OKABE_ITO["bluish_green"], "dashdot"),
}

#: chapter number -> (title, part, column, design questions it takes up)
CHAPTERS = {
    0: ("Check your\nset-up", "foundations", 0, "tools"),
    1: ("Perceptron\nand XOR", "foundations", 1, "expressivity"),
    2: ("Back-\npropagation", "foundations", 2, "training"),
    3: ("Optimizers", "foundations", 3, "training"),
    4: ("Regularization", "foundations", 4, "unneeded parameters"),
    5: ("Information\npropagation", "foundations", 5, "propagation"),
    6: ("Convolutional\nnetworks", "architectures", 1, "symmetry, parallelism"),
    7: ("Recurrent\nnetworks, LSTM", "architectures", 2.33, "symmetry, forgetting"),
    8: ("Attention", "architectures", 3.67, "propagation"),
    9: ("The\nTransformer", "architectures", 5, "parallelism"),
    10: ("Transfer\nlearning", "use", 2, "few labels"),
    11: ("Epilogue:\nchoosing an\narchitecture", "use", 3.67, "all five questions"),
}
ROW_Y = {"foundations": 2.0, "architectures": 1.0, "use": 0.0}
#: What each chapter builds on most directly.
EDGES = [
    (0, 1),
    (1, 2),
    (2, 3),
    (3, 4),
    (4, 5),
    (5, 6),
    (5, 7),
    (7, 8),
    (8, 9),
    (6, 10),
    (9, 10),
    (10, 11),
]
BOX_W, BOX_H = 1.12, 0.56


def draw() -> plt.Figure:
    plt.rcParams["svg.fonttype"] = "none"  # keep text as text
    fig, ax = plt.subplots(figsize=(7.2, 4.6))
    centres = {}
    for number, (title, part, col, questions) in CHAPTERS.items():
        _, colour, style = PARTS[part]
        x, y = col * 1.3, ROW_Y[part]
        centres[number] = (x, y)
        ax.add_patch(
            FancyBboxPatch(
                (x - BOX_W / 2, y - BOX_H / 2),
                BOX_W,
                BOX_H,
                boxstyle="round,pad=0.02,rounding_size=0.08",
                facecolor=colour + "33",
                edgecolor=colour,
                linewidth=2,
                linestyle=style,
            )
        )
        label = "Chapter 0" if number == 0 else f"{number}"
        ax.text(x, y + 0.19, label, ha="center", va="center", fontsize=7.5, color="0.25")
        ax.text(x, y - 0.04, title, ha="center", va="center", fontsize=8.5, linespacing=1.0)
        ax.text(
            x,
            y - BOX_H / 2 - 0.08,
            questions,
            ha="center",
            va="top",
            fontsize=7.5,
            style="italic",
            color="0.3",
        )
    for a, b in EDGES:
        (xa, ya), (xb, yb) = centres[a], centres[b]
        if ya == yb:  # same row: from the right side to the left side
            start, end = (xa + BOX_W / 2, ya), (xb - BOX_W / 2, yb)
        else:  # down a row: from the bottom to the top
            start, end = (xa, ya - BOX_H / 2 - 0.2), (xb, yb + BOX_H / 2)
        ax.add_patch(
            FancyArrowPatch(
                start,
                end,
                arrowstyle="-|>",
                mutation_scale=12,
                color="0.35",
                linewidth=1.2,
                shrinkA=2,
                shrinkB=2,
            )
        )
    for part, (title, _colour, _style) in PARTS.items():
        ax.text(
            -0.7,
            ROW_Y[part] + BOX_H / 2 + 0.12,
            title,
            fontsize=9,
            weight="bold",
            color="0.15",
            ha="left",
        )
    ax.set_xlim(-0.75, 5 * 1.3 + 0.65)
    ax.set_ylim(-0.55, 2.55)
    ax.set_axis_off()
    ax.set_title(
        "The chapters, what each builds on, and the design question it takes up", fontsize=10
    )
    fig.tight_layout()
    return fig


if __name__ == "__main__":
    OUT.parent.mkdir(parents=True, exist_ok=True)
    draw().savefig(OUT, metadata={"Date": None})
    print(f"wrote {OUT}")
