"""The safetensors format, as pfgm writes it: an 8-byte little-endian header length, a JSON header
{name: {dtype, shape, data_offsets}, "__metadata__": {str: str}}, then raw little-endian data."""

import json
import os
import struct
import tempfile

import numpy as np

_DTYPES = {"F32": np.dtype("<f4"), "F64": np.dtype("<f8")}


class FormatError(ValueError):
    """A file that is not a readable safetensors file; the message names the file and the reason."""


def read(path):
    """Returns ({name: float32 ndarray}, metadata)."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise FormatError(f"{path}: cannot read ({e.strerror})") from None
    if len(raw) < 8:
        raise FormatError(f"{path}: truncated, {len(raw)} bytes")
    (length,) = struct.unpack("<Q", raw[:8])
    if length > len(raw) - 8:
        raise FormatError(f"{path}: header length {length} runs past the end of the file")
    try:
        header = json.loads(raw[8 : 8 + length])
    except ValueError:
        raise FormatError(f"{path}: header is not JSON") from None
    if not isinstance(header, dict):
        raise FormatError(f"{path}: header is not a JSON object")
    metadata = header.pop("__metadata__", {}) or {}
    data = memoryview(raw)[8 + length :]
    tensors = {}
    for name, info in header.items():
        try:
            dtype = _DTYPES[info["dtype"]]
            shape = [int(d) for d in info["shape"]]
            begin, end = (int(v) for v in info["data_offsets"])
        except (KeyError, TypeError, ValueError):
            raise FormatError(
                f"{path}: tensor '{name}' has an unreadable entry (only F32 and F64 are read)"
            ) from None
        count = int(np.prod(shape, dtype=np.int64))
        if not 0 <= begin <= end <= len(data) or end - begin != count * dtype.itemsize:
            raise FormatError(f"{path}: tensor '{name}' offsets do not fit its shape {shape}")
        values = np.frombuffer(data[begin:end], dtype=dtype).reshape(shape)
        tensors[name] = values.astype(np.float32)
    return tensors, metadata


def encode(tensors, metadata=None):
    """Bytes of a file holding `tensors` ({name: array}, written as F32) in name order."""
    header, chunks, offset = {}, [], 0
    for name in sorted(tensors):
        values = np.ascontiguousarray(tensors[name], dtype="<f4")
        header[name] = {
            "dtype": "F32",
            "shape": list(values.shape),
            "data_offsets": [offset, offset + values.nbytes],
        }
        chunks.append(values.tobytes())
        offset += values.nbytes
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    text = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(chunks)


def write(path, tensors, metadata=None):
    write_atomically(path, encode(tensors, metadata))


def write_atomically(path, data):
    """Writes to a temporary file in the same folder, syncs it, and renames it over `path`."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, temporary = tempfile.mkstemp(
        dir=folder, prefix="." + os.path.basename(path) + ".", suffix=".tmp"
    )
    try:
        os.fchmod(fd, 0o644)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
