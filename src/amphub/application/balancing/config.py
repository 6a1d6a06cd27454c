"""From a group as configured (and its charge points) to what the pure balancer works on."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from amphub.application.site_equipment import StoredGroup
from amphub.application.uow import Page, UnitOfWorkFactory, Visibility
from amphub.domain.balancing.model import (
    BalancingGroup,
    ConnectorConfig,
    ConnectorKey,
    GroupNode,
    GroupSettings,
    Placement,
)
from amphub.domain.group_config import PowerDistribution, SubGroupSpec
from amphub.domain.tenancy import ChargePoint
from amphub.domain.units import PhaseCurrents

ROOT_NODE = "group"


def connector_key(charge_point_id: int, connector_id: int) -> ConnectorKey:
    return ConnectorKey(str(charge_point_id), connector_id)


@dataclass(frozen=True, slots=True)
class LoadedGroup:
    """A group's configuration with its charge points, ready for a controller."""

    stored: StoredGroup
    charge_points: Mapping[int, ChargePoint]
    balancing: BalancingGroup

    @property
    def locally_managed(self) -> bool:
        return self.stored.settings.power_distribution is PowerDistribution.LOCAL

    @property
    def meter_id(self) -> int | None:
        return self.stored.settings.meter_id


def _connectors(
    charge_point_ids: tuple[int, ...], charge_points: Mapping[int, ChargePoint]
) -> tuple[ConnectorConfig, ...]:
    configs: list[ConnectorConfig] = []
    for charge_point_id in charge_point_ids:
        charge_point = charge_points.get(charge_point_id)
        if charge_point is None:
            continue
        for connector in charge_point.spec.connectors:
            configs.append(
                ConnectorConfig(
                    key=connector_key(charge_point_id, connector.connector_id),
                    max_a=connector.max_current_a,
                    phases=connector.phases,
                    rotation=connector.phase_rotation,
                    min_a=connector.min_current_a,
                    priority=connector.priority,
                )
            )
    return tuple(configs)


def _node(spec: SubGroupSpec, path: str, charge_points: Mapping[int, ChargePoint]) -> GroupNode:
    return GroupNode(
        node_id=path,
        limit=PhaseCurrents.uniform(spec.limit_a),
        connectors=_connectors(spec.charge_point_ids, charge_points),
        children=tuple(
            _node(child, f"{path}/{child.name}", charge_points) for child in spec.children
        ),
    )


def balancing_group(
    stored: StoredGroup, charge_points: Mapping[int, ChargePoint]
) -> BalancingGroup:
    """The balancer's tree: the root is the main fuse (total amps per phase); sub-groups
    nest below, named by their path. A group without a meter is a static circuit: nothing
    but the chargers is assumed on it (placement 'building only' with no building load)."""
    settings = stored.settings
    placement = settings.placement if settings.meter_id is not None else Placement.BUILDING_ONLY
    root = GroupNode(
        node_id=ROOT_NODE,
        limit=PhaseCurrents.uniform(settings.total_a),
        connectors=_connectors(stored.layout.charge_point_ids, charge_points),
        children=tuple(
            _node(sub, f"{ROOT_NODE}/{sub.name}", charge_points) for sub in stored.layout.sub_groups
        ),
    )
    return BalancingGroup(
        root,
        GroupSettings(
            placement=placement,
            dynamic_buffer_a=settings.dynamic_buffer_a,
            fail_safe_a=settings.fail_safe_a,
            meter_timeout=settings.meter_timeout,
        ),
    )


async def load_group(uow_factory: UnitOfWorkFactory, group_id: int) -> LoadedGroup | None:
    async with uow_factory() as uow:
        stored = await uow.groups.get(group_id)
        if stored is None:
            return None
        charge_points: dict[int, ChargePoint] = {}
        for charge_point_id in stored.layout.all_charge_point_ids():
            charge_point = await uow.charge_points.get(charge_point_id)
            if charge_point is not None:
                charge_points[charge_point_id] = charge_point
    return LoadedGroup(stored, charge_points, balancing_group(stored, charge_points))


async def all_group_ids(uow_factory: UnitOfWorkFactory) -> list[int]:
    ids: list[int] = []
    after = 0
    while True:
        async with uow_factory() as uow:
            page = await uow.groups.list_visible(Visibility(everything=True), Page(200, after))
        if not page:
            return ids
        ids.extend(group.id for group in page)
        after = page[-1].id
