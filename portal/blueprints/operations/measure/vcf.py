"""Volume correction factors (VCF, "CTL") for petroleum liquids and for chemicals: a small pure module.

Petroleum liquids follow API MPMS Chapter 11.1 (2004) / ASTM D1250-04 / IP 200/04, "Temperature and
Pressure Volume Correction Factors for Generalized Crude Oils, Refined Products and Lubricating Oils",
temperature part only (pressure = 0 gauge, tanks at atmospheric pressure, so CPL = 1):

1. Temperatures are measured on ITS-90; the correlation was fitted on IPTS-68 (§11.1.5.3). A Celsius
   temperature t90 is shifted with tau = t90 / 630 and
       dt = (a1 + (a2 + (a3 + (a4 + (a5 + (a6 + (a7 + a8 tau) tau) tau) tau) tau) tau) tau) tau
       a1..a8 = -0.148759, -0.267408, 1.080760, 1.269056, -4.089591, -1.871251, 7.438081, -3.536296
   t68 = t90 - dt, and t*F = 1.8 t68 + 32.
2. The base density at 60 °F rho60 (kg/m³) is shifted to the IPTS-68 basis (§11.1.6.1, steps 3-4):
       A = delta60/2 * ((K0/rho60 + K1)/rho60 + K2),  B = (2 K0 + K1 rho60) / (K0 + (K1 + K2 rho60) rho60)
       rho* = rho60 * (1 + (exp(A (1 + 0.8 A)) - 1) / (1 + A (1 + 1.6 A) B)),   delta60 = 0.01374979547 °F
3. Thermal expansion coefficient at 60 °F: alpha60 = (K0/rho* + K1)/rho* + K2.
4. CTL = exp(-alpha60 dT (1 + 0.8 alpha60 (dT + delta60))),  dT = t*F - 60.0068749.

Commodity groups and their constants K0, K1, K2 (§11.1.2.4, Table 1 of the standard), rho60 in kg/m³:
- crude oil ("crude", tables 5A/6A/53A/54A/59A/60A): 341.0957, 0, 0
- refined products ("products", tables 5B/6B/53B/54B/59B/60B), by rho60:
  gasolines 610.6 <= rho60 < 770.3520: 192.4571, 0.2438, 0;  transition zone 770.3520 <= rho60 < 787.5195:
  1489.0670, 0, -0.00186840;  jet fuels 787.5195 <= rho60 < 838.3127: 330.3010, 0, 0;
  fuel oils 838.3127 <= rho60 <= 1163.5: 103.8720, 0.2701, 0
- lubricating oils ("lubricants", tables 5D/6D/53D/54D/59D/60D): 0, 0.34878, 0
Density limits at 60 °F: 610.6-1163.5 kg/m³ (lubricating oils 800.9-1163.5); temperature -50 °C to 150 °C.

Other base temperatures (§11.1.7): the base density at 15 °C (or 20 °C) is first converted to rho60 by
the observed-to-base iteration (§11.1.3.5, here a fixed-point iteration to 1e-10 kg/m³), then
CTL(t, base Tb) = CTL60(t) / CTL60(Tb). Tables 54A/B/D are this with Tb = 15 °C.

GB/T 1885-1998 "Petroleum measurement tables" (equivalent to ISO 91-2, base 20 °C, used in China) takes the
same correlation with a 20 °C base, computed through the 15 °C equations:
VCF20(t) = CTL15(t) / CTL15(20 °C), the density at 20 °C being converted to the density at 15 °C first.

Rounding (§11.1.5): inputs are rounded before use (temperature to 0.05 °C, density to 0.1 kg/m³); the
intermediate values are kept unrounded (double precision, as the standard specifies) and the factor is
rounded to 5 decimals, half away from zero.

The printed tables (ASTM D1250-80 / IP 200 Tables 54A/54B/54D at 15 °C, 60A/60B/60D at 20 °C, which
GB/T 1885-1998 adopts as its 表60A/60B/60D) give the factor to 4 decimals for temperatures in steps of
0.25 °C, and GB/T 1885-1998 reads them at the nearest tabulated temperature, without interpolating.
`vcf_as_printed` gives that figure (the equations at the nearest 0.25 °C, 4 decimals half up), for a CSR
who compares with a surveyor's paper calculation; the quantity itself uses the 5-decimal `vcf`. Within the
tables' range both agree with every published table value in the tests (`vcf_as_printed` exactly, `vcf`
to one unit of the 4th decimal, the difference coming from the 0.25 °C reading only).

Glass hydrometers (density tables 53x at 15 °C, 59x at 20 °C): the glass expands with temperature, so a
reading at t is first multiplied by the hydrometer correction of API MPMS 11.1-2004 (in °F
1 − 0.00001278 (t − 60) − 0.0000000062 (t − 60)²), in °C about the hydrometer's reference temperature tr
(the standard's base: 15 °C, or 20 °C for GB/T 1884 hydrometers): 1 − 0.000023 (t − tr) − 0.00000002 (t − tr)².
The printed 59A/59B values in the tests are met to their 0.1 kg/m³ only with this correction.

Chemicals and vegetable oils (no petroleum correlation): a linear expansion coefficient beta (1/°C)
per product, VCF = 1 - beta (t - Tb), rounded to 5 decimals.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

STANDARDS = {"astm": Decimal("15"), "gbt": Decimal("20")}  # base temperature (°C) of each standard
GROUPS = ("crude", "products", "lubricants")

DELTA60 = 0.01374979547  # °F, shift of the 60 °F base between ITS-90 and IPTS-68
T60_68 = 60.0068749  # 60 °F (ITS-90) on IPTS-68, in °F
_ITS90 = (-0.148759, -0.267408, 1.080760, 1.269056, -4.089591, -1.871251, 7.438081, -3.536296)

CRUDE = (341.0957, 0.0, 0.0)
GASOLINES = (192.4571, 0.2438, 0.0)
TRANSITION = (1489.0670, 0.0, -0.00186840)
JET = (330.3010, 0.0, 0.0)
FUEL_OILS = (103.8720, 0.2701, 0.0)
LUBRICANTS = (0.0, 0.34878, 0.0)

RHO60_MIN = {"crude": 610.6, "products": 610.6, "lubricants": 800.9}
RHO60_MAX = 1163.5
T_MIN, T_MAX = Decimal("-50"), Decimal("150")

FIVE = Decimal("0.00001")
FOUR = Decimal("0.0001")
PRINTED_STEP = Decimal("0.25")  # °C, temperature step of the printed 54x/60x tables
HYDROMETER = (0.000023, 0.00000002)  # glass hydrometer correction per °C and per °C² (API MPMS 11.1-2004)


class VcfError(ValueError):
    """An input outside the range of the standard (density, temperature, group)."""


@dataclass(frozen=True)
class Ctl60:
    """The intermediate values of one CTL at 60 °F base (unrounded)."""
    k: tuple[float, float, float]
    t68_f: float
    rho_star: float
    alpha60: float
    ctl: float


# --------------------------------------------------------------------------------- the 60 °F core

def group_for(vcf_group: str) -> str | None:
    """The commodity group of a product's volume-correction group text (e.g. "54B" -> "products")."""
    text = (vcf_group or "").strip().upper()
    if text in GROUPS or text.lower() in GROUPS:
        return text.lower()
    if len(text) >= 2 and text[-1] in "ABD" and text[:-1].isdigit():
        return {"A": "crude", "B": "products", "D": "lubricants"}[text[-1]]
    return None


