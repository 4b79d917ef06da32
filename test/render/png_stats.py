#!/usr/bin/python3
"""Print statistics of a PNG screenshot, to tell a rendered page from a blank one.

Usage: png_stats.py FILE.png [MIN_COLOURS] [MIN_INK]

Prints "width height colours ink" where colours is the number of distinct RGB
colours and ink the share of pixels that differ from the most common colour
(the background). Exit status 1 when colours < MIN_COLOURS (default 50) or
ink < MIN_INK (default 0.05). Uses Pillow when installed, else a small pure-Python
decoder (8-bit, non-interlaced PNGs such as Chromium's screenshots).
"""
import struct
import sys
import zlib
from collections import Counter


def pixels_pure(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        sys.exit(f"{path}: not a PNG file")
    pos, idat, w = 8, [], None
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        pos += 12 + n
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or interlace or ctype not in (2, 6):
                sys.exit(f"{path}: unsupported PNG (depth {depth}, colour type {ctype}, interlace {interlace})")
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
    raw = zlib.decompress(b"".join(idat))
    stride = w * bpp
    prev = bytearray(stride)
    counts = Counter()
    for y in range(h):
        base = y * (stride + 1)
        f, line = raw[base], bytearray(raw[base + 1:base + 1 + stride])
        if f == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 255
        elif f == 2:
            for i in range(stride):
                line[i] = (line[i] + prev[i]) & 255
        elif f == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 255
        elif f == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b, c = prev[i], prev[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        for x in range(0, stride, bpp):
            counts[bytes(line[x:x + 3])] += 1
        prev = line
    return w, h, counts


def pixels(path):
    try:
        from PIL import Image
    except ImportError:
        return pixels_pure(path)
    im = Image.open(path).convert("RGB")
    return im.width, im.height, Counter(im.getdata())


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    min_colours = int(sys.argv[2]) if len(sys.argv) > 2 else 50
    min_ink = float(sys.argv[3]) if len(sys.argv) > 3 else 0.05
    w, h, counts = pixels(sys.argv[1])
    total = sum(counts.values())
    ink = 1 - counts.most_common(1)[0][1] / total
    print(f"{w} {h} {len(counts)} {ink:.4f}")
    sys.exit(0 if len(counts) >= min_colours and ink >= min_ink else 1)


if __name__ == "__main__":
    main()
