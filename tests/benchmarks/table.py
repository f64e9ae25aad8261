"""One table for `make bench`: every figure as measured, its floor or peer measured in the same run, the
ratio between them and the target it is held to."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    section: str  # "app", "inventory", "waves", "chargeback", "dr", "simulator"
    figure: str  # what was measured, e.g. "GET /api/runs p95"
    measured: float
    unit: str  # "ms", "s", "MiB", "s/VM", "req/s"
    reference: float | None = None  # the floor or peer, same unit, measured in the same run
    reference_label: str = ""  # what the reference is, e.g. "stub plugin floor", "/healthz p95"
    target: str = ""  # the bar, in words: "ratio <= 1.5", "<= 100 ms"
    met: bool | None = None  # whether the target is met (None: no target)

    @property
    def ratio(self) -> float | None:
        return self.measured / self.reference if self.reference else None

    @classmethod
    def within(
        cls,
        section: str,
        figure: str,
        measured: float,
        unit: str,
        reference: float,
        reference_label: str,
        bar: float,
        *,
        why: str = "",
        also: bool = True,
    ) -> Figure:
        """A figure held to at most `bar` times its reference (`why`: words after the bar; `also`: any
        other condition the figure must meet, as all the VMs verified)."""
        target = f"ratio <= {bar:g}" + (f" ({why})" if why else "")
        met = measured <= bar * reference and also
        return cls(section, figure, measured, unit, reference, reference_label, target, met)


def _number(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}"


def render(figures: list[Figure]) -> str:
    head = ("section", "figure", "measured", "unit", "floor / peer", "reference", "ratio", "target", "met")
    rows = [
        (
            f.section,
            f.figure,
            _number(f.measured),
            f.unit,
            f.reference_label,
            _number(f.reference),
            f"{f.ratio:.2f}x" if f.ratio is not None else "",
            f.target,
            {True: "yes", False: "NO", None: ""}[f.met],
        )
        for f in figures
    ]
    widths = [max(len(str(c)) for c in col) for col in zip(head, *rows, strict=True)]

    def line(cells) -> str:
        return "  ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    return "\n".join([line(head), line("-" * w for w in widths), *(line(row) for row in rows)])
