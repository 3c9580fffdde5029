"""The ranking's pictures, drawn on the server as inline SVG (no JavaScript, no image request): a strip plot of an
entry's scores and a bar of a juror's severity.

Pure: it knows no database and no request; the caller gives the values, the scale, the reading direction and
the accessible text (translated by the caller).

Rules:
- In a right-to-left language the pictures are mirrored: the scale runs from right (lowest) to left (highest),
  as the reader reads the table's numbers.
- Each picture has a text equivalent: a strip plot is an image named by its scores (`role="img"`, its
  `aria-label` and `<title>`); a severity bar stands beside its value written out in the table, so it is hidden
  from assistive technologies (it would only repeat it).
- Only numbers are written into the drawing; the accessible text is escaped.
"""

from collections.abc import Sequence

from markupsafe import Markup, escape

STRIP_WIDTH, STRIP_HEIGHT, STRIP_PAD = 132, 22, 6
BAR_WIDTH, BAR_HEIGHT = 160, 16


def _position(value: float, low: float, high: float, width: float, pad: float, *, rtl: bool) -> float:
    """The x of a value on a scale drawn across `width`, `pad` kept free at both ends; mirrored for rtl."""
    share = (min(max(value, low), high) - low) / (high - low) if high > low else 0.5
    x = pad + share * (width - 2 * pad)
    return width - x if rtl else x


def strip_plot(
    scores: Sequence[float], low: float, high: float, *, mean: float | None, rtl: bool, label: str
) -> Markup:
    """Each score as a dot on the scale from `low` to `high` (overlapping dots darken), the mean as a tick."""
    y = STRIP_HEIGHT / 2
    ends = [_position(v, low, high, STRIP_WIDTH, STRIP_PAD, rtl=rtl) for v in (low, high)]
    parts = [
        f'<line x1="{ends[0]:.1f}" y1="{y}" x2="{ends[1]:.1f}" y2="{y}" stroke="#6b7580" stroke-width="1"/>',
        *(
            f'<line x1="{x:.1f}" y1="{y - 4}" x2="{x:.1f}" y2="{y + 4}" stroke="#6b7580" stroke-width="1"/>'
            for x in ends
        ),
    ]
    if mean is not None:
        x = _position(mean, low, high, STRIP_WIDTH, STRIP_PAD, rtl=rtl)
        parts.append(
            f'<line x1="{x:.1f}" y1="2" x2="{x:.1f}" y2="{STRIP_HEIGHT - 2}" stroke="#a5480b" stroke-width="2"/>'
        )
    parts.extend(
        f'<circle cx="{_position(s, low, high, STRIP_WIDTH, STRIP_PAD, rtl=rtl):.1f}" cy="{y}" r="4" '
        f'fill="#0b5563" fill-opacity="0.55"/>'
        for s in scores
    )
    text = escape(label)
    return Markup(  # noqa: S704  (numbers and the escaped label only)
        f'<svg class="strip-plot" role="img" aria-label="{text}" width="{STRIP_WIDTH}" height="{STRIP_HEIGHT}" '
        f'viewBox="0 0 {STRIP_WIDTH} {STRIP_HEIGHT}" xmlns="http://www.w3.org/2000/svg"><title>{text}</title>'
        + "".join(parts)
        + "</svg>"
    )


def severity_bar(value: float, low: float, high: float, *, origin: float, rtl: bool) -> Markup:
    """A bar from `origin` to `value` on the range `low`–`high`: a juror's bias from 0 (below: severe, drawn
    in the accent colour) or, calibration refused, their mean score from the scale's lowest."""
    start = _position(origin, low, high, BAR_WIDTH, 2, rtl=rtl)
    end = _position(value, low, high, BAR_WIDTH, 2, rtl=rtl)
    left, width = min(start, end), max(abs(end - start), 1.0)
    colour = "#a5480b" if value < origin else "#0b5563"
    return Markup(  # noqa: S704  (numbers only)
        f'<svg class="severity-bar" aria-hidden="true" focusable="false" width="{BAR_WIDTH}" height="{BAR_HEIGHT}" '
        f'viewBox="0 0 {BAR_WIDTH} {BAR_HEIGHT}" xmlns="http://www.w3.org/2000/svg">'
        f'<rect x="{left:.1f}" y="3" width="{width:.1f}" height="{BAR_HEIGHT - 6}" fill="{colour}"/>'
        f'<line x1="{start:.1f}" y1="0" x2="{start:.1f}" y2="{BAR_HEIGHT}" stroke="#1b1f23" stroke-width="1"/>'
        "</svg>"
    )
