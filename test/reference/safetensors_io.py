"""Read and write safetensors files with numpy only.

The format (https://huggingface.co/docs/safetensors): an 8-byte little-endian
unsigned header length N, N bytes of UTF-8 JSON mapping each tensor name to
{"dtype", "shape", "data_offsets": [begin, end]} (offsets into the data area
that follows the header) plus an optional "__metadata__" object of strings,
then the data area. The header is padded with spaces so the data area starts
at an 8-byte boundary. Tensors are little-endian and row-major.

Only the dtypes the ftc tests need are supported: F32, I32, I64 (and F64,
I8, U8, I16 for completeness of reading).
"""

import json
import struct

import numpy as np

_DTYPES = {
    "F64": np.dtype("<f8"),
    "F32": np.dtype("<f4"),
    "I64": np.dtype("<i8"),
    "I32": np.dtype("<i4"),
    "I16": np.dtype("<i2"),
    "I8": np.dtype("i1"),
    "U8": np.dtype("u1"),
}
_NAMES = {v: k for k, v in _DTYPES.items()}


class SafetensorsError(Exception):
    """A malformed file or an unsupported tensor."""


def load(path, with_metadata=False):
    """Returns {name: np.ndarray} (and the metadata dict when asked)."""
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise SafetensorsError(f"{path}: {len(raw)} bytes is too short")
    (n,) = struct.unpack("<Q", raw[:8])
    if 8 + n > len(raw):
        raise SafetensorsError(f"{path}: header length {n} exceeds the file")
    try:
        header = json.loads(raw[8:8 + n].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise SafetensorsError(f"{path}: invalid JSON header: {e}") from e
    data = memoryview(raw)[8 + n:]
    metadata = header.pop("__metadata__", {}) or {}
    tensors = {}
    for name, entry in header.items():
        dtype = _DTYPES.get(entry.get("dtype"))
        if dtype is None:
            raise SafetensorsError(
                f"{path}: tensor '{name}': unsupported dtype {entry.get('dtype')}")
        shape = tuple(int(d) for d in entry["shape"])
        begin, end = (int(x) for x in entry["data_offsets"])
        count = int(np.prod(shape, dtype=np.int64))
        if end - begin != count * dtype.itemsize or end > len(data):
            raise SafetensorsError(
                f"{path}: tensor '{name}': data_offsets [{begin}, {end}] do "
                f"not fit shape {list(shape)} of {entry['dtype']}")
        tensors[name] = np.frombuffer(
            data[begin:end], dtype=dtype).reshape(shape).copy()
    return (tensors, metadata) if with_metadata else tensors


def save(path, tensors, metadata=None):
    """Writes {name: array} (F32, I32 or I64; other dtypes are converted:
    floats to F32, integers to I64) sorted by name."""
    header, chunks, offset = {}, [], 0
    for name in sorted(tensors):
        a = np.asarray(tensors[name])
        if a.dtype.kind == "f":
            a = a.astype("<f4")
        elif a.dtype.kind in "iub":
            a = a.astype("<i4" if a.dtype == np.int32 else "<i8")
        else:
            raise SafetensorsError(f"tensor '{name}': unsupported dtype {a.dtype}")
        a = np.ascontiguousarray(a)
        b = a.tobytes()
        header[name] = {"dtype": _NAMES[a.dtype], "shape": list(a.shape),
                        "data_offsets": [offset, offset + len(b)]}
        chunks.append(b)
        offset += len(b)
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in chunks:
            f.write(b)
