"""Load balancing groups of a site: general settings, charge points, meter settings."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from amphub.application.balancing.config import ROOT_NODE
from amphub.application.site_equipment import StoredGroup
from amphub.domain.balancing.decision import Binding, ConnectorDecision
from amphub.domain.balancing.model import ConnectorKey, Placement
from amphub.domain.group_config import (
    GroupLayout,
    GroupSettingsSpec,
    PowerDistribution,
    SubGroupSpec,
)
from amphub.domain.units import PhaseCurrents
from amphub.entrypoints.api.deps import ActorDep, ContainerDep, PageDep
from amphub.entrypoints.api.schemas import ChargePointOut, Strict

router = APIRouter(tags=["load balancing"])


class GroupSettingsIn(Strict):
    name: str = Field(max_length=200)
    total_a: float = Field(description="total amps available per phase, building and charging")
    power_distribution: PowerDistribution = PowerDistribution.CLOUD
    master_charge_point_id: int | None = Field(
        None, description="locally managed only: the charge point that shares the current out"
    )
    meter_id: int | None = None
    placement: Placement = Placement.BUILDING_ONLY
    dynamic_buffer_a: float = Field(
        0.0, description="headroom: at least the largest rise of the building's load in a minute"
    )
    fail_safe_a: float = Field(0.0, description="charge points' total per phase without a meter")
    meter_timeout_s: float = 30.0

    def to_domain(self) -> GroupSettingsSpec:
        return GroupSettingsSpec(**self.model_dump())


class SubGroupModel(Strict):
    name: str = Field(max_length=200)
    limit_a: float
    charge_point_ids: list[int] = Field(default_factory=list, max_length=10_000)
    children: list[SubGroupModel] = Field(default_factory=list, max_length=1000)

    def to_domain(self) -> SubGroupSpec:
        return SubGroupSpec(
            name=self.name,
            limit_a=self.limit_a,
            children=tuple(child.to_domain() for child in self.children),
            charge_point_ids=tuple(self.charge_point_ids),
        )

    @classmethod
    def of(cls, spec: SubGroupSpec) -> SubGroupModel:
        return cls(
            name=spec.name,
            limit_a=spec.limit_a,
            charge_point_ids=list(spec.charge_point_ids),
            children=[cls.of(child) for child in spec.children],
        )


class LayoutIn(Strict):
    charge_point_ids: list[int] = Field(
        default_factory=list, max_length=10_000, description="directly under the group"
    )
    sub_groups: list[SubGroupModel] = Field(default_factory=list, max_length=1000)

    def to_domain(self) -> GroupLayout:
        return GroupLayout(
            charge_point_ids=tuple(self.charge_point_ids),
            sub_groups=tuple(sub.to_domain() for sub in self.sub_groups),
        )


class GroupOut(GroupSettingsIn):
    model_config = ConfigDict(extra="ignore")
    id: int
    site_id: int
    identifier: str
    layout: LayoutIn
    created_at: datetime

    @classmethod
    def of(cls, group: StoredGroup) -> GroupOut:
        s = group.settings
        return cls(
            id=group.id, site_id=group.site_id, identifier=group.identifier, name=s.name,
            total_a=s.total_a, power_distribution=s.power_distribution,
            master_charge_point_id=s.master_charge_point_id, meter_id=s.meter_id,
            placement=s.placement, dynamic_buffer_a=s.dynamic_buffer_a,
            fail_safe_a=s.fail_safe_a, meter_timeout_s=s.meter_timeout_s,
            layout=LayoutIn(
                charge_point_ids=list(group.layout.charge_point_ids),
                sub_groups=[SubGroupModel.of(sub) for sub in group.layout.sub_groups],
            ),
            created_at=group.created_at,
        )  # fmt: skip


class CandidateOut(BaseModel):
    charge_point: ChargePointOut
    group_id: int | None
    group_name: str | None


@router.post("/sites/{site_id}/groups", response_model=GroupOut, status_code=201)
async def create_group(
    site_id: int, body: GroupSettingsIn, actor: ActorDep, container: ContainerDep
) -> GroupOut:
    """Create a load balancing group; its identifier is generated (to configure the meter)."""
    return GroupOut.of(await container.groups.create(actor, site_id, body.to_domain()))


@router.get("/sites/{site_id}/groups", response_model=list[GroupOut])
async def list_groups(site_id: int, actor: ActorDep, container: ContainerDep) -> list[GroupOut]:
    return [GroupOut.of(g) for g in await container.groups.list_for_site(actor, site_id)]


@router.get("/sites/{site_id}/group-candidates", response_model=list[CandidateOut])
async def group_candidates(
    site_id: int,
    actor: ActorDep,
    container: ContainerDep,
    page: PageDep,
    search: Annotated[str, Query(max_length=100, description="address or serial number")] = "",
) -> list[CandidateOut]:
    """The site's charge points, each with the group it already belongs to, if any."""
    found = await container.groups.candidates(actor, site_id, search, page)
    return [
        CandidateOut(
            charge_point=ChargePointOut.of(c.charge_point),
            group_id=c.group_id,
            group_name=c.group_name,
        )
        for c in found
    ]


