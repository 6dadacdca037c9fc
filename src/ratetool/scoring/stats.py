"""Know your own measure: descriptive statistics, Cronbach's alpha and reliable-change thresholds
computed from the practitioner's own ratings (``ratetool stats``; formulas in docs/stats.md).

Pure functions over ratings and instrument definitions; the standard library only (variances
by ``math.fsum``, checked against ``statistics`` in the tests). Ratings are
the corrected view (voided ratings already left out); item scores are the scored values (a
reverse-worded item turned around), so the total is the instrument's total.

- Cronbach (1951): ``alpha = k / (k - 1) x (1 - sum(item variances) / variance of the total)``
  over complete ratings (every item answered), sample variances (n - 1).
- Feldt (1965), Feldt, Woodruff & Salih (1987): ``(1 - alpha) / (1 - alpha_hat)`` follows an F
  distribution with ``n - 1`` and ``(n - 1)(k - 1)`` degrees of freedom, so the 95 % interval is
  ``1 - (1 - alpha_hat) x F(.975)`` to ``1 - (1 - alpha_hat) x F(.025)``.
- Jacobson & Truax (1991): ``SEM = SD_total x sqrt(1 - alpha)``; the smallest reliable change is
  ``1.96 x sqrt(2) x SEM`` (``formulas.smallest_reliable_change``, the summary's own function).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from ratetool.instruments import Instrument, Norms
from ratetool.model import Rating
from ratetool.scoring.formulas import score_answers, smallest_reliable_change

#: Fewer clients than this: "too few for a stable estimate".
MIN_CLIENTS = 30
#: Alpha below this gets a note.
MIN_ALPHA = 0.70
#: A total ceiling above this percentage gets a note.
CEILING_NOTE_PCT = 40.0

NOTE_FEW = "too few for a stable estimate: fewer than {n} clients"
NOTE_LOW_ALPHA = "alpha below .70: the items do not hang together well as one total"
NOTE_CEILING = "most clients rate the maximum: a drop is the signal to watch"
NOTE_NO_ALPHA = "alpha cannot be computed: {why}"


# --------------------------------------------------------------------------------------------
# The F distribution, by hand (the standard library has none)


def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction for the incomplete beta function (Numerical Recipes, ``betacf``,
    modified Lentz's method)."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c = 1.0
    d = 1.0 - qab * x / qap
    d = tiny if abs(d) < tiny else d
    d = 1.0 / d
    h = d
    for m in range(1, 1000):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = tiny if abs(d) < tiny else d
        c = 1.0 + aa / c
        c = tiny if abs(c) < tiny else c
        d = 1.0 / d
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = tiny if abs(d) < tiny else d
        c = 1.0 + aa / c
        c = tiny if abs(c) < tiny else c
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-15:
            break
    return h


def betai(a: float, b: float, x: float) -> float:
    """The regularized incomplete beta function ``I_x(a, b)`` for ``0 <= x <= 1``."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    front = math.exp(log_front)
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, 1.0 - x) / b


def f_cdf(x: float, df1: float, df2: float) -> float:
    """P(F <= x) for an F distribution with ``df1`` and ``df2`` degrees of freedom."""
    if x <= 0.0:
        return 0.0
    return betai(df1 / 2.0, df2 / 2.0, df1 * x / (df1 * x + df2))


def f_quantile(p: float, df1: float, df2: float) -> float:
    """The ``p`` quantile of F(df1, df2), by bisection on ``f_cdf`` (to 1e-12 relative).

    E.g. ``f_quantile(0.975, 10, 20)`` is 2.7737 (the printed tables' value)."""
    if not 0.0 < p < 1.0:
        raise ValueError(f"p must be between 0 and 1, not {p!r}")
    low, high = 0.0, 1.0
    while f_cdf(high, df1, df2) < p:
        low, high = high, high * 2.0
        if high > 1e12:
            return math.inf
    for _ in range(200):
        mid = (low + high) / 2.0
        if f_cdf(mid, df1, df2) < p:
            low = mid
        else:
            high = mid
        if high - low <= 1e-12 * high:
            break
    return (low + high) / 2.0


# --------------------------------------------------------------------------------------------
# Alpha


def variance(values: Sequence[float]) -> float:
    """Sample variance (n - 1), two passes with ``math.fsum``: the same value as
    ``statistics.variance`` to float precision, ~20x quicker on 100,000 ratings (``statistics``
    sums exactly with fractions)."""
    n = len(values)
    mean = math.fsum(values) / n
    return math.fsum((v - mean) ** 2 for v in values) / (n - 1)


