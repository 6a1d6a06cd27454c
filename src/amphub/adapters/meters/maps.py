"""Modbus register maps: which registers hold a meter's currents, voltages, power and
energy, kept as YAML data (``maps/*.yaml``) so that adding a meter takes no code.
The format is documented in docs/meters.md; a short version:

.. code-block:: yaml

    name: Eastron SDM630
    function: input        # default for every register: input (FC 04) or holding (FC 03)
    type: float32          # default: int16 uint16 int32 uint32 int64 uint64 float32 float64
    word_order: big        # default: big (high word first) or little (low word first)
    max_gap: 0             # unused registers one read may span to merge neighbours
    max_registers_per_read: 80
    current_sign: from_power   # or as_read: the meter's currents carry no sign
    registers:
      currents_a.l1: {address: 0x0006}
      energy_import_wh: {address: 0x0048, scale: 1000}   # kWh → Wh

Keys are the reading's field names (as in the JSON payload). ``currents_a.l1..l3`` are
required; voltages and per-phase powers come as all three phases or none. The value is
``raw × scale ÷ divisor`` (both default to 1), in the unit the key names: a register
documented as "Ampere*1000" gets ``divisor: 1000``, one in kWh gets ``scale: 1000``.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import TypeVar

import yaml

from amphub.domain.metering import MeterReading, PhasePowers, PhaseVoltages
from amphub.domain.units import PhaseCurrents

MAX_REGISTERS_PER_READ = 125
"""The Modbus protocol's limit for one read (FC 03/04)."""

_PHASES = ("l1", "l2", "l3")
_PHASE_GROUPS = ("currents_a", "voltages_v", "power_w_per_phase")
_SCALARS = ("power_w", "energy_import_wh", "energy_export_wh")
FIELDS = frozenset(
    [f"{group}.{phase}" for group in _PHASE_GROUPS for phase in _PHASES] + list(_SCALARS)
)


class RegisterMapError(ValueError):
    """A map file is not a valid register map; the message names the key at fault."""


class Function(StrEnum):
    INPUT = "input"  # FC 04, read input registers
    HOLDING = "holding"  # FC 03, read holding registers


class WordOrder(StrEnum):
    BIG = "big"
    LITTLE = "little"


class CurrentSign(StrEnum):
    AS_READ = "as_read"
    FROM_POWER = "from_power"


_TYPES: dict[str, tuple[str, int]] = {
    # struct format (big-endian bytes) and width in 16-bit registers
    "int16": (">h", 1),
    "uint16": (">H", 1),
    "int32": (">i", 2),
    "uint32": (">I", 2),
    "int64": (">q", 4),
    "uint64": (">Q", 4),
    "float32": (">f", 2),
    "float64": (">d", 4),
}


@dataclass(frozen=True, slots=True)
class Register:
    field: str
    address: int
    function: Function
    type: str
    word_order: WordOrder
    scale: float
    divisor: int

    @property
    def width(self) -> int:
        return _TYPES[self.type][1]

    def decode(self, words: Sequence[int]) -> float:
        ordered = list(words) if self.word_order is WordOrder.BIG else list(reversed(words))
        raw = b"".join(word.to_bytes(2, "big") for word in ordered)
        value: float = struct.unpack(_TYPES[self.type][0], raw)[0]
        # dividing by the documented weight (not multiplying by 0.1) keeps 2305 → 230.5 exact
        return value * self.scale / self.divisor


@dataclass(frozen=True, slots=True)
class ReadBlock:
    """One Modbus read request covering one or more registers."""

    function: Function
    address: int
    count: int


