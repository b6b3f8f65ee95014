"""Reader for dlib's binary serialization primitives (dlib/serialize.h, dlib/float_details.h,
dlib/matrix/matrix.h, dlib/cuda/tensor.h), so dlib's model files can be read with numpy alone.

The formats, as dlib writes them:

* integers: a control byte, then the magnitude in little-endian order. The control byte's low
  4 bits give the number of magnitude bytes (1..8, never 0: zero is written as one 0x00 byte);
  its high bit marks a negative number. dlib never sets bits 0x70; this reader rejects them,
  because seeing them means the reader has lost its place (or found dlib's old ASCII floats).
* floats: an integer mantissa (int64) then an integer exponent (int16), value
  mantissa * 2**exponent; exponents 32000 / 32001 / 32002 stand for +inf / -inf / NaN.
* bool: the ASCII byte '1' or '0'.
* std::string and C strings: an integer length then the raw bytes.
* dlib::matrix: -rows and -cols as integers (older files: +rows, +cols), then every element in
  row-major order in the element's own format.
* std::vector: an integer length then the elements.
* resizable_tensor: version 2, then num_samples, k, nr, nc, then raw little-endian float32 values.
* alias_tensor: version 1, then num_samples, k, nr, nc (a shape; no data).
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

_RESERVED_BITS = 0x70
_INF, _NINF = 32000, 32001  # float_details::is_inf / is_ninf; any larger exponent is NaN


class DlibFormatError(ValueError):
    """The bytes are not what dlib would have written at this point of the file."""


class DlibReader:
    """Sequential reader over one dlib-serialized buffer; every read names what it expects so a
    mismatch says where and what went wrong."""

    def __init__(self, data: bytes, source: str = "<bytes>") -> None:
        self._data = memoryview(data)
        self._pos = 0
        self.source = source

    @classmethod
    def from_file(cls, path: Path) -> "DlibReader":
        """A reader over the whole of `path`."""
        return cls(Path(path).read_bytes(), str(path))

    @property
    def position(self) -> int:
        return self._pos

    @property
    def remaining(self) -> int:
        return len(self._data) - self._pos

    def error(self, message: str) -> DlibFormatError:
        """A DlibFormatError that says which file and byte offset it is about."""
        return DlibFormatError(f"{self.source} at byte {self._pos}: {message}")

    def _take(self, count: int, what: str) -> memoryview:
        if count > self.remaining:
            raise self.error(f"truncated: {what} needs {count} bytes, {self.remaining} left")
        chunk = self._data[self._pos:self._pos + count]
        self._pos += count
        return chunk

    def integer(self, what: str = "integer", max_bytes: int = 8, signed: bool = True) -> int:
        """One integer of a C++ type that is `max_bytes` wide (int: 4, long/int64: 8, int16: 2)."""
        control = self._take(1, what)[0]
        if control & _RESERVED_BITS:
            raise self.error(f"{what}: control byte 0x{control:02x} has reserved bits set (not a dlib integer)")
        negative, size = bool(control & 0x80), control & 0x0F
        if negative and not signed:
            raise self.error(f"{what}: negative value for an unsigned integer")
        if size == 0 or size > max_bytes:
            raise self.error(f"{what}: {size} magnitude bytes (expected 1..{max_bytes})")
        magnitude = int.from_bytes(self._take(size, what), "little")
        return -magnitude if negative else magnitude

    def unsigned(self, what: str = "unsigned integer", max_bytes: int = 8) -> int:
        """One unsigned integer (unsigned long, size_t: 8 bytes)."""
        return self.integer(what, max_bytes, signed=False)

    def version(self, owner: str, allowed: tuple[int, ...]) -> int:
        """An `int version` field of `owner`, checked against the versions dlib accepts."""
        value = self.integer(f"{owner} version", 4)
        if value not in allowed:
            raise self.error(f"unexpected {owner} version {value} (expected one of {allowed})")
        return value

    def floating(self, what: str = "float") -> float:
        """One float or double (dlib's float_details: mantissa, then exponent)."""
        if not self.remaining:
            raise self.error(f"truncated: {what} needs at least 4 bytes, 0 left")
        if self._data[self._pos] & _RESERVED_BITS:
            raise self.error(f"{what}: dlib's old ASCII float format is not supported")
        mantissa = self.integer(f"{what} mantissa", 8)
        exponent = self.integer(f"{what} exponent", 2)
        if exponent < _INF:
            return math.ldexp(float(mantissa), exponent)
        if exponent == _INF:
            return math.inf
        return -math.inf if exponent == _NINF else math.nan

    def boolean(self, what: str = "bool") -> bool:
        """One bool ('1' or '0')."""
        byte = self._take(1, what)[0]
        if byte not in (ord("0"), ord("1")):
            raise self.error(f"{what}: byte 0x{byte:02x} is not '0' or '1'")
        return byte == ord("1")

    def string(self, what: str = "string") -> str:
        """One std::string (or serialized C string)."""
        length = self.unsigned(f"{what} length")
        return bytes(self._take(length, what)).decode("latin-1")

    def expect_string(self, owner: str, allowed: tuple[str, ...]) -> str:
        """A version string of `owner` (dlib layers start with one), checked against `allowed`."""
        start = self._pos
        try:
            value = self.string(f"{owner} version string")
        except DlibFormatError as exc:
            raise DlibFormatError(f"{exc} (expected {' or '.join(allowed)})") from exc
        if value not in allowed:
            self._pos = start
            raise self.error(f"expected {owner} ({' or '.join(allowed)}), found {value[:40]!r}")
        return value

    def float_matrix(self, what: str = "matrix", rows: int | None = None, cols: int | None = None) -> np.ndarray:
        """A dlib::matrix<float> as a float32 array of shape (rows, cols)."""
        nr, nc = abs(self.integer(f"{what} rows")), abs(self.integer(f"{what} cols"))
        if (rows is not None and nr != rows) or (cols is not None and nc != cols):
            raise self.error(f"{what}: {nr}x{nc}, expected {rows or 'any'}x{cols or 'any'}")
        return np.array([self.floating(what) for _ in range(nr * nc)], dtype=np.float32).reshape(nr, nc)

    def float_vectors(self, what: str = "vector of points") -> np.ndarray:
        """A std::vector<dlib::vector<float,2>> as a float32 (n, 2) array."""
        count = self.unsigned(f"{what} length")
        return np.array([self.floating(what) for _ in range(2 * count)], dtype=np.float32).reshape(count, 2)

    def unsigned_vector(self, what: str = "vector") -> np.ndarray:
        """A std::vector<unsigned long> as an int64 array."""
        count = self.unsigned(f"{what} length")
        return np.array([self.unsigned(what) for _ in range(count)], dtype=np.int64)

    def tensor(self, what: str = "tensor") -> np.ndarray:
        """A resizable_tensor as a float32 array of shape (num_samples, k, nr, nc)."""
        self.version(f"{what} (resizable_tensor)", (2,))
        shape = tuple(self.integer(f"{what} dimension") for _ in range(4))
        if any(d < 0 for d in shape):
            raise self.error(f"{what}: negative dimension in {shape}")
        count = math.prod(shape)
        raw = self._take(4 * count, f"{what} data ({count} float32)")
        return np.frombuffer(raw, dtype="<f4").astype(np.float32).reshape(shape)

    def alias_tensor(self, what: str = "alias_tensor") -> tuple[int, int, int, int]:
        """An alias_tensor: the shape (num_samples, k, nr, nc) of a view into a layer's params."""
        self.version(f"{what} (alias_tensor)", (1,))
        shape = tuple(self.integer(f"{what} dimension") for _ in range(4))
        if any(d < 0 for d in shape):
            raise self.error(f"{what}: negative dimension in {shape}")
        return shape  # type: ignore[return-value]

    def expect_end(self) -> None:
        """Fail unless every byte was consumed: trailing data means the layout was misread."""
        if self.remaining:
            raise self.error(f"{self.remaining} unread bytes after the last expected field")
