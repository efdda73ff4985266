"""The scoring formula: pure functions over a frozen metrics snapshot (no database).

A formula version (`FormulaVersion`) is data:

    components: [
      {"code": "survey_trace", "label": "排查溯源完成率", "method": "ratio", "weight": "20",
       "metric": "survey_trace", "numerator": ["traced"], "denominator": ["traced", "untraced"],
       "full_at": "1", "zero_at": "0", "empty": "full"},
      {"code": "overdue", "label": "逾期督办", "method": "deduct", "weight": "20",
       "metric": "overdue", "per": {"L1": "1", "L2": "2", "L3": "4"}},
      ...
    ]
    grades: [{"code": "excellent", "label": "优秀", "min": "90"}, ..., {"code": "fail", ...}]

- `ratio`: r = Σ numerator / Σ denominator of the metric's numbers; the points are
  weight × (r - zero_at) / (full_at - zero_at), clamped to [0, weight] (thresholds: full
  marks from `full_at`, none at or below `zero_at`). An empty denominator scores `empty`
  ("full" or "zero").
- `deduct`: weight - Σ count × per-item points, never below 0.

Points are rounded to 2 decimals (half up) per component; the score is their sum; the grade
is the first whose `min` the score reaches. The same snapshot and version always give the
same result: that is how a frozen assessment "recomputes to its score".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

CENT = Decimal("0.01")
METHODS = ("ratio", "deduct")


class FormulaError(ValueError):
    """A formula definition that cannot be used (shown to the administrator)."""


def dec(value: Any) -> Decimal:
    try:
        return Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError) as exc:
        raise FormulaError(f"not a number: {value!r}") from exc


def points(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Grade:
    code: str
    label: str


def validate(components: Sequence[Mapping], grades: Sequence[Mapping], metrics: Mapping) -> None:
    """Refuse a definition that cannot score: unknown metric/number, bad weights or grades.

    `metrics`: metric code → the numbers it has (`metrics.METRIC_NUMBERS`).
    """
    if not components:
        raise FormulaError("a formula needs at least one component")
    codes = [c.get("code") for c in components]
    if len(set(codes)) != len(codes) or not all(codes):
        raise FormulaError("component codes must be present and unique")
    total = Decimal(0)
    for c in components:
        code = c["code"]
        if c.get("method") not in METHODS:
            raise FormulaError(f"{code}: method must be one of {', '.join(METHODS)}")
        if not str(c.get("label") or "").strip():
            raise FormulaError(f"{code}: a label is required")
        weight = dec(c.get("weight"))
        if weight <= 0:
            raise FormulaError(f"{code}: the weight must be positive")
        total += weight
        metric = c.get("metric")
        if metric not in metrics:
            raise FormulaError(f"{code}: unknown metric {metric!r}")
        known = set(metrics[metric])
        if c["method"] == "ratio":
            for part in ("numerator", "denominator"):
                names = c.get(part) or []
                if not names or set(names) - known:
                    raise FormulaError(f"{code}: {part} must name numbers of {metric}")
            full_at, zero_at = dec(c.get("full_at", 1)), dec(c.get("zero_at", 0))
            if not (0 <= zero_at < full_at <= 1):
                raise FormulaError(f"{code}: thresholds need 0 ≤ zero_at < full_at ≤ 1")
            if c.get("empty", "full") not in ("full", "zero"):
                raise FormulaError(f"{code}: empty must be 'full' or 'zero'")
        else:
            per = c.get("per") or {}
            if not per or set(per) - known:
                raise FormulaError(f"{code}: per must map numbers of {metric} to points")
            for value in per.values():
                if dec(value) < 0:
                    raise FormulaError(f"{code}: points per item cannot be negative")
    if total != 100:
        raise FormulaError(f"the weights add up to {total}, not 100")
    if not grades:
        raise FormulaError("a formula needs grades")
    minimums = [dec(g.get("min")) for g in grades]
    if minimums != sorted(minimums, reverse=True) or len(set(minimums)) != len(minimums):
        raise FormulaError("grades must be listed from the highest minimum down")
    if minimums[-1] != 0:
        raise FormulaError("the lowest grade must start at 0")
    for g in grades:
        if not g.get("code") or not str(g.get("label") or "").strip():
            raise FormulaError("every grade needs a code and a label")


def _number(metrics: Mapping, metric: str, name: str) -> int:
    return int(metrics.get(metric, {}).get(name, 0) or 0)


def score_component(component: Mapping, metrics: Mapping) -> dict[str, Any]:
    """One component's points and how they were computed (JSON-ready strings)."""
    weight = dec(component["weight"])
    metric = component["metric"]
    result: dict[str, Any] = {
        "code": component["code"],
        "label": component["label"],
        "method": component["method"],
        "metric": metric,
        "weight": str(weight),
    }
    if component["method"] == "ratio":
        numerator = sum(_number(metrics, metric, n) for n in component["numerator"])
        denominator = sum(_number(metrics, metric, n) for n in component["denominator"])
        full_at, zero_at = dec(component.get("full_at", 1)), dec(component.get("zero_at", 0))
        result.update(
            numerator=numerator,
            denominator=denominator,
            numerator_keys=list(component["numerator"]),
            denominator_keys=list(component["denominator"]),
            full_at=str(full_at),
            zero_at=str(zero_at),
        )
        if denominator == 0:
            earned = weight if component.get("empty", "full") == "full" else Decimal(0)
            result.update(rate=None, empty=True)
        else:
            rate = Decimal(numerator) / Decimal(denominator)
            share = (rate - zero_at) / (full_at - zero_at)
            share = min(Decimal(1), max(Decimal(0), share))
            earned = weight * share
            result.update(rate=str(points(rate * 100)), empty=False)
    else:
        items = []
        deduction = Decimal(0)
        for name, each in component["per"].items():
            count = _number(metrics, metric, name)
            each = dec(each)
            items.append({"key": name, "count": count, "each": str(each)})
            deduction += each * count
        earned = max(Decimal(0), weight - deduction)
        result.update(items=items, deduction=str(points(deduction)))
    result["points"] = str(points(earned))
    return result


def grade_for(score: Decimal, grades: Sequence[Mapping]) -> Grade:
    for g in grades:
        if score >= dec(g["min"]):
            return Grade(g["code"], g["label"])
    last = grades[-1]
    return Grade(last["code"], last["label"])


@dataclass(frozen=True)
class Result:
    components: list[dict[str, Any]]
    score: Decimal
    grade: Grade


def evaluate(
    components: Sequence[Mapping],
    grades: Sequence[Mapping],
    metrics: Mapping,
    adjustments: Mapping[str, Decimal] | None = None,
) -> Result:
    """Score a snapshot; `adjustments` (component code → points) replace computed points."""
    rows = [score_component(c, metrics) for c in components]
    for row in rows:
        row["computed_points"] = row["points"]
        if adjustments and row["code"] in adjustments:
            row["points"] = str(points(dec(adjustments[row["code"]])))
            row["adjusted"] = True
    score = sum((dec(r["points"]) for r in rows), Decimal(0))
    score = points(score)
    return Result(rows, score, grade_for(score, grades))
