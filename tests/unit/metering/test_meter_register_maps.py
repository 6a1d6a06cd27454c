"""Modbus register maps: loading, validation of the map files, read planning, decoding."""

from __future__ import annotations

import struct
from datetime import UTC, datetime
from pathlib import Path

import pytest

from amphub.adapters.meters.maps import (
    Function,
    ReadBlock,
    RegisterMapError,
    available_maps,
    load_register_map,
    parse_register_map,
)
from amphub.domain.metering import PhasePowers, PhaseVoltages
from amphub.domain.units import PhaseCurrents

AT = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def f32(value: float) -> list[int]:
    high, low = struct.unpack(">HH", struct.pack(">f", value))
    return [high, low]


def i32_lsw_first(value: int) -> list[int]:
    high, low = struct.unpack(">HH", struct.pack(">i", value))
    return [low, high]


def test_shipped_maps() -> None:
    assert {"eastron_sdm630", "carlo_gavazzi_em24"} <= set(available_maps())
    for name in available_maps():
        assert load_register_map(name).registers


def test_sdm630_plan_and_decode() -> None:
    sdm = load_register_map("eastron_sdm630")
    plan = sdm.plan()
    assert plan == (
        ReadBlock(Function.INPUT, 0x0000, 18),
        ReadBlock(Function.INPUT, 0x0034, 2),
        ReadBlock(Function.INPUT, 0x0048, 4),
    )
    first = f32(230.5) + f32(229.75) + f32(231.25) + f32(12.5) + f32(3.25) + f32(0.0)
    first += f32(2881.25) + f32(-747.5) + f32(0.0)
    reading = sdm.decode(
        {plan[0]: first, plan[1]: f32(2133.75), plan[2]: f32(12345.5) + f32(67.25)}, AT
    )
    assert reading.measured_at == AT
    assert reading.voltages_v == PhaseVoltages(230.5, 229.75, 231.25)
    # the SDM630 reports magnitudes; L2 exports, so its current is negative
    assert reading.currents_a == PhaseCurrents(12.5, -3.25, 0.0)
    assert reading.power_w_per_phase == PhasePowers(2881.25, -747.5, 0.0)
    assert reading.power_w == 2133.75
    assert reading.energy_import_wh == 12_345_500.0
    assert reading.energy_export_wh == 67_250.0


def test_em24_plan_and_decode() -> None:
    em24 = load_register_map("carlo_gavazzi_em24")
    plan = em24.plan()
    assert plan == (
        ReadBlock(Function.HOLDING, 0x0000, 0x36),
        ReadBlock(Function.HOLDING, 0x004E, 2),
    )
    words = [0] * 0x36
    for address, raw in {
        0x00: 2305, 0x02: 2297, 0x04: 2312,  # V × 10
        0x0C: 12345, 0x0E: 3250, 0x10: 1,  # A × 1000
        0x12: 28812, 0x14: -7475, 0x16: 0,  # W × 10
        0x28: 21337,  # W × 10
        0x34: 123455,  # kWh × 10
    }.items():  # fmt: skip
        words[address : address + 2] = i32_lsw_first(raw)
    reading = em24.decode({plan[0]: words, plan[1]: i32_lsw_first(673)}, AT)
    assert reading.voltages_v == PhaseVoltages(230.5, 229.7, 231.2)
    assert reading.currents_a == PhaseCurrents(12.345, -3.25, 0.001)
    assert reading.power_w_per_phase == PhasePowers(2881.2, -747.5, 0.0)
    assert reading.power_w == 2133.7
    assert reading.energy_import_wh == 12_345_500.0
    assert reading.energy_export_wh == 67_300.0


MINIMAL = """
registers:
  currents_a.l1: {address: 0}
  currents_a.l2: {address: 2}
  currents_a.l3: {address: 4}
"""


def test_defaults_and_as_read_currents() -> None:
    plain = parse_register_map(MINIMAL, source="plain")
    assert plain.name == "plain"
    (block,) = plain.plan()
    assert block == ReadBlock(Function.INPUT, 0, 6)
    reading = plain.decode({block: f32(-1.5) + f32(2.0) + f32(0.25)}, AT)
    assert reading.currents_a == PhaseCurrents(-1.5, 2.0, 0.25)
    assert reading.voltages_v is None
    assert reading.power_w is None


