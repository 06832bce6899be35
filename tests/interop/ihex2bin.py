#!/usr/bin/env python3
"""Intel HEX to binary (from the lowest to the highest address, gaps 0xff);
checks every record's checksum.  Usage: ihex2bin.py IN.hex > OUT.bin"""
import sys
def hex2bin(path):
    mem = {}
    base = 0
    for line in open(path):
        line = line.strip()
        if not line: continue
        assert line[0] == ':'
        b = bytes.fromhex(line[1:])
        assert sum(b) & 0xff == 0, "checksum " + line
        n, addr, typ = b[0], (b[1] << 8) | b[2], b[3]
        data = b[4:4 + n]
        assert len(data) == n
        if typ == 0:
            for i, x in enumerate(data): mem[base + addr + i] = x
        elif typ == 1: break
        elif typ == 4: base = ((data[0] << 8) | data[1]) << 16
        elif typ == 2: base = ((data[0] << 8) | data[1]) << 4
    lo, hi = min(mem), max(mem)
    return bytes(mem.get(i, 0xff) for i in range(lo, hi + 1))
sys.stdout.buffer.write(hex2bin(sys.argv[1]))