@dataclass(frozen=True, slots=True)
class Alpha:
    """Cronbach's alpha over ``n`` complete ratings; ``value`` is ``None`` when undefined (and
    ``why`` says why)."""

    n: int
    value: float | None
    ci_low: float | None = None
    ci_high: float | None = None
    if_dropped: dict[str, float | None] = field(default_factory=dict)
    why: str | None = None


def _alpha_of(item_vars: Sequence[float], totals: Sequence[float]) -> float | None:
    """``k / (k - 1) x (1 - sum of item variances / variance of the totals)``; ``None`` when
    the totals do not vary."""
    k = len(item_vars)
    total_var = variance(totals)
    if total_var == 0:
        return None
    return k / (k - 1) * (1 - math.fsum(item_vars) / total_var)


def _alpha_value(rows: Sequence[Sequence[float]]) -> tuple[float | None, str | None]:
    n = len(rows)
    k = len(rows[0]) if rows else 0
    if k < 2:
        return None, "it needs at least 2 items"
    if n < 2:
        return None, "it needs at least 2 complete ratings"
    item_vars = [variance([row[i] for row in rows]) for i in range(k)]
    value = _alpha_of(item_vars, [math.fsum(row) for row in rows])
    if value is None:
        return None, "every complete rating has the same total (no variance)"
    return value, None


def feldt_interval(alpha: float, n: int, k: int, level: float = 0.95) -> tuple[float, float]:
    """Feldt's confidence interval for alpha from ``n`` respondents and ``k`` items."""
    df1, df2 = n - 1, (n - 1) * (k - 1)
    tail = (1 - level) / 2
    low = 1 - (1 - alpha) * f_quantile(1 - tail, df1, df2)
    high = 1 - (1 - alpha) * f_quantile(tail, df1, df2)
    return low, high


def cronbach_alpha(rows: Sequence[Sequence[float]], item_ids: Sequence[str]) -> Alpha:
    """Alpha of the complete ``rows`` (one list of item scores per rating, in ``item_ids``'
    order), its 95 % Feldt interval and alpha with each item dropped."""
    n, k = len(rows), len(item_ids)
    value, why = _alpha_value(rows)
    if value is None:
        return Alpha(n=n, value=None, why=why)
    low: float | None = None
    high: float | None = None
    if n >= 3:
        low, high = feldt_interval(value, n, k)
    dropped: dict[str, float | None] = {}
    if k >= 3:
        # without item i: the other items' variances, and each total less item i's score
        item_vars = [variance([row[i] for row in rows]) for i in range(k)]
        totals = [math.fsum(row) for row in rows]
        for i, item_id in enumerate(item_ids):
            rest_vars = item_vars[:i] + item_vars[i + 1 :]
            rest_totals = [t - row[i] for t, row in zip(totals, rows, strict=True)]
            dropped[item_id] = _alpha_of(rest_vars, rest_totals)
    return Alpha(n=n, value=value, ci_low=low, ci_high=high, if_dropped=dropped)


# --------------------------------------------------------------------------------------------
# Descriptives


@dataclass(frozen=True, slots=True)
class Describe:
    """Mean, sample SD, min, max and % at the scale's ends of ``n`` scores."""

    n: int
    mean: float | None
    sd: float | None
    min: float | None
    max: float | None
    ceiling_pct: float | None
    floor_pct: float | None


def describe(values: Sequence[float], low: float, high: float) -> Describe:
    """``values`` described; ceiling/floor are the % of values equal to ``high`` / ``low``."""
    n = len(values)
    if n == 0:
        return Describe(0, None, None, None, None, None, None)
    return Describe(
        n=n,
        mean=math.fsum(values) / n,
        sd=math.sqrt(variance(values)) if n >= 2 else None,
        min=min(values),
        max=max(values),
        ceiling_pct=100 * sum(1 for v in values if v == high) / n,
        floor_pct=100 * sum(1 for v in values if v == low) / n,
    )


# --------------------------------------------------------------------------------------------
# One instrument version


@dataclass(frozen=True, slots=True)
class VersionStats:
    instrument: Instrument
    ratings: int
    clients: int
    complete: int
    with_skipped: int
    first_date: date | None
    last_date: date | None
    items: dict[str, Describe]
    total: Describe
    alpha_first: Alpha
    alpha_all: Alpha
    #: SD of the total over the first complete ratings (the sample of ``alpha_first``).
    sd_first: float | None
    sem: float | None
    rc_points: float | None
    rc_percent: float | None
    notes: list[str]