@dataclass(frozen=True, slots=True)
class RegisterMap:
    name: str
    registers: tuple[Register, ...]
    current_sign: CurrentSign
    max_gap: int
    max_registers_per_read: int

    def plan(self) -> tuple[ReadBlock, ...]:
        """The fewest reads that cover every register, merging neighbours up to ``max_gap``
        unused registers apart and ``max_registers_per_read`` long."""
        blocks: list[ReadBlock] = []
        for register in sorted(self.registers, key=lambda r: (r.function, r.address)):
            end = register.address + register.width
            last = blocks[-1] if blocks else None
            if (
                last is not None
                and last.function is register.function
                and register.address - (last.address + last.count) <= self.max_gap
                and end - last.address <= self.max_registers_per_read
            ):
                blocks[-1] = ReadBlock(
                    last.function, last.address, max(last.count, end - last.address)
                )
            else:
                blocks.append(ReadBlock(register.function, register.address, register.width))
        return tuple(blocks)

    def decode(
        self, responses: Mapping[ReadBlock, Sequence[int]], measured_at: datetime
    ) -> MeterReading:
        """Build a reading from the registers each block of ``plan()`` returned."""
        values: dict[str, float] = {}
        for register in self.registers:
            block = next(
                b
                for b in responses
                if b.function is register.function
                and b.address <= register.address
                and register.address + register.width <= b.address + b.count
            )
            offset = register.address - block.address
            values[register.field] = register.decode(
                responses[block][offset : offset + register.width]
            )

        def phases(group: str) -> tuple[float, float, float] | None:
            if f"{group}.l1" not in values:
                return None
            return values[f"{group}.l1"], values[f"{group}.l2"], values[f"{group}.l3"]

        currents = phases("currents_a")
        assert currents is not None  # required by the loader
        powers = phases("power_w_per_phase")
        if self.current_sign is CurrentSign.FROM_POWER and powers is not None:
            currents = (
                _signed(currents[0], powers[0]),
                _signed(currents[1], powers[1]),
                _signed(currents[2], powers[2]),
            )
        voltages = phases("voltages_v")
        return MeterReading(
            measured_at=measured_at,
            currents_a=PhaseCurrents(*currents),
            voltages_v=None if voltages is None else PhaseVoltages(*voltages),
            power_w=values.get("power_w"),
            power_w_per_phase=None if powers is None else PhasePowers(*powers),
            energy_import_wh=values.get("energy_import_wh"),
            energy_export_wh=values.get("energy_export_wh"),
        )


def _signed(current_a: float, power_w: float) -> float:
    """Many meters report the current's magnitude only; the direction of the active power
    on that phase says whether it is imported or exported."""
    return -abs(current_a) if power_w < 0 else abs(current_a)


# -- loading ------------------------------------------------------------------------------

_E = TypeVar("_E", bound=StrEnum)


def available_maps() -> list[str]:
    """Names of the maps shipped with amphub (file names without ``.yaml``)."""
    folder = resources.files(__package__).joinpath("maps")
    return sorted(
        entry.name.removesuffix(".yaml")
        for entry in folder.iterdir()
        if entry.name.endswith(".yaml")
    )


def load_register_map(name_or_path: str) -> RegisterMap:
    """A shipped map by name (``eastron_sdm630``) or any map file by path."""
    if name_or_path in available_maps():
        text = (
            resources.files(__package__).joinpath("maps", f"{name_or_path}.yaml").read_text("utf-8")
        )
        return parse_register_map(text, source=name_or_path)
    path = Path(name_or_path)
    if path.suffix not in {".yaml", ".yml"} or not path.is_file():
        raise RegisterMapError(
            f"{name_or_path}: no such map (shipped: {', '.join(available_maps())})"
        )
    return parse_register_map(path.read_text("utf-8"), source=str(path))


