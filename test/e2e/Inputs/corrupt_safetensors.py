"""Writes a corrupt copy of a valid safetensors file, one defect per call.

    corrupt_safetensors.py IN OUT CASE [--tensor NAME] [--other NAME]

CASE is one of
  short        the first 4 bytes only (shorter than the header length)
  truncate     the last 4 bytes cut off (the last tensor runs past the end)
  header-len   the 8-byte header length set beyond the end of the file
  bad-json     the header's first '"' replaced by '!' (not JSON any more)
  dtype        --tensor's dtype set to "F33"
  size         --tensor's shape gets one more row (the byte span is unchanged)
  overlap      --tensor's data_offsets moved 4 bytes past the start of
               --other's (both must have the same byte size)
  outside      --tensor's data_offsets moved just past the data area
  reshape      --tensor's shape reversed (same bytes, wrong shape for the
               model)
Prints what it did. Only the Python standard library is needed.
"""

import argparse
import json
import struct
import sys


def read(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    return raw, header, raw[8 + n:]


def write(path, header, data):
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + data)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("case", choices=["short", "truncate", "header-len",
                                     "bad-json", "dtype", "size", "overlap",
                                     "outside", "reshape"])
    ap.add_argument("--tensor")
    ap.add_argument("--other")
    a = ap.parse_args()
    raw, header, data = read(a.input)

    def entry(name):
        if not name or name not in header:
            sys.exit(f"corrupt_safetensors: case {a.case} needs --tensor/--other "
                     f"naming a tensor of {a.input} (got {name!r})")
        return header[name]

    if a.case == "short":
        with open(a.output, "wb") as f:
            f.write(raw[:4])
        print("kept 4 bytes")
        return
    if a.case == "truncate":
        with open(a.output, "wb") as f:
            f.write(raw[:-4])
        last = max((k for k in header if k != "__metadata__"),
                   key=lambda k: header[k]["data_offsets"][1])
        print(f"cut 4 bytes; the last tensor is '{last}'")
        return
    if a.case == "header-len":
        with open(a.output, "wb") as f:
            f.write(struct.pack("<Q", len(raw)) + raw[8:])
        print(f"header length {len(raw)}, file {len(raw)} bytes")
        return
    if a.case == "bad-json":
        (n,) = struct.unpack("<Q", raw[:8])
        text = raw[8:8 + n].replace(b'"', b"!", 1)
        with open(a.output, "wb") as f:
            f.write(raw[:8] + text + raw[8 + n:])
        print("replaced the header's first '\"'")
        return

    e = entry(a.tensor)
    begin, end = e["data_offsets"]
    if a.case == "dtype":
        e["dtype"] = "F33"
    elif a.case == "size":
        e["shape"] = [e["shape"][0] + 1] + e["shape"][1:]
    elif a.case == "overlap":
        o = entry(a.other)
        ob, oe = o["data_offsets"]
        if oe - ob != end - begin:
            sys.exit("corrupt_safetensors: --tensor and --other differ in size")
        e["data_offsets"] = [ob + 4, oe + 4]
    elif a.case == "outside":
        e["data_offsets"] = [len(data), len(data) + (end - begin)]
    elif a.case == "reshape":
        e["shape"] = list(reversed(e["shape"]))
    write(a.output, header, data)
    print(f"{a.case}: '{a.tensor}' -> {json.dumps(e)}")


if __name__ == "__main__":
    main()
