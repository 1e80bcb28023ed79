"""Whether an import source is a Bluesky repository: without the modules that read one
(every import asks every platform first; loading the CAR and signature readers to answer
"no" was 0.07 CPU-s of each)."""

from __future__ import annotations

import os

_CAR_START = (b"\xa2eroots", b"\xa2gversion")  # a CAR v1 header map, after its length varint


def _looks_like_car(path: str) -> bool:
    try:
        with open(path, "rb") as fh:
            head = fh.read(16)
    except OSError:
        return False
    return len(head) > 2 and head[0] < 0x80 and head[1:].startswith(_CAR_START)


def _car_in(folder: str) -> str | None:
    cars = sorted(n for n in os.listdir(folder) if n.endswith(".car"))
    return cars[0] if len(cars) == 1 else None


def sniff(path: str) -> bool:
    """A CAR file (by name or header), or a folder holding exactly one `.car`."""
    if os.path.isdir(path):
        try:
            return _car_in(path) is not None
        except OSError:
            return False
    return os.path.isfile(path) and (path.endswith(".car") or _looks_like_car(path))
