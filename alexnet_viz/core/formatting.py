"""How numbers are written for people, once: shapes in the article's order, byte counts, counts."""
from __future__ import annotations


def shape_text(shape: tuple[int, ...]) -> str:
    """(96, 55, 55) -> '55x55x96' (the article's H x W x C order); (4096,) -> '4096'."""
    if len(shape) == 3:
        c, h, w = shape
        return f"{h}x{w}x{c}"
    return "x".join(map(str, shape))


def fmt_bytes(n: int) -> str:
    """Bytes in the largest binary unit that keeps the number readable."""
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= size:
            return f"{n / size:,.2f} {unit}"
    return f"{n:,} B"


def fmt_count(v: object) -> str:
    """Thousands separators for whole numbers (tables read by people; CSV keeps raw ints)."""
    return f"{v:,}" if isinstance(v, int) and not isinstance(v, bool) else str(v)


__all__ = ["fmt_bytes", "fmt_count", "shape_text"]
