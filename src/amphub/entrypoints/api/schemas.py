"""The API's shapes, converted to and from domain values at this edge only."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from amphub.application.uow import StoredAuditEntry
from amphub.domain.roles import Membership, Role
from amphub.domain.tenancy import (
    Address,
    ChargePoint,
    ChargePointSpec,
    ConnectorSpec,
    Operator,
    Site,
    SiteSpec,
    Team,
    User,
)
from amphub.domain.units import PhaseRotation


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TokenRequest(Strict):
    email: str = Field(max_length=254)
    password: str = Field(max_length=256)
    label: str = Field("", max_length=100)


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type


class NameIn(Strict):
    name: str = Field(min_length=1, max_length=200)


class OperatorOut(BaseModel):
    id: int
    name: str

    @classmethod
    def of(cls, operator: Operator) -> OperatorOut:
        return cls(id=operator.id, name=operator.name)


class TeamOut(BaseModel):
    id: int
    operator_id: int
    name: str

    @classmethod
    def of(cls, team: Team) -> TeamOut:
        return cls(id=team.id, operator_id=team.operator_id, name=team.name)


class AddressModel(Strict):
    street: str = Field("", max_length=200)
    postal_code: str = Field("", max_length=20)
    city: str = Field("", max_length=100)

    def to_domain(self) -> Address:
        return Address(self.street.strip(), self.postal_code.strip(), self.city.strip())

    @classmethod
    def of(cls, address: Address) -> AddressModel:
        return cls(street=address.street, postal_code=address.postal_code, city=address.city)


class SiteIn(Strict):
    name: str = Field(max_length=200)
    country: str = Field(max_length=10, description="ISO 3166-1 alpha-2, e.g. DK")
    bidding_zone: str = Field(max_length=10, description="day-ahead bidding zone, e.g. DK2")
    time_zone: str = Field(max_length=64, description="IANA time zone, e.g. Europe/Copenhagen")
    address: AddressModel = Field(default_factory=AddressModel)

    def to_domain(self) -> SiteSpec:
        return SiteSpec(
            name=self.name,
            country=self.country,
            bidding_zone=self.bidding_zone,
            time_zone=self.time_zone,
            address=self.address.to_domain(),
        )


class SiteOut(BaseModel):
    id: int
    team_id: int
    operator_id: int
    name: str
    country: str
    bidding_zone: str
    time_zone: str
    address: AddressModel

    @classmethod
    def of(cls, site: Site) -> SiteOut:
        spec = site.spec
        return cls(
            id=site.id,
            team_id=site.team_id,
            operator_id=site.operator_id,
            name=spec.name,
            country=spec.country,
            bidding_zone=spec.bidding_zone,
            time_zone=spec.time_zone,
            address=AddressModel.of(spec.address),
        )


class ConnectorModel(Strict):
    connector_id: int = Field(ge=1, le=100)
    phases: int = Field(3, description="1 or 3")
    phase_rotation: PhaseRotation = PhaseRotation.L1L2L3
    min_current_a: float = Field(6.0, ge=0, le=1000)
    max_current_a: float = Field(32.0, ge=0, le=1000)
    priority: int = Field(0, ge=-100, le=100)

    def to_domain(self) -> ConnectorSpec:
        return ConnectorSpec(
            connector_id=self.connector_id,
            phases=self.phases,
            phase_rotation=self.phase_rotation,
            min_current_a=self.min_current_a,
            max_current_a=self.max_current_a,
            priority=self.priority,
        )

    @classmethod
    def of(cls, connector: ConnectorSpec) -> ConnectorModel:
        return cls(
            connector_id=connector.connector_id,
            phases=connector.phases,
            phase_rotation=connector.phase_rotation,
            min_current_a=connector.min_current_a,
            max_current_a=connector.max_current_a,
            priority=connector.priority,
        )


class ChargePointIn(Strict):
    ocpp_identity: str = Field(max_length=48)
    serial_number: str = Field(max_length=64)
    brand: str = Field("", max_length=50)
    model: str = Field("", max_length=50)
    firmware_version: str = Field("", max_length=50)
    address: AddressModel = Field(default_factory=AddressModel)
    connectors: list[ConnectorModel] = Field(
        default_factory=lambda: [ConnectorModel(connector_id=1)], max_length=100
    )

    def to_domain(self) -> ChargePointSpec:
        return ChargePointSpec(
            ocpp_identity=self.ocpp_identity,
            serial_number=self.serial_number,
            connectors=tuple(connector.to_domain() for connector in self.connectors),
            brand=self.brand,
            model=self.model,
            firmware_version=self.firmware_version,
            address=self.address.to_domain(),
        )


class ChargePointUpdate(ChargePointIn):
    site_id: int | None = Field(None, description="move to this site (same operator)")


class ChargePointOut(BaseModel):
    id: int
    site_id: int
    team_id: int
    operator_id: int
    ocpp_identity: str
    serial_number: str
    brand: str
    model: str
    firmware_version: str
    address: AddressModel
    connectors: list[ConnectorModel]
    created_at: datetime

    @classmethod
    def of(cls, charge_point: ChargePoint) -> ChargePointOut:
        spec = charge_point.spec
        return cls(
            id=charge_point.id,
            site_id=charge_point.site_id,
            team_id=charge_point.team_id,
            operator_id=charge_point.operator_id,
            ocpp_identity=spec.ocpp_identity,
            serial_number=spec.serial_number,
            brand=spec.brand,
            model=spec.model,
            firmware_version=spec.firmware_version,
            address=AddressModel.of(spec.address),
            connectors=[ConnectorModel.of(connector) for connector in spec.connectors],
            created_at=charge_point.created_at,
        )


class MembershipIn(Strict):
    user_id: int = Field(ge=1)
    team_id: int | None = None
    role: Role
    can_configure_charge_points: bool = False


class MembershipOut(BaseModel):
    user_id: int
    email: str
    operator_id: int
    team_id: int | None
    role: Role
    can_configure_charge_points: bool

    @classmethod
    def of(cls, membership: Membership, user: User) -> MembershipOut:
        return cls(
            user_id=membership.user_id,
            email=user.email,
            operator_id=membership.operator_id,
            team_id=membership.team_id,
            role=membership.role,
            can_configure_charge_points=membership.can_configure_charge_points,
        )


class MeOut(BaseModel):
    user_id: int | None
    email: str
    memberships: list[dict[str, Any]]


class AuditOut(BaseModel):
    id: int
    at: datetime
    actor: str
    operator_id: int | None
    team_id: int | None
    action: str
    object_type: str
    object_id: str
    old_value: dict[str, Any] | None
    new_value: dict[str, Any] | None

    @classmethod
    def of(cls, stored: StoredAuditEntry) -> AuditOut:
        entry = stored.entry
        return cls(
            id=stored.id,
            at=entry.at,
            actor=entry.actor,
            operator_id=entry.operator_id,
            team_id=entry.team_id,
            action=entry.action,
            object_type=entry.object_type,
            object_id=entry.object_id,
            old_value=entry.old_value,
            new_value=entry.new_value,
        )


class ChargePointCreatedOut(ChargePointOut):
    ocpp_password: str = Field(
        description="shown once: the charger's OCPP Basic-auth password (security profile 1/2)"
    )


class ChargePointPasswordOut(BaseModel):
    ocpp_identity: str
    ocpp_password: str = Field(description="shown once; the old password stops working")