def parse_register_map(text: str, *, source: str = "<map>") -> RegisterMap:
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise RegisterMapError(f"{source}: not valid YAML: {error}") from None
    if not isinstance(document, dict):
        raise RegisterMapError(f"{source}: expected a mapping at the top")
    known = {
        "name",
        "function",
        "type",
        "word_order",
        "max_gap",
        "max_registers_per_read",
        "current_sign",
        "registers",
    }
    for key in document:
        if key not in known:
            raise RegisterMapError(f"{source}: {key}: unknown key")
    defaults = {
        "function": _choice(document, "function", Function, Function.INPUT, source),
        "type": _type(document.get("type", "float32"), f"{source}: type"),
        "word_order": _choice(document, "word_order", WordOrder, WordOrder.BIG, source),
    }
    registers_doc = document.get("registers")
    if not isinstance(registers_doc, dict) or not registers_doc:
        raise RegisterMapError(f"{source}: registers: expected a mapping of field: {{address: …}}")
    registers = tuple(
        _register(str(field), spec, defaults, source) for field, spec in registers_doc.items()
    )
    fields = {r.field for r in registers}
    for group in _PHASE_GROUPS:
        present = [phase for phase in _PHASES if f"{group}.{phase}" in fields]
        if group == "currents_a" and len(present) != 3:
            raise RegisterMapError(f"{source}: registers: currents_a.l1, .l2 and .l3 are required")
        if present and len(present) != 3:
            raise RegisterMapError(f"{source}: registers: {group} needs all of l1, l2, l3 or none")
    current_sign = _choice(document, "current_sign", CurrentSign, CurrentSign.AS_READ, source)
    if current_sign is CurrentSign.FROM_POWER and "power_w_per_phase.l1" not in fields:
        raise RegisterMapError(
            f"{source}: current_sign: from_power needs power_w_per_phase registers"
        )
    max_gap = _int(document.get("max_gap", 0), f"{source}: max_gap", 0, MAX_REGISTERS_PER_READ)
    max_read = _int(
        document.get("max_registers_per_read", MAX_REGISTERS_PER_READ),
        f"{source}: max_registers_per_read",
        4,
        MAX_REGISTERS_PER_READ,
    )
    name = document.get("name", source)
    return RegisterMap(str(name), registers, current_sign, max_gap, max_read)


def _register(field: str, spec: object, defaults: Mapping[str, object], source: str) -> Register:
    where = f"{source}: registers.{field}"
    if field not in FIELDS:
        raise RegisterMapError(f"{where}: unknown field (one of {', '.join(sorted(FIELDS))})")
    if not isinstance(spec, dict):
        raise RegisterMapError(f"{where}: expected {{address: …}}")
    for key in spec:
        if key not in {"address", "function", "type", "word_order", "scale", "divisor"}:
            raise RegisterMapError(f"{where}.{key}: unknown key")
    type_name = _type(spec.get("type", defaults["type"]), f"{where}.type")
    address = _int(spec.get("address"), f"{where}.address", 0, 65536 - _TYPES[type_name][1])
    scale = spec.get("scale", 1)
    if (
        isinstance(scale, bool)
        or not isinstance(scale, int | float)
        or not math.isfinite(scale)
        or scale == 0
    ):
        raise RegisterMapError(f"{where}.scale: expected a non-zero number")
    divisor = spec.get("divisor", 1)
    if isinstance(divisor, bool) or not isinstance(divisor, int) or divisor < 1:
        raise RegisterMapError(f"{where}.divisor: expected a whole number of at least 1")
    function = _choice(spec, "function", Function, defaults["function"], where)
    word_order = _choice(spec, "word_order", WordOrder, defaults["word_order"], where)
    return Register(field, address, function, type_name, word_order, float(scale), divisor)


def _choice(
    document: Mapping[str, object], key: str, enum: type[_E], default: object, where: str
) -> _E:
    value = document.get(key, default)
    try:
        return enum(str(value))
    except ValueError:
        raise RegisterMapError(
            f"{where}: {key}: one of {', '.join(e.value for e in enum)}"
        ) from None


def _type(value: object, where: str) -> str:
    if value not in _TYPES:
        raise RegisterMapError(f"{where}: one of {', '.join(_TYPES)}")
    return str(value)


def _int(value: object, where: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise RegisterMapError(f"{where}: expected a whole number from {low} to {high}")
    return value