@router.get("/groups/{group_id}", response_model=GroupOut)
async def get_group(group_id: int, actor: ActorDep, container: ContainerDep) -> GroupOut:
    return GroupOut.of(await container.groups.get(actor, group_id))


@router.put("/groups/{group_id}", response_model=GroupOut)
async def update_group(
    group_id: int, body: GroupSettingsIn, actor: ActorDep, container: ContainerDep
) -> GroupOut:
    """General settings and meter settings."""
    return GroupOut.of(await container.groups.update_settings(actor, group_id, body.to_domain()))


@router.put("/groups/{group_id}/layout", response_model=GroupOut)
async def set_layout(
    group_id: int, body: LayoutIn, actor: ActorDep, container: ContainerDep
) -> GroupOut:
    """Add or remove charge points (all their connectors come along) and sub-groups."""
    return GroupOut.of(await container.groups.set_layout(actor, group_id, body.to_domain()))


@router.delete("/groups/{group_id}", status_code=204)
async def delete_group(group_id: int, actor: ActorDep, container: ContainerDep) -> Response:
    await container.groups.delete(actor, group_id)
    return Response(status_code=204)


class PhasesOut(BaseModel):
    l1: float
    l2: float
    l3: float

    @classmethod
    def of(cls, currents: PhaseCurrents) -> PhasesOut:
        return cls(
            l1=round(currents.l1_a, 2), l2=round(currents.l2_a, 2), l3=round(currents.l3_a, 2)
        )


class ConnectorLimitOut(BaseModel):
    charge_point_id: int
    connector_id: int
    limit_a: float = Field(description="the limit intended this cycle")
    delivered_a: float | None = Field(
        None, description="the highest limit the charger may be running on (acknowledged)"
    )
    binding: Binding = Field(description="the constraint that set the limit")
    node: str | None = None
    phase: int | None = None
    detail: str = ""


class LiveOut(BaseModel):
    at: datetime
    fail_safe: bool
    total_a: float
    limit: PhasesOut = Field(description="what the chargers may use together, per phase")
    building_load: PhasesOut | None
    charging: PhasesOut = Field(description="what the chargers draw, per grid phase")
    connectors: list[ConnectorLimitOut]


class HistoryPointOut(BaseModel):
    at: datetime
    fail_safe: bool
    limit: PhasesOut
    building_load: PhasesOut | None
    charging: PhasesOut


def _connectors(
    decisions: Mapping[ConnectorKey, ConnectorDecision], delivered: Mapping[ConnectorKey, float]
) -> list[ConnectorLimitOut]:
    return [
        ConnectorLimitOut(
            charge_point_id=int(key.charge_point_id),
            connector_id=key.connector_id,
            limit_a=decision.limit_a,
            delivered_a=delivered.get(key),
            binding=decision.binding,
            node=decision.node_id,
            phase=None if decision.phase is None else int(decision.phase),
            detail=decision.detail,
        )
        for key, decision in sorted(decisions.items())
    ]


@router.get("/groups/{group_id}/live", response_model=LiveOut | None)
async def live(group_id: int, actor: ActorDep, container: ContainerDep) -> LiveOut | None:
    """The last balancing cycle: limit, building load and charging current per phase, and
    each connector's limit with the constraint that bound it (null before the first)."""
    group = await container.groups.get(actor, group_id)
    view = container.balancing.view(group_id)
    if view is None:
        return None
    allocation = view.allocation
    return LiveOut(
        at=view.at,
        fail_safe=allocation.fail_safe,
        total_a=group.settings.total_a,
        limit=PhasesOut.of(allocation.available.per_node[ROOT_NODE]),
        building_load=None if view.building_load is None else PhasesOut.of(view.building_load),
        charging=PhasesOut.of(view.charging),
        connectors=_connectors(allocation.decisions, view.delivered_a),
    )


@router.get("/groups/{group_id}/history", response_model=list[HistoryPointOut])
async def history(
    group_id: int,
    actor: ActorDep,
    container: ContainerDep,
    minutes: Annotated[int, Query(ge=1, le=7 * 24 * 60)] = 60,
    points: Annotated[int, Query(ge=10, le=2000)] = 360,
) -> list[HistoryPointOut]:
    """Recorded decisions over the last ``minutes``, thinned to at most ``points``."""
    await container.groups.get(actor, group_id)
    until = container.clock.now()
    records = await container.balancing.recorder.history(
        group_id, until - timedelta(minutes=minutes), until, points
    )
    return [
        HistoryPointOut(
            at=r.at,
            fail_safe=r.fail_safe,
            limit=PhasesOut.of(r.available),
            building_load=None if r.building_load is None else PhasesOut.of(r.building_load),
            charging=PhasesOut.of(r.charging),
        )
        for r in records
    ]