@pytest.mark.parametrize(
    ("type_name", "word_order", "words", "expected"),
    [
        ("int16", "big", [0xFFFE], -2.0),
        ("uint16", "big", [0xFFFE], 65534.0),
        ("int32", "big", [0xFFFF, 0xFFFE], -2.0),
        ("int32", "little", [0xFFFE, 0xFFFF], -2.0),
        ("uint32", "little", [0x0001, 0x0002], float(0x0002_0001)),
        ("int64", "big", [0, 0, 0, 7], 7.0),
        ("uint64", "little", [7, 0, 0, 0], 7.0),
        ("float64", "big", list(struct.unpack(">HHHH", struct.pack(">d", -0.125))), -0.125),
        ("float32", "little", list(reversed(f32(3.5))), 3.5),
    ],
)
def test_types_and_word_orders(
    type_name: str, word_order: str, words: list[int], expected: float
) -> None:
    text = f"""
type: {type_name}
word_order: {word_order}
max_gap: 9
registers:
  currents_a.l1: {{address: 0}}
  currents_a.l2: {{address: 10}}
  currents_a.l3: {{address: 20, type: uint16, divisor: 4}}
"""
    register_map = parse_register_map(text)
    (block,) = register_map.plan()  # 0…20 merged: gaps of at most 9 unused registers
    width = len(words)
    registers = [0] * block.count
    registers[0:width] = words
    registers[10 : 10 + width] = words
    registers[20] = 10
    reading = register_map.decode({block: registers}, AT)
    assert reading.currents_a == PhaseCurrents(expected, expected, 2.5)


def test_plan_respects_function_gap_and_length() -> None:
    text = """
max_gap: 2
max_registers_per_read: 8
registers:
  currents_a.l1: {address: 0}
  currents_a.l2: {address: 4}
  currents_a.l3: {address: 7}
  power_w: {address: 0, function: holding}
"""
    assert parse_register_map(text).plan() == (
        ReadBlock(Function.HOLDING, 0, 2),
        ReadBlock(Function.INPUT, 0, 6),  # 0–1, gap of 2, 4–5
        ReadBlock(Function.INPUT, 7, 2),  # would make the read 9 long
    )


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("- a list", "expected a mapping"),
        ("registers: [", "not valid YAML"),
        ("colour: red\n" + MINIMAL, "colour: unknown key"),
        ("registers: {}", "registers"),
        (
            MINIMAL.replace("currents_a.l3", "voltages_v.l1"),
            "currents_a.l1, .l2 and .l3 are required",
        ),
        (MINIMAL + "  voltages_v.l1: {address: 9}\n", "voltages_v needs all of l1, l2, l3"),
        (MINIMAL + "  current_l4: {address: 9}\n", "registers.current_l4: unknown field"),
        (MINIMAL + "  power_w: 9\n", "registers.power_w: expected {address"),
        (MINIMAL + "  power_w: {address: -1}\n", "power_w.address"),
        (MINIMAL + "  power_w: {address: 65535, type: int32}\n", "power_w.address"),
        (MINIMAL + "  power_w: {address: 9, scale: 0}\n", "power_w.scale"),
        (MINIMAL + "  power_w: {address: 9, divisor: 0.5}\n", "power_w.divisor"),
        (MINIMAL + "  power_w: {address: 9, type: float16}\n", "power_w.type"),
        (MINIMAL + "  power_w: {address: 9, function: coil}\n", "function: one of input, holding"),
        (MINIMAL + "  power_w: {address: 9, offset: 3}\n", "power_w.offset: unknown key"),
        ("word_order: middle\n" + MINIMAL, "word_order"),
        ("current_sign: from_power\n" + MINIMAL, "from_power needs power_w_per_phase"),
        ("max_gap: 500\n" + MINIMAL, "max_gap"),
        ("max_registers_per_read: 200\n" + MINIMAL, "max_registers_per_read"),
    ],
)
def test_bad_maps_are_refused_naming_the_key(text: str, complaint: str) -> None:
    with pytest.raises(RegisterMapError, match=complaint.replace("[", r"\[").replace("{", r"\{")):
        parse_register_map(text)


def test_map_from_a_file_and_unknown_names(tmp_path: Path) -> None:
    path = tmp_path / "my_meter.yaml"
    path.write_text("name: My meter\n" + MINIMAL)
    assert load_register_map(str(path)).name == "My meter"
    with pytest.raises(RegisterMapError, match="no such map"):
        load_register_map("no_such_meter")