def constants(group: str, rho60: float) -> tuple[float, float, float]:
    """K0, K1, K2 of a commodity group (refined products by their density at 60 °F)."""
    if group == "crude":
        return CRUDE
    if group == "lubricants":
        return LUBRICANTS
    if group == "products":
        if rho60 < 770.3520:
            return GASOLINES
        if rho60 < 787.5195:
            return TRANSITION
        if rho60 < 838.3127:
            return JET
        return FUEL_OILS
    raise VcfError(f"unknown commodity group {group!r}")


def its90_to_ipts68_f(t_f: float) -> float:
    """An ITS-90 temperature in °F on the IPTS-68 scale, in °F (§11.1.5.3)."""
    t90 = (t_f - 32.0) / 1.8
    tau = t90 / 630.0
    acc = 0.0
    for a in reversed(_ITS90):
        acc = (acc + a) * tau
    return 1.8 * (t90 - acc) + 32.0


def ctl60(group: str, rho60: float, t_f: float) -> Ctl60:
    """CTL from 60 °F to t (°F, ITS-90) for a base density rho60 (kg/m³), unrounded (§11.1.6.1)."""
    k0, k1, k2 = k = constants(group, rho60)
    a = DELTA60 / 2.0 * ((k0 / rho60 + k1) / rho60 + k2)
    b = (2.0 * k0 + k1 * rho60) / (k0 + (k1 + k2 * rho60) * rho60)
    rho_star = rho60 * (1.0 + (math.exp(a * (1.0 + 0.8 * a)) - 1.0) / (1.0 + a * (1.0 + 1.6 * a) * b))
    alpha60 = (k0 / rho_star + k1) / rho_star + k2
    t68 = its90_to_ipts68_f(t_f)
    dt = t68 - T60_68
    ctl = math.exp(-alpha60 * dt * (1.0 + 0.8 * alpha60 * (dt + DELTA60)))
    return Ctl60(k=k, t68_f=t68, rho_star=rho_star, alpha60=alpha60, ctl=ctl)


