"""Image files for tests, built byte by byte: a real PNG that any decoder opens, and JPEG
headers shaped like a camera's (markers before the frame header)."""

from __future__ import annotations

import random
import struct
import zlib


def png(width: int = 320, height: int = 400, seed: int = 0) -> bytes:
    """An 8-bit greyscale PNG of noise (noise, so it does not compress below the size floor)."""
    noise = random.Random(seed)
    rows = b"".join(b"\x00" + noise.randbytes(width) for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height,
                                                                 8, 0, 0, 0, 0))
            + png_chunk(b"IDAT", zlib.compress(rows)) + png_chunk(b"IEND", b""))


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return (struct.pack(">I", len(body)) + kind + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))


def jpeg_header(width: int = 480, height: int = 640, frame_marker: int = 0xC0,
                padding: int = 4096) -> bytes:
    """SOI, an APP0 segment, a DHT-like segment, then the frame header and filler: what the
    size check reads. Not decodable, which the header check must not need."""
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    table = b"\xff\xc4" + struct.pack(">H", 5) + b"\x00\x00\x00"
    frame = (bytes([0xFF, frame_marker]) + struct.pack(">HBHHB", 11, 8, height, width, 1)
             + b"\x01\x11\x00")
    return b"\xff\xd8" + app0 + table + frame + b"\x00" * padding
