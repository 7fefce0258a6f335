"""gzip-compressed logs (`*.jsonl.gz`) opened in memory, with the limits a ZIP gets (`core.containers`).

Decompression runs in bounded chunks, so a gzip bomb is refused after inflating at most the limit, never
the whole bomb. A stream cut short (the recorder killed while writing) is not an error: what was written
is returned, and the caller flags the file.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from orchestration.lib.core.containers import MAX_COMPRESSION_RATIO, MAX_TOTAL_BYTES, RefusedArchive

_CHUNK = 1024 * 1024
_RATIO_FLOOR = 1024 * 1024  # below 1 MiB inflated, any ratio is harmless (as for ZIP entries)


@dataclass(frozen=True)
class Inflated:
    data: bytes
    complete: bool  # False: the stream ends early (a partial last member)


def gunzip_capped(data: bytes, max_bytes: int = MAX_TOTAL_BYTES) -> Inflated:
    """Every gzip member of `data`, inflated; raises RefusedArchive past the limits or on damaged bytes."""
    out = bytearray()
    remaining = memoryview(data)
    consumed = 0
    while remaining:
        stream = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        pending = bytes(remaining)
        while True:
            try:
                chunk = stream.decompress(pending, _CHUNK)
            except zlib.error as error:
                raise RefusedArchive(f"not a readable gzip stream (zlib.error: {error})") from error
            out += chunk
            # Input used by this call: what was given, less what waits (tail) or belongs to the next member.
            consumed += len(pending) - len(stream.unconsumed_tail) - (len(stream.unused_data) if stream.eof else 0)
            pending = stream.unconsumed_tail
            if len(out) > max_bytes:
                raise RefusedArchive(f"the log expands past {max_bytes} bytes")
            ratio = len(out) / max(consumed, 1)
            if len(out) > _RATIO_FLOOR and ratio > MAX_COMPRESSION_RATIO:
                raise RefusedArchive(f"the log has a compression ratio of {ratio:.0f} (a gzip bomb?)")
            if stream.eof or (not pending and not chunk):
                break
        if not stream.eof:
            return Inflated(bytes(out), complete=False)
        remaining = memoryview(stream.unused_data)  # a recorder that appends writes one member per flush
    return Inflated(bytes(out), complete=True)
