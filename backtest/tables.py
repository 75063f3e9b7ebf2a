"""A table of formatted cells, written once and rendered twice: as Markdown for report.md and
the console, and as HTML for report.html, so the two reports cannot show different numbers."""

from __future__ import annotations

import html
from dataclasses import dataclass


@dataclass(frozen=True)
class Table:
    """`head` and `rows` as the reader sees them; the first column is a label (left aligned),
    the others are figures (right aligned)."""

    head: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]

    def markdown(self) -> str:
        widths = [max(len(r[k]) for r in (*self.rows, self.head)) for k in range(len(self.head))]
        lines = [
            "| " + " | ".join(h.ljust(w) for h, w in zip(self.head, widths, strict=True)) + " |",
            "|" + "|".join("-" * (w + 1) + ":" if k else "-" * (w + 2)
                           for k, w in enumerate(widths)) + "|",
        ]
        for row in self.rows:
            values = (c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True))
            lines.append("| " + " | ".join([row[0].ljust(widths[0]), *values]) + " |")
        return "\n".join(lines)

    def html(self, name: str) -> str:
        """A <table> whose `data-table` is `name` (what the browser test reads it by)."""
        head = "".join(f"<th>{html.escape(h)}</th>" for h in self.head)
        body = "".join(
            "<tr>" + "".join(f"<td{_negative(c)}>{html.escape(c)}</td>" for c in row) + "</tr>"
            for row in self.rows
        )
        return (f'<table data-table="{html.escape(name)}"><thead><tr>{head}</tr></thead>'
                f"<tbody>{body}</tbody></table>")


def _negative(cell: str) -> str:
    """A figure below zero ("-1.2 %", "-$3.00") is drawn red."""
    return ' class="neg"' if cell[:1] == "-" and cell[1:2] not in ("", " ") else ""
