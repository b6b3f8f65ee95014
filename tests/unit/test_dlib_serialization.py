"""The dlib serialization reader on hand-built bytes (formats from dlib/serialize.h)."""
from __future__ import annotations

import math
import struct

import numpy as np
import pytest

from recognizer.export.dlib_serialization import DlibFormatError, DlibReader


def pack_int(value: int) -> bytes:
    """dlib's pack_int: control byte (0x80 if negative | magnitude byte count), magnitude little-endian."""
    magnitude = abs(value)
    body = magnitude.to_bytes(max(1, (magnitude.bit_length() + 7) // 8), "little")
    return bytes([len(body) | (0x80 if value < 0 else 0)]) + body


def pack_float(mantissa: int, exponent: int) -> bytes:
    return pack_int(mantissa) + pack_int(exponent)


def pack_string(text: str) -> bytes:
    return pack_int(len(text)) + text.encode("latin-1")


@pytest.mark.parametrize("data, value", [
    (b"\x01\x00", 0),
    (b"\x01\x01", 1),
    (b"\x81\x01", -1),
    (b"\x01\xff", 255),
    (b"\x02\x00\x01", 256),
    (b"\x82\x39\x30", -12345),
    (b"\x04\xff\xff\xff\x7f", 2**31 - 1),
    (b"\x84\x00\x00\x00\x80", -(2**31)),
    (b"\x08" + b"\xff" * 7 + b"\x7f", 2**63 - 1),
])
def test_integers_of_several_sizes_and_signs(data: bytes, value: int) -> None:
    reader = DlibReader(data)
    assert reader.integer() == value
    assert reader.remaining == 0


def test_integers_round_trip_through_dlibs_packing() -> None:
    values = [0, 7, -7, 300, -70000, 2**40 + 3, -(2**62)]
    reader = DlibReader(b"".join(pack_int(v) for v in values))
    assert [reader.integer() for _ in values] == values
    reader.expect_end()


def test_integer_wider_than_its_type_is_refused() -> None:
    with pytest.raises(DlibFormatError, match=r"5 magnitude bytes \(expected 1..4\)"):
        DlibReader(b"\x05\x01\x02\x03\x04\x05").integer("int version", max_bytes=4)
    with pytest.raises(DlibFormatError, match="magnitude bytes"):
        DlibReader(b"\x00").integer()  # dlib never writes a zero-length integer


def test_negative_unsigned_and_reserved_bits_are_refused() -> None:
    with pytest.raises(DlibFormatError, match="negative value for an unsigned"):
        DlibReader(b"\x81\x01").unsigned()
    with pytest.raises(DlibFormatError, match="reserved bits"):
        DlibReader(b"\x31\x01").integer()


@pytest.mark.parametrize("value", [0.0, 1.0, -2.5, 0.1, 122.782, -1e-30, 3.4e38])
def test_floats_as_mantissa_and_exponent(value: float) -> None:
    mantissa, exponent = math.frexp(value)
    # dlib: mantissa scaled to an integer of the type's digits (53 for double), exponent adjusted
    reader = DlibReader(pack_float(int(mantissa * 2**53), exponent - 53))
    assert reader.floating() == value


def test_float_from_float32_bits() -> None:
    # 0.6f as dlib writes a float: 24-bit mantissa, shifted right while its low byte is zero.
    as_float32 = struct.unpack("<f", struct.pack("<f", 0.6))[0]
    mantissa, exponent = math.frexp(as_float32)
    assert DlibReader(pack_float(int(mantissa * 2**24), exponent - 24)).floating() == as_float32


def test_special_floats() -> None:
    reader = DlibReader(pack_float(0, 32000) + pack_float(0, 32001) + pack_float(0, 32002))
    assert reader.floating() == math.inf
    assert reader.floating() == -math.inf
    assert math.isnan(reader.floating())


def test_old_ascii_float_format_is_named() -> None:
    with pytest.raises(DlibFormatError, match="old ASCII float"):
        DlibReader(b"1.5 ").floating()


def test_strings_and_version_strings() -> None:
    reader = DlibReader(pack_string("con_6") + pack_string("") + pack_string("relu_9"))
    assert reader.expect_string("con_", ("con_5", "con_6")) == "con_6"
    assert reader.string() == ""
    with pytest.raises(DlibFormatError, match=r"expected relu_ \(relu_ or relu_2\), found 'relu_9'"):
        reader.expect_string("relu_", ("relu_", "relu_2"))


def test_bools() -> None:
    reader = DlibReader(b"10x")
    assert reader.boolean() is True
    assert reader.boolean() is False
    with pytest.raises(DlibFormatError, match="not '0' or '1'"):
        reader.boolean()


def test_float_matrix_new_and_old_dimension_signs() -> None:
    values = [(1, 0), (-3, -1), (5, -2)]  # 1, -1.5, 1.25 as mantissa * 2**exponent
    body = b"".join(pack_float(m, e) for m, e in values)
    for rows, cols in [(-3, -1), (3, 1)]:
        matrix = DlibReader(pack_int(rows) + pack_int(cols) + body).float_matrix(cols=1)
        np.testing.assert_array_equal(matrix[:, 0], np.array([1, -1.5, 1.25], np.float32))
    with pytest.raises(DlibFormatError, match="3x1, expected anyx2"):
        DlibReader(pack_int(-3) + pack_int(-1) + body).float_matrix(cols=2)


def test_tensor_is_raw_little_endian_float32() -> None:
    data = np.arange(6, dtype="<f4") - 2.5
    raw = pack_int(2) + b"".join(pack_int(d) for d in (1, 2, 3, 1)) + data.tobytes()
    tensor = DlibReader(raw).tensor()
    assert tensor.shape == (1, 2, 3, 1) and tensor.dtype == np.float32
    np.testing.assert_array_equal(tensor.reshape(-1), data)


def test_tensor_of_an_unknown_version_is_refused() -> None:
    with pytest.raises(DlibFormatError, match=r"unexpected t \(resizable_tensor\) version 3"):
        DlibReader(pack_int(3)).tensor("t")


@pytest.mark.parametrize("data, what", [
    (b"", "integer"),
    (b"\x04\x01\x02", "integer"),  # announces 4 magnitude bytes, has 2
    (pack_int(10) + b"short", "string"),
    (pack_int(2) + b"".join(pack_int(d) for d in (1, 1, 2, 2)) + b"\x00" * 15, "tensor data"),
])
def test_truncated_data_says_so(data: bytes, what: str) -> None:
    reader = DlibReader(data, source="model.dat")
    read = {"integer": reader.integer, "string": reader.string, "tensor data": reader.tensor}[what]
    with pytest.raises(DlibFormatError, match=r"model\.dat at byte \d+: truncated: .* needs \d+ bytes, \d+ left"):
        read()


def test_trailing_bytes_are_reported() -> None:
    reader = DlibReader(pack_int(1) + b"\x00\x00")
    reader.integer()
    with pytest.raises(DlibFormatError, match="2 unread bytes"):
        reader.expect_end()
