"""Injectors and decoys: goods (stock conservation)."""

from fangkong.relief.injectors import Planted, injector, pick


@injector("STOCK-CONSERVATION")
def count_short(world, rng):
    """The closing count finds fewer pieces than the book: goods went missing."""
    out = []
    for c in pick(rng, [c for c in world.records["stock_count"] if c["counted_qty"] >= 10], 2):
        short = rng.randint(1, min(c["counted_qty"], 200))
        c["counted_qty"] -= short
        out.append(Planted("STOCK-CONSERVATION", [c], f"盘点短少 {short}", quantity=short))
    return out