def total_range(instrument: Instrument) -> tuple[float, float]:
    k = len(instrument.items)
    return float(k * instrument.scale.min), float(k * instrument.scale.max)


def sem_and_rc(sd: float | None, alpha: float | None) -> tuple[float | None, float | None]:
    """``(SEM, smallest reliable change)`` in total-score points; ``None`` where undefined (no SD,
    no alpha, alpha outside [0, 1))."""
    if sd is None or alpha is None or not sd > 0 or not 0 <= alpha < 1:
        return None, None
    sem = sd * math.sqrt(1 - alpha)
    return sem, smallest_reliable_change(Norms(sd=sd, reliability=alpha, source=""))


def version_stats(instrument: Instrument, ratings: Sequence[Rating]) -> VersionStats:
    """Everything ``ratetool stats`` shows for one instrument version, from its ``ratings``
    (the corrected view, already filtered)."""
    ordered = sorted(ratings, key=lambda r: (r.rated_at, r.client, r.session))
    item_ids = instrument.item_ids
    scale = instrument.scale
    per_item: dict[str, list[float]] = {i: [] for i in item_ids}
    totals: list[float] = []
    all_rows: list[list[float]] = []
    first_rows: list[list[float]] = []
    first_totals: list[float] = []
    seen_first: set[str] = set()
    with_skipped = 0
    for rating in ordered:
        scores = score_answers(instrument, rating.answers)
        if rating.skipped or len(rating.answers) < len(item_ids):
            with_skipped += 1
        for item_id, score in scores.items.items():
            if score is not None:
                per_item[item_id].append(score)
        if scores.total is not None:
            row = [scores.items[i] or 0.0 for i in item_ids]
            totals.append(scores.total)
            all_rows.append(row)
            if rating.client not in seen_first:
                seen_first.add(rating.client)
                first_rows.append(row)
                first_totals.append(scores.total)
    low, high = total_range(instrument)
    clients = len({r.client for r in ordered})
    alpha_first = cronbach_alpha(first_rows, item_ids)
    alpha_all = cronbach_alpha(all_rows, item_ids)
    sd_first = math.sqrt(variance(first_totals)) if len(first_totals) >= 2 else None
    sem, rc = sem_and_rc(sd_first, alpha_first.value)
    rc_percent = None if rc is None else rc / (high - low) * 100
    total = describe(totals, low, high)
    notes: list[str] = []
    if clients < MIN_CLIENTS:
        notes.append(NOTE_FEW.format(n=MIN_CLIENTS))
    if alpha_first.value is None:
        notes.append(NOTE_NO_ALPHA.format(why=alpha_first.why))
    elif alpha_first.value < MIN_ALPHA:
        notes.append(NOTE_LOW_ALPHA)
    if total.ceiling_pct is not None and total.ceiling_pct > CEILING_NOTE_PCT:
        notes.append(NOTE_CEILING)
    days = [r.rated_at.date() for r in ordered]
    return VersionStats(
        instrument=instrument,
        ratings=len(ordered),
        clients=clients,
        complete=len(totals),
        with_skipped=with_skipped,
        first_date=min(days) if days else None,
        last_date=max(days) if days else None,
        items={i: describe(per_item[i], scale.min, scale.max) for i in item_ids},
        total=total,
        alpha_first=alpha_first,
        alpha_all=alpha_all,
        sd_first=sd_first,
        sem=sem,
        rc_points=rc,
        rc_percent=rc_percent,
        notes=notes,
    )


def select(
    ratings: Iterable[Rating],
    *,
    instrument: str | None = None,
    since: date | None = None,
    practitioner: str | None = None,
) -> dict[tuple[str, int], list[Rating]]:
    """The ratings that pass the filters, grouped by (instrument id, version), sorted."""
    groups: dict[tuple[str, int], list[Rating]] = {}
    for rating in ratings:
        if instrument is not None and rating.instrument != instrument:
            continue
        if since is not None and rating.rated_at.date() < since:
            continue
        if practitioner is not None and rating.practitioner != practitioner:
            continue
        groups.setdefault((rating.instrument, rating.instrument_version), []).append(rating)
    return dict(sorted(groups.items()))


