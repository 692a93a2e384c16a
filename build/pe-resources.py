#!/usr/bin/env python3
"""Checks the icon and version resources of Windows programs.

    build/pe-resources.py ICON VERSION PROGRAM.exe...

Each program must carry an icon group whose images are exactly ICON's (an
.ico file) and a version resource whose ProductVersion and FileVersion
strings are VERSION and whose fixed product version is VERSION's leading
numbers. It prints one line per program and exits 1 on the first mismatch.
build/winres.sh writes the resources; build/wine-test.sh and build/release.sh
check them with this reader, which shares no code with the tool that wrote
them.
"""
import re
import struct
import sys

RT_ICON, RT_GROUP_ICON, RT_VERSION = 3, 14, 16


def resources(path):
    """Returns {type id: [(name, data), ...]} from the PE resource directory."""
    with open(path, "rb") as f:
        pe_data = f.read()
    pe = struct.unpack_from("<I", pe_data, 0x3C)[0]
    if pe_data[pe:pe + 4] != b"PE\0\0":
        raise ValueError("not a PE file")
    sections, opt_size = struct.unpack_from("<H12xH", pe_data, pe + 6)
    opt = pe + 24
    magic = struct.unpack_from("<H", pe_data, opt)[0]
    # The data directories start at 96 (PE32) or 112 (PE32+); the resource
    # table is the third.
    rsrc_rva, rsrc_size = struct.unpack_from("<II", pe_data, opt + (112 if magic == 0x20B else 96) + 2 * 8)
    if rsrc_size == 0:
        return {}
    spans = []
    for i in range(sections):
        vsize, vaddr, rawsize, rawptr = struct.unpack_from("<IIII", pe_data, opt + opt_size + 40 * i + 8)
        spans.append((vaddr, max(vsize, rawsize), rawptr))

    def offset(rva):
        for vaddr, size, rawptr in spans:
            if vaddr <= rva < vaddr + size:
                return rva - vaddr + rawptr
        raise ValueError(f"RVA {rva:#x} is in no section")

    base = offset(rsrc_rva)

    def entries(at):
        named, ids = struct.unpack_from("<HH", pe_data, base + at + 12)
        for i in range(named + ids):
            name, target = struct.unpack_from("<II", pe_data, base + at + 16 + 8 * i)
            yield name, target

    found = {}
    for rtype, types in entries(0):
        for name, names in entries(types & 0x7FFFFFFF):
            for _, leaf in entries(names & 0x7FFFFFFF):
                rva, size = struct.unpack_from("<II", pe_data, base + leaf)
                found.setdefault(rtype, []).append((name, pe_data[offset(rva):offset(rva) + size]))
    return found


def ico_images(ico):
    """Returns the sorted (width, height, image bytes) of an .ico file."""
    count = struct.unpack_from("<H", ico, 4)[0]
    images = []
    for i in range(count):
        w, h, size, at = struct.unpack_from("<BB6xII", ico, 6 + 16 * i)
        images.append((w or 256, h or 256, ico[at:at + size]))
    return sorted(images)


def group_images(res):
    """Returns the sorted (width, height, image bytes) of the first icon group."""
    group = res[RT_GROUP_ICON][0][1]
    icons = dict(res.get(RT_ICON, []))
    count = struct.unpack_from("<H", group, 4)[0]
    images = []
    for i in range(count):
        w, h, icon_id = struct.unpack_from("<BB10xH", group, 6 + 14 * i)
        images.append((w or 256, h or 256, icons[icon_id]))
    return sorted(images)


def version_string(info, key):
    """Returns the value of one String of a VS_VERSIONINFO, or None."""
    at = info.find((key + "\0").encode("utf-16-le"))
    if at < 0:
        return None
    at += 2 * len(key) + 2
    at += -at % 4  # values start on a 32-bit boundary
    end = at
    while info[end:end + 2] != b"\0\0":
        end += 2
    return info[at:end].decode("utf-16-le")


def check(path, ico, want):
    res = resources(path)
    if RT_GROUP_ICON not in res:
        return "no icon"
    if group_images(res) != ico_images(ico):
        return "the icon is not the one built in"
    if RT_VERSION not in res:
        return "no version resource"
    info = res[RT_VERSION][0][1]
    for key in ("ProductVersion", "FileVersion"):
        if (got := version_string(info, key)) != want:
            return f"{key} is {got!r}, want {want!r}"
    fixed = info.find(struct.pack("<I", 0xFEEF04BD))
    if fixed < 0:
        return "no fixed version info"
    ms, ls = struct.unpack_from("<II", info, fixed + 16)
    numbers = [int(n) for n in re.match(r"\D*([\d.]*)", want).group(1).split(".")[:4] if n]
    numbers += [0] * (4 - len(numbers))
    if [ms >> 16, ms & 0xFFFF, ls >> 16, ls & 0xFFFF] != numbers:
        return f"fixed product version {ms >> 16}.{ms & 0xFFFF}.{ls >> 16}.{ls & 0xFFFF}, want {numbers}"
    return None


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    with open(sys.argv[1], "rb") as f:
        ico = f.read()
    want = sys.argv[2]
    for path in sys.argv[3:]:
        try:
            problem = check(path, ico, want)
        except (ValueError, KeyError, struct.error) as e:
            problem = f"unreadable resources: {e!r}"
        if problem:
            sys.exit(f"{path}: {problem}")
        sizes = ",".join(str(w) for w, _, _ in ico_images(ico))
        print(f"{path}: icon {sizes} px, version {want}")


if __name__ == "__main__":
    main()
