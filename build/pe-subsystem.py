#!/usr/bin/env python3
"""Prints the PE subsystem of each Windows program given: gui or console.

build/release.sh checks that feedkey-tray.exe is a GUI program (no console
window at login) and feedkey.exe a console one.
"""
import struct
import sys

for path in sys.argv[1:]:
    with open(path, "rb") as f:
        data = f.read(4096)
    pe = struct.unpack_from("<I", data, 0x3C)[0]
    if data[pe:pe + 4] != b"PE\0\0":
        sys.exit(f"{path}: not a PE file")
    # The optional header follows the 20-byte COFF header; Subsystem is at
    # offset 68 in it for both PE32 and PE32+.
    subsystem = struct.unpack_from("<H", data, pe + 4 + 20 + 68)[0]
    print(path, {2: "gui", 3: "console"}.get(subsystem, f"subsystem {subsystem}"))