def _f(t_c: float) -> float:
    return t_c * 1.8 + 32.0


def rho60_from(group: str, rho: float, t_c: float) -> float:
    """The density at 60 °F of a liquid whose density at t_c (°C) is rho (§11.1.3.5 iteration)."""
    rho60 = rho
    for _ in range(100):
        nxt = rho / ctl60(group, rho60, _f(t_c)).ctl
        if abs(nxt - rho60) < 1e-10:
            return nxt
        rho60 = nxt
    return rho60


# ----------------------------------------------------------------------------- public, in Decimal

def round5(value: float) -> Decimal:
    return Decimal(repr(value)).quantize(FIVE, rounding=ROUND_HALF_UP)


def _inputs(density, temperature) -> tuple[float, float]:
    try:
        d = Decimal(str(density)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
        t = (Decimal(str(temperature)) * 20).quantize(Decimal("1"), rounding=ROUND_HALF_UP) / 20
    except ArithmeticError as exc:
        raise VcfError("density and temperature must be numbers") from exc
    if not T_MIN <= t <= T_MAX:
        raise VcfError(f"temperature {t} °C is outside -50 °C to 150 °C")
    return float(d), float(t)


def base_temperature(standard: str) -> Decimal:
    try:
        return STANDARDS[standard]
    except KeyError:
        raise VcfError(f"unknown standard {standard!r} (astm or gbt)") from None


def ctl_unrounded(standard: str, group: str, density, temperature) -> float:
    """CTL from the standard's base temperature to `temperature` (°C) for the density at the base, unrounded."""
    base = float(base_temperature(standard))
    rho_b, t = _inputs(density, temperature)
    if group not in GROUPS:
        raise VcfError(f"unknown commodity group {group!r}")
    # the base density at 15 °C: directly (astm), or from the density at 20 °C (gbt)
    rho60 = rho60_from(group, rho_b, base)
    if not RHO60_MIN[group] <= rho60 <= RHO60_MAX:
        raise VcfError(f"density {rho_b} kg/m³ is outside the range of the {group} tables")
    ctl15 = ctl60(group, rho60, _f(t)).ctl / ctl60(group, rho60, _f(15.0)).ctl
    if base == 15.0:
        return ctl15
    ctl15_base = ctl60(group, rho60, _f(base)).ctl / ctl60(group, rho60, _f(15.0)).ctl
    return ctl15 / ctl15_base


def vcf(standard: str, group: str, density, temperature) -> Decimal:
    """The volume correction factor (5 decimals) from `temperature` (°C) to the standard's base temperature,
    for a petroleum liquid of `group` whose density at the base temperature is `density` (kg/m³)."""
    return round5(ctl_unrounded(standard, group, density, temperature))


def vcf_linear(coefficient, temperature, base=Decimal("20")) -> Decimal:
    """VCF of a liquid with a linear expansion coefficient (1/°C): 1 - beta (t - base), 5 decimals."""
    beta = Decimal(str(coefficient))
    t = Decimal(str(temperature))
    if not T_MIN <= t <= T_MAX:
        raise VcfError(f"temperature {t} °C is outside -50 °C to 150 °C")
    if not Decimal("0") < beta < Decimal("0.01"):
        raise VcfError("the expansion coefficient must be between 0 and 0.01 per °C")
    factor = (1 - beta * (t - Decimal(base))).quantize(FIVE, rounding=ROUND_HALF_UP)
    if factor <= Decimal("0.5"):
        raise VcfError("the expansion coefficient and temperature give no sensible factor")
    return factor


def vcf_as_printed(standard: str, group: str, density, temperature) -> Decimal:
    """The factor as the printed tables give it: 4 decimals, read at the nearest tabulated temperature
    (0.25 °C steps, as GB/T 1885-1998 prescribes for reading its tables)."""
    try:
        t = (Decimal(str(temperature)) / PRINTED_STEP).quantize(Decimal("1"), rounding=ROUND_HALF_UP) * PRINTED_STEP
    except ArithmeticError as exc:
        raise VcfError("density and temperature must be numbers") from exc
    value = ctl_unrounded(standard, group, density, t)
    return Decimal(repr(value)).quantize(FOUR, rounding=ROUND_HALF_UP)


def hydrometer_correction(temperature: float, reference: float) -> float:
    """The factor a glass hydrometer reading at `temperature` is multiplied by (reference temperature of the
    hydrometer `reference`, °C): 1 − 0.000023 Δt − 0.00000002 Δt²."""
    dt = temperature - reference
    return 1.0 - HYDROMETER[0] * dt - HYDROMETER[1] * dt * dt


def density_at_base(standard: str, group: str, observed_density, observed_temperature,
                    glass_hydrometer: bool = False) -> Decimal:
    """The density at the standard's base temperature of a sample whose density at `observed_temperature` is
    `observed_density` (kg/m³), to 0.1 kg/m³. With `glass_hydrometer` the density is a glass hydrometer
    reading (calibrated at the standard's base temperature) and is corrected for the glass first, as the
    printed density tables 53x/59x do; without it, it is a density already corrected (e.g. an oscillating
    U-tube meter)."""
    rho, t = _inputs(observed_density, observed_temperature)
    if group not in GROUPS:
        raise VcfError(f"unknown commodity group {group!r}")
    base = float(base_temperature(standard))
    if glass_hydrometer:
        rho *= hydrometer_correction(t, base)
    rho60 = rho60_from(group, rho, t)
    rho_base = rho60 * ctl60(group, rho60, _f(base)).ctl
    return Decimal(repr(rho_base)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def linear_density_at_base(coefficient, observed_density, observed_temperature, base=Decimal("20")) -> Decimal:
    """Density at the base temperature with a linear expansion coefficient: rho_t / (1 - beta (t - base))."""
    factor = vcf_linear(coefficient, observed_temperature, base)
    return (Decimal(str(observed_density)) / factor).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
