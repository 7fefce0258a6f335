"""gzip-compressed logs (`*.jsonl.gz`) opened in memory, with the limits a ZIP gets (`core.containers`).

Decompression runs in bounded chunks, so a gzip bomb is refused after inflating at most the limit, never
the whole bomb. A stream cut short (the recorder killed while writing) is not an error: what was written
is returned, and the caller flags the file.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from orchestration.lib.core.containers import MAX_COMPRESSION_RATIO, MAX_TOTAL_BYTES, RefusedArchive

_CHUNK = 1024 * 1024  # inflated bytes per call
_FIRST_INPUT, _INPUT = 64, 1024 * 1024  # compressed bytes handed to zlib at a time: first, at most
_RATIO_FLOOR = 1024 * 1024  # below 1 MiB inflated, any ratio is harmless (as for ZIP entries)


@dataclass(frozen=True)
class Inflated:
    data: bytes
    complete: bool  # False: the stream ends early (a partial last member)


def gunzip_capped(data: bytes, max_bytes: int = MAX_TOTAL_BYTES) -> Inflated:
    """Every gzip member of `data`, inflated; raises RefusedArchive past the limits or on damaged bytes.

    Each member is fed from an offset in slices that start small and double while it goes on: handing each member
    the whole rest of the file (zlib copies what follows a member back as `unused_data`) cost time in the square of
    the members, a 3 MB log of 160,000 empty members 49 s (review). So zlib sees each byte a few times at most."""
    out = bytearray()
    view = memoryview(data)
    offset = 0  # input used by the members inflated so far
    while offset < len(view):
        stream = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        size = _FIRST_INPUT
        while not stream.eof:
            piece = view[offset : offset + size]
            if not piece:  # the input ends inside this member
                return Inflated(bytes(out), complete=False)
            pending: bytes | memoryview = piece
            while True:
                try:
                    chunk = stream.decompress(pending, _CHUNK)
                except zlib.error as error:
                    raise RefusedArchive(f"not a readable gzip stream (zlib.error: {error})") from error
                out += chunk
                pending = stream.unconsumed_tail
                if len(out) > max_bytes:
                    raise RefusedArchive(f"the log expands past {max_bytes} bytes")
                ratio = len(out) / max(offset + len(piece) - len(pending), 1)
                if len(out) > _RATIO_FLOOR and ratio > MAX_COMPRESSION_RATIO:
                    raise RefusedArchive(f"the log has a compression ratio of {ratio:.0f} (a gzip bomb?)")
                if stream.eof or not pending:
                    break
            # what this piece gave the member: all of it, less what belongs to the next member
            offset += len(piece) - (len(stream.unused_data) if stream.eof else 0)
            size = min(size * 2, _INPUT)
    return Inflated(bytes(out), complete=True)
