#!/usr/bin/python3
"""Writes the uncompressed ELF kernel inside a bzImage (Debian compresses its kernels with xz).

QEMU's microvm boots the ELF directly (PVH); a bzImage would first unpack itself, which under TCG
took ~3.5 s more per boot on this project's hosts. usage: extract-vmlinux.py BZIMAGE OUT
"""
import lzma
import os
import sys

data = open(sys.argv[1], "rb").read()
at = data.find(b"\xfd7zXZ\x00")
if at < 0:
    sys.exit(f"{sys.argv[1]}: no xz payload (not a Debian bzImage?)")
elf = lzma.LZMADecompressor(format=lzma.FORMAT_XZ).decompress(data[at:])
if not elf.startswith(b"\x7fELF"):
    sys.exit(f"{sys.argv[1]}: the xz payload is not an ELF kernel")
with open(sys.argv[2] + ".tmp", "wb") as out:
    out.write(elf)
os.replace(sys.argv[2] + ".tmp", sys.argv[2])
