"""Countries (ISO 3166-1 alpha-2), day-ahead bidding zones and time zones of sites."""

from __future__ import annotations

import zoneinfo
from functools import cache

from amphub.domain.errors import InvalidValue

# ISO 3166-1 alpha-2, officially assigned codes (249), plus XK (Kosovo, user-assigned but
# used by ENTSO-E and every European grid operator).
COUNTRY_CODES: frozenset[str] = frozenset(
    """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ
    BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM
    DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS
    GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN
    KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ
    MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM
    PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV
    SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI
    VN VU WF WS YE YT ZA ZM ZW XK
    """.split()  # noqa: SIM905 - a block of codes reads better than 250 strings
)

# Day-ahead bidding zones of the European single day-ahead coupling (and GB, IE's SEM),
# with the countries they lie in. A site's zone decides its spot price and PowerBank rules.
BIDDING_ZONE_COUNTRIES: dict[str, frozenset[str]] = {
    "DK1": frozenset({"DK"}),
    "DK2": frozenset({"DK"}),
    "SE1": frozenset({"SE"}),
    "SE2": frozenset({"SE"}),
    "SE3": frozenset({"SE"}),
    "SE4": frozenset({"SE"}),
    "NO1": frozenset({"NO"}),
    "NO2": frozenset({"NO"}),
    "NO3": frozenset({"NO"}),
    "NO4": frozenset({"NO"}),
    "NO5": frozenset({"NO"}),
    "FI": frozenset({"FI"}),
    "EE": frozenset({"EE"}),
    "LV": frozenset({"LV"}),
    "LT": frozenset({"LT"}),
    "PL": frozenset({"PL"}),
    "DE-LU": frozenset({"DE", "LU"}),
    "NL": frozenset({"NL"}),
    "BE": frozenset({"BE"}),
    "FR": frozenset({"FR", "MC", "AD"}),
    "AT": frozenset({"AT"}),
    "CH": frozenset({"CH", "LI"}),
    "CZ": frozenset({"CZ"}),
    "SK": frozenset({"SK"}),
    "HU": frozenset({"HU"}),
    "SI": frozenset({"SI"}),
    "HR": frozenset({"HR"}),
    "RO": frozenset({"RO"}),
    "BG": frozenset({"BG"}),
    "GR": frozenset({"GR"}),
    "ES": frozenset({"ES"}),
    "PT": frozenset({"PT"}),
    "IT-NORD": frozenset({"IT", "SM", "VA"}),
    "IT-CNOR": frozenset({"IT"}),
    "IT-CSUD": frozenset({"IT"}),
    "IT-SUD": frozenset({"IT"}),
    "IT-CALA": frozenset({"IT"}),
    "IT-SICI": frozenset({"IT"}),
    "IT-SARD": frozenset({"IT"}),
    "GB": frozenset({"GB", "IM", "JE", "GG"}),
    "IE": frozenset({"IE", "GB"}),  # the all-island SEM covers Northern Ireland too
    "RS": frozenset({"RS", "XK"}),
    "ME": frozenset({"ME"}),
    "MK": frozenset({"MK"}),
    "BA": frozenset({"BA"}),
}


def validate_country(code: str) -> str:
    """Return the upper-case ISO 3166 alpha-2 code, or raise naming the field."""
    normalised = code.strip().upper()
    if normalised not in COUNTRY_CODES:
        raise InvalidValue("country", f"{code!r} is not an ISO 3166-1 alpha-2 country code")
    return normalised


def validate_bidding_zone(zone: str, country: str) -> str:
    """Return the bidding zone if it exists and covers ``country``."""
    normalised = zone.strip().upper()
    countries = BIDDING_ZONE_COUNTRIES.get(normalised)
    if countries is None:
        known = ", ".join(sorted(BIDDING_ZONE_COUNTRIES))
        raise InvalidValue("bidding_zone", f"{zone!r} is not a known bidding zone ({known})")
    if country not in countries:
        raise InvalidValue(
            "bidding_zone", f"bidding zone {normalised} does not cover country {country}"
        )
    return normalised


@cache
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def validate_time_zone(name: str) -> str:
    """Return the IANA time zone name if the tz database knows it."""
    if name not in _time_zones():
        raise InvalidValue(
            "time_zone", f"{name!r} is not an IANA time zone (e.g. Europe/Copenhagen)"
        )
    return name
