"""JSON Lines export: one JSON object per line (``\\n``), UTF-8, for scripts.

Each record has the fields of a CSV row, with answers kept apart from scores::

    {"id": "...", "client": "C-014", "session": 3, "rated_at": "2026-11-03T10:50:00+01:00",
     "instrument": "checkin", "instrument_version": 1, "practitioner": "AB",
     "status": "completed", "answers": {"empathy": 8, ...}, "skipped": [], "dimensions": {"empathy": 8.0, ...},
     "overall": 8.5, "pomp": 85.0, "total": 34,
     "alerts": [{"kind": "low", "reason": "overall 85.0%, below 90%"}], "comment": null}

Numbers are JSON numbers, rounded as every table shows them; a missing score is ``null``; a
skipped item is listed in ``skipped`` and absent from ``answers``. ``status`` is ``completed``,
``amended`` or ``entered-in-error`` (the last only with ``--include-voided``). Text is never escaped here:
JSON is not opened by spreadsheets.
"""

from __future__ import annotations

import json
from typing import Any

from ratetool.csvformat import score_value
from ratetool.exporters import ExportData
from ratetool.scoring import SessionScore


def record(score: SessionScore) -> dict[str, Any]:
    r = score.rating
    return {
        "id": r.id,
        "client": r.client,
        "session": r.session,
        "rated_at": r.rated_at.isoformat(),
        "instrument": r.instrument,
        "instrument_version": r.instrument_version,
        "practitioner": r.practitioner,
        "status": r.status,
        "answers": dict(r.answers),
        "skipped": list(r.skipped),
        "dimensions": {d: score_value(v, "dimension") for d, v in score.dimensions.items()},
        "overall": score_value(score.overall, "overall"),
        "pomp": score_value(score.pomp, "pomp"),
        "total": score_value(score.total, "total"),
        "alerts": [{"kind": a.kind, "reason": a.reason} for a in score.alerts],
        "comment": r.comment,
    }


def to_jsonl(data: ExportData) -> bytes:
    lines = [json.dumps(record(s), ensure_ascii=False) + "\n" for s in data.sessions]
    return "".join(lines).encode("utf-8")