def all_stats(
    ratings: Iterable[Rating],
    resolve: Callable[[str, int], Instrument | None],
    *,
    instrument: str | None = None,
    since: date | None = None,
    practitioner: str | None = None,
) -> tuple[list[VersionStats], list[tuple[str, int]]]:
    """Stats per instrument version, and the versions with no definition (not computed)."""
    out: list[VersionStats] = []
    missing: list[tuple[str, int]] = []
    groups = select(ratings, instrument=instrument, since=since, practitioner=practitioner)
    for (iid, version), group in groups.items():
        definition = resolve(iid, version)
        if definition is None:
            missing.append((iid, version))
        else:
            out.append(version_stats(definition, group))
    return out, missing


# --------------------------------------------------------------------------------------------
# JSON and norms


def _r(value: float | None, places: int = 4) -> float | None:
    return None if value is None else round(value, places)


def _describe_json(d: Describe) -> dict[str, object]:
    return {
        "n": d.n,
        "mean": _r(d.mean),
        "sd": _r(d.sd),
        "min": d.min,
        "max": d.max,
        "ceiling_pct": _r(d.ceiling_pct, 1),
        "floor_pct": _r(d.floor_pct, 1),
    }


def _alpha_json(a: Alpha) -> dict[str, object]:
    return {
        "n": a.n,
        "alpha": _r(a.value),
        "ci95": None if a.ci_low is None else [_r(a.ci_low), _r(a.ci_high)],
        "if_dropped": {k: _r(v) for k, v in a.if_dropped.items()},
        "why_missing": a.why,
    }


def stats_json(stats: VersionStats) -> dict[str, object]:
    """The documented JSON of one instrument version (docs/stats.md)."""
    ins = stats.instrument
    low, high = total_range(ins)
    return {
        "instrument": ins.id,
        "version": ins.version,
        "title": ins.title,
        "scale": {"min": ins.scale.min, "max": ins.scale.max},
        "total_range": {"min": low, "max": high},
        "counts": {
            "ratings": stats.ratings,
            "clients": stats.clients,
            "complete_ratings": stats.complete,
            "ratings_with_skipped_items": stats.with_skipped,
            "first_date": None if stats.first_date is None else stats.first_date.isoformat(),
            "last_date": None if stats.last_date is None else stats.last_date.isoformat(),
        },
        "items": {k: _describe_json(v) for k, v in stats.items.items()},
        "total": _describe_json(stats.total),
        "alpha_first_rating_per_client": _alpha_json(stats.alpha_first),
        "alpha_all_ratings": _alpha_json(stats.alpha_all),
        "sd_total_first_ratings": _r(stats.sd_first),
        "sem": _r(stats.sem),
        "smallest_reliable_change": {
            "points": _r(stats.rc_points),
            "percent_of_range": _r(stats.rc_percent, 2),
        },
        "notes": list(stats.notes),
    }


def norms_source(stats: VersionStats) -> str:
    """``own data: n = 42 clients, 2026-01-05 to 2026-11-30``."""
    first = stats.first_date.isoformat() if stats.first_date else "?"
    last = stats.last_date.isoformat() if stats.last_date else "?"
    return f"own data: n = {stats.alpha_first.n} clients, {first} to {last}"


def norms_from(stats: VersionStats) -> Norms:
    """The ``[norms]`` these stats give; raises ``ValueError`` when they give none."""
    sd, alpha = stats.sd_first, stats.alpha_first.value
    if sd is None or alpha is None or not sd > 0 or not 0 < alpha < 1:
        raise ValueError(
            "no norms can be written: the SD of the total and an alpha between 0 and 1 (not 0 or "
            "1 themselves) are needed"
        )
    low, high = total_range(stats.instrument)
    if sd > (high - low) / 2:
        raise ValueError(
            f"no norms can be written: the SD of the total ({sd:.4g}) is more than half its range, "
            "which only happens with very few clients"
        )
    return Norms(sd=round(sd, 4), reliability=round(alpha, 4), source=norms_source(stats))


def with_norms(text: str, norms: Norms, *, force: bool = False) -> str:
    """The TOML ``text`` of an instrument definition with ``[norms]`` set to ``norms``.

    Without an existing ``[norms]`` the section is appended, so the file's comments stay. With one,
    ``ValueError`` unless ``force``; then the file is written again from its parsed data (its
    comments are lost, its content is kept)."""
    import tomllib

    import tomli_w

    data = tomllib.loads(text)
    table = {"sd": norms.sd, "reliability": norms.reliability, "source": norms.source}
    if "norms" in data:
        if not force:
            raise ValueError("it already has a [norms] section")
        data["norms"] = table
        return tomli_w.dumps(data)
    section = tomli_w.dumps({"norms": table})
    return text.rstrip("\n") + "\n\n# Written by `ratetool stats --write-norms`.\n" + section
