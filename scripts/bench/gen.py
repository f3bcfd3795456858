#!/usr/bin/env python3
"""Input generators for scripts/bench.py (also usable on their own).

  gen.py ndjson FILE START END      NDJSON create lines for resources START..END-1 (bulk import)
  gen.py random FILE BYTES [SEED]   a file of BYTES pseudo-random bytes
  gen.py b64 DIR BYTES COUNT        DIR/text.b64 (base64 of BYTES random bytes) and COUNT JSON
                                    create bodies DIR/body-<k>.json carrying it as a data URL

Resource i of the list workloads: name r<i>, directory_path /d/<i % 100, two digits>, tags
t<i % 10> and "common", metadata {"i": i}, the same small content for all (dedup keeps it one
blob). So directory_prefix=/d/3 matches 10 % of them (/d/30 .. /d/39), tags=common all.
"""

import base64
import os
import random
import sys

SMALL_CONTENT = "data:text/plain;base64," + base64.b64encode(b"hello depot bench\n").decode()

# The name sits at a fixed offset and width in a base64 body so that each round can rewrite it in
# place (unique names without rewriting 67 MB files).
B64_NAME_OFFSET = len('{"name":"')
B64_NAME_WIDTH = 24


def ndjson_line(i):
    return ('{"name":"r%07d","directory_path":"/d/%02d","tags":["t%d","common"],'
            '"metadata":{"i":%d},"content":"%s"}\n' % (i, i % 100, i % 10, i, SMALL_CONTENT))


def write_ndjson(path, start, end):
    with open(path, "w", buffering=1 << 20) as f:
        chunk = []
        for i in range(start, end):
            chunk.append(ndjson_line(i))
            if len(chunk) >= 10000:
                f.write("".join(chunk))
                chunk.clear()
        f.write("".join(chunk))
    return os.path.getsize(path)


def write_random(path, size, seed=1):
    """size bytes: a 16 MiB random block repeated, each MiB stamped with its index and the
    seed, so no two MiB (and no two files of different seeds) are equal."""
    rnd = random.Random(seed)
    block = rnd.randbytes(min(size, 16 << 20) or 1)
    mib = 1 << 20
    with open(path, "wb", buffering=0) as f:
        off = 0
        while off < size:
            n = min(len(block), size - off)
            buf = bytearray(block[:n])
            for k in range(0, n, mib):
                buf[k:k + 16] = ((off + k) // mib).to_bytes(8, "little") + seed.to_bytes(8, "little")
            f.write(buf)
            off += n


def stamp(path, value):
    """Overwrite the first 8 bytes of a file with value (a new sha256 per round)."""
    fd = os.open(path, os.O_WRONLY)
    try:
        os.pwrite(fd, value.to_bytes(8, "little"), 0)
    finally:
        os.close(fd)


def b64_name(path, name):
    """Rewrite the name of a body made by write_b64 in place."""
    b = name.encode().ljust(B64_NAME_WIDTH, b"_")
    if len(b) != B64_NAME_WIDTH:
        raise ValueError("name too long: " + name)
    fd = os.open(path, os.O_WRONLY)
    try:
        os.pwrite(fd, b, B64_NAME_OFFSET)
    finally:
        os.close(fd)


def write_b64(folder, size, count, seed=7):
    raw = random.Random(seed).randbytes(size)
    text = base64.b64encode(raw)
    del raw
    with open(os.path.join(folder, "text.b64"), "wb") as f:
        f.write(text)
    bodies = []
    for k in range(count):
        p = os.path.join(folder, "body-%d.json" % k)
        name = ("b64-%d" % k).encode().ljust(B64_NAME_WIDTH, b"_")
        with open(p, "wb") as f:
            f.write(b'{"name":"' + name + b'","directory_path":"/b64","tags":["b64"],'
                    b'"content":"data:application/x-bench;base64,')
            f.write(text)
            f.write(b'"}')
        bodies.append(p)
    return os.path.join(folder, "text.b64"), bodies


def main(argv):
    if len(argv) >= 4 and argv[0] == "ndjson":
        print(write_ndjson(argv[1], int(argv[2]), int(argv[3])))
    elif len(argv) >= 3 and argv[0] == "random":
        write_random(argv[1], int(argv[2]), int(argv[3]) if len(argv) > 3 else 1)
    elif len(argv) == 4 and argv[0] == "b64":
        write_b64(argv[1], int(argv[2]), int(argv[3]))
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
