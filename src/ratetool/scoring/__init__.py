"""Scores, trends and alerts from ratings: pure functions, no I/O, no Typer or rich.

The rules are written for practitioners in docs/scoring.md; each module below states the part it
implements in its docstring, in the same words: keep them the same. The rooms, in the order the
numbers flow, each re-exported here so callers import from ``ratetool.scoring``:

- ``rounding``: ``round_score``, the one rounding rule every table, JSON output and export uses.
- ``formulas``: the scores of one set of answers (``score_answers``) and reliable change.
- ``alerts``: ``Thresholds`` and the alerts of a session, decided on the rounded numbers.
- ``client``: ``score_client``, one client's sessions with trends, changes and alerts.
- ``attention``: ``attention_order``, who needs attention first in the caseload.
"""

from ratetool.places import PLACES, places_for
from ratetool.scoring.alerts import (
    ALERT_KINDS,
    Alert,
    Thresholds,
    drop_alert,
    item_alert,
    low_alert,
    reliable_change_alert,
)
from ratetool.scoring.attention import attention_key, attention_order
from ratetool.scoring.client import ClientScores, SessionScore, score_client
from ratetool.scoring.formulas import (
    CHANGE_DIRECTIONS,
    RC_CRITICAL,
    AnswerScores,
    ReliableChange,
    item_percent,
    reliable_change_index,
    reverse_score,
    score_answers,
    smallest_reliable_change,
)
from ratetool.scoring.rounding import round_score, shown_change

__all__ = [
    "ALERT_KINDS",
    "CHANGE_DIRECTIONS",
    "PLACES",
    "RC_CRITICAL",
    "Alert",
    "AnswerScores",
    "ClientScores",
    "ReliableChange",
    "SessionScore",
    "Thresholds",
    "attention_key",
    "attention_order",
    "drop_alert",
    "item_alert",
    "item_percent",
    "low_alert",
    "places_for",
    "reliable_change_alert",
    "reliable_change_index",
    "reverse_score",
    "round_score",
    "score_answers",
    "score_client",
    "shown_change",
    "smallest_reliable_change",
]
