"""What a stored statement tells about learning: the competencies it evidences, correctness, time on task.

Pure functions over the statement JSON. Competencies come from the activity definition's or the
context's extensions (`https://plp.dev/xapi/extensions/competency`: one CASE item id or a list);
correctness from `result.success`, else `result.score.scaled` (at or above `CORRECT_FROM`).
"""

import re
from dataclasses import dataclass
from typing import Any

COMPETENCY_EXTENSION = "https://plp.dev/xapi/extensions/competency"
FRAMEWORK_EXTENSION = "https://plp.dev/xapi/extensions/framework"
CORRECT_FROM = 0.5
"""A scaled score at or above this counts as a correct response when `success` is absent."""

_DURATION = re.compile(
    r"^P(?:(?P<weeks>\d+(?:\.\d+)?)W)?(?:(?P<days>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<hours>\d+(?:\.\d+)?)H)?(?:(?P<minutes>\d+(?:\.\d+)?)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)
_SECONDS = {"weeks": 604_800, "days": 86_400, "hours": 3_600, "minutes": 60, "seconds": 1}


@dataclass(frozen=True, slots=True)
class Evidence:
    """The learning signal of one statement."""

    competencies: tuple[str, ...]
    framework_id: str | None
    correct: bool | None
    score: float | None
    seconds: float | None


def _extension_values(statement: dict[str, Any], key: str) -> list[str]:
    found: list[str] = []
    definition = statement.get("object", {}).get("definition") or {}
    context = statement.get("context") or {}
    for extensions in ((definition.get("extensions") or {}), (context.get("extensions") or {})):
        value = extensions.get(key)
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, list):
            found.extend(v for v in value if isinstance(v, str))
    return found


def duration_seconds(duration: str) -> float | None:
    """Seconds in an ISO 8601 duration of days, hours, minutes and seconds (months and years are not counted)."""
    match = _DURATION.match(duration)
    if match is None:
        return None
    return sum(float(value) * _SECONDS[name] for name, value in match.groupdict().items() if value)


def evidence_of(statement: dict[str, Any]) -> Evidence:
    """The competencies, correctness, score and time on task a statement reports."""
    competencies = tuple(dict.fromkeys(_extension_values(statement, COMPETENCY_EXTENSION)))
    frameworks = _extension_values(statement, FRAMEWORK_EXTENSION)
    result = statement.get("result") or {}
    scaled = (result.get("score") or {}).get("scaled")
    score = float(scaled) if isinstance(scaled, int | float) and not isinstance(scaled, bool) else None
    success = result.get("success")
    correct = success if isinstance(success, bool) else (score >= CORRECT_FROM if score is not None else None)
    duration = result.get("duration")
    return Evidence(
        competencies=competencies,
        framework_id=frameworks[0] if frameworks else None,
        correct=correct,
        score=score,
        seconds=duration_seconds(duration) if isinstance(duration, str) else None,
    )
