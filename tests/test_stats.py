"""``ratetool stats``: know your own measure (docs/stats.md), against hand-computed values."""

from __future__ import annotations

import json
import math
from datetime import UTC
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ratetool.cli import app
from ratetool.instruments import load_instrument_file
from ratetool.scoring.stats import (
    NOTE_CEILING,
    NOTE_LOW_ALPHA,
    cronbach_alpha,
    describe,
    f_quantile,
    feldt_interval,
    sem_and_rc,
    version_stats,
)

runner = CliRunner()

TRI = (
    'id = "tri"\nversion = 1\ntitle = "Three items"\nintro = "Three questions."\n'
    "allow_skip = true\n"
    '[scale]\nmin = 1\nmax = 5\nmin_label = "never"\nmax_label = "always"\n'
    '[dimensions]\na = "A"\nb = "B"\nc = "C"\n'
    '[[items]]\nid = "a"\ndimension = "a"\ntext = "A?"\n'
    '[[items]]\nid = "b"\ndimension = "b"\ntext = "B?"\n'
    '[[items]]\nid = "c"\ndimension = "c"\ntext = "C?"\n'
)

# The hand-computed matrix: 5 clients' first ratings of 3 items (1-5).
#   C-001 1 2 2 total  5
#   C-002 2 3 3        8
#   C-003 3 3 4       10
#   C-004 4 4 4       12
#   C-005 5 5 5       15
# item variances (n - 1): a 10/4 = 2.5, b 5.2/4 = 1.3, c 5.2/4 = 1.3; sum 5.1
# total: mean 10, squared deviations 25+4+0+4+25 = 58, variance 14.5, SD sqrt(14.5) = 3.8079
# alpha = 3/2 x (1 - 5.1/14.5) = 14.1/14.5 = 0.97241; 1 - alpha = 0.4/14.5
# Feldt, df 4 and 8: F(.975; 4, 8) = 5.0526, F(.025; 4, 8) = 1/F(.975; 8, 4) = 1/8.9796 = 0.11136
#   lower 1 - 0.027586 x 5.0526 = 0.86062, upper 1 - 0.027586 x 0.11136 = 0.99693
# alpha without a: b and c, variances 1.3 + 1.3, totals 4 6 7 8 10 (variance 20/4 = 5):
#   2 x (1 - 2.6/5) = 0.96
# alpha without b: a and c, variances 2.5 + 1.3, totals 3 5 7 8 10 (mean 6.6, variance 29.2/4 =
#   7.3): 2 x (1 - 3.8/7.3) = 0.95890
# SEM = sqrt(14.5) x sqrt(0.4/14.5) = sqrt(0.4) = 0.63246
# smallest reliable change = 1.96 x sqrt(2) x sqrt(0.4) = 1.96 x sqrt(0.8) = 1.75308 points,
#   of a 3-15 range (12 points): 14.61 percentage points
MATRIX = [[1, 2, 2], [2, 3, 3], [3, 3, 4], [4, 4, 4], [5, 5, 5]]


def run(*args: str, ok: bool = True):
    result = runner.invoke(app, list(args))
    if ok:
        assert result.exit_code == 0, (result.exit_code, result.stdout, result.stderr)
    return result


def write_tri(config_dir: Path) -> Path:
    folder = config_dir / "instruments"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "tri.toml"
    path.write_text(TRI, encoding="utf-8")
    return path


def rate(client: str, answers: str, day: str, instrument: str = "tri", **kw: str) -> None:
    args = ["rate", client, "--answers", answers, "--date", day, "--yes"]
    args += ["--instrument", instrument]
    for key, value in kw.items():
        args += [f"--{key}", value]
    run(*args)


def tri_data(config_dir: Path) -> None:
    write_tri(config_dir)
    for i, row in enumerate(MATRIX, start=1):
        rate(f"C-00{i}", ",".join(map(str, row)), f"2025-03-0{i}")
    rate("C-001", "5,5,5", "2025-03-10")  # a second rating: in "all ratings" only
    rate("C-006", "3,s,4", "2025-03-11")  # a skipped item: not complete


# ------------------------------------------------------------------------------------------------
# The F distribution


@pytest.mark.parametrize(
    ("p", "df1", "df2", "table"),
    [
        (0.975, 10, 20, 2.7737),
        (0.975, 4, 8, 5.0526),
        (0.975, 8, 4, 8.9796),
        (0.95, 1, 1, 161.45),
        (0.95, 5, 10, 3.3258),
        (0.99, 2, 10, 7.5594),
    ],
)
def test_f_quantile_matches_printed_tables(p: float, df1: int, df2: int, table: float) -> None:
    assert f_quantile(p, df1, df2) == pytest.approx(table, abs=5e-3 if table > 100 else 5e-5)


def test_variance_matches_statistics() -> None:
    import random
    import statistics

    from ratetool.scoring.stats import variance

    values = [random.Random(4).randint(0, 10) for _ in range(500)]
    assert variance(values) == pytest.approx(statistics.variance(values), rel=1e-12)
    assert variance([1, 2, 3, 4]) == pytest.approx(5 / 3)


def test_f_lower_quantile_is_reciprocal_of_upper() -> None:
    assert f_quantile(0.025, 4, 8) == pytest.approx(1 / f_quantile(0.975, 8, 4), rel=1e-9)


# ------------------------------------------------------------------------------------------------
# Alpha, Feldt, SEM, reliable change (hand-computed above)


def test_alpha_feldt_and_if_dropped_by_hand() -> None:
    a = cronbach_alpha(MATRIX, ["a", "b", "c"])
    assert a.n == 5
    assert a.value == pytest.approx(14.1 / 14.5)
    assert a.ci_low == pytest.approx(0.86062, abs=5e-5)
    assert a.ci_high == pytest.approx(0.99693, abs=5e-5)
    assert a.if_dropped["a"] == pytest.approx(0.96)
    assert a.if_dropped["b"] == pytest.approx(2 * (1 - 3.8 / 7.3))
    assert feldt_interval(a.value, 5, 3) == (a.ci_low, a.ci_high)


def test_sem_and_smallest_reliable_change_by_hand() -> None:
    sem, rc = sem_and_rc(math.sqrt(14.5), 14.1 / 14.5)
    assert sem == pytest.approx(math.sqrt(0.4))
    assert rc == pytest.approx(1.96 * math.sqrt(0.8))
    assert rc == pytest.approx(1.75308, abs=5e-6)


def test_zero_variance_item_does_not_crash() -> None:
    # c is 3 for everyone (variance 0); a 1 2 3 4 and b 2 3 5 4 both have variance 5/3;
    # totals 6 8 11 11: mean 9, variance 18/3 = 6; alpha = 3/2 x (1 - (10/3)/6) = 2/3
    a = cronbach_alpha([[1, 2, 3], [2, 3, 3], [3, 5, 3], [4, 4, 3]], ["a", "b", "c"])
    assert a.value == pytest.approx(2 / 3)


def test_all_zero_total_variance_gives_no_alpha() -> None:
    a = cronbach_alpha([[5, 5, 5]] * 4, ["a", "b", "c"])
    assert a.value is None and a.ci_low is None
    assert a.why is not None and "no variance" in a.why
    assert sem_and_rc(0.0, None) == (None, None)
    assert cronbach_alpha([[1, 2, 3]], ["a", "b", "c"]).value is None  # one rating


def test_describe_ceiling_and_floor() -> None:
    d = describe([1, 3, 5, 5], 1, 5)
    assert (d.mean, d.min, d.max, d.ceiling_pct, d.floor_pct) == (3.5, 1, 5, 50.0, 25.0)
    assert d.sd == pytest.approx(math.sqrt(11 / 3))  # deviations -2.5 -.5 1.5 1.5: 11/3


def test_ceiling_and_no_alpha_notes(config_dir: Path) -> None:
    from datetime import datetime

    from ratetool.model import Rating

    tri = load_instrument_file(write_tri(config_dir))
    ratings = [
        Rating(
            id=f"r{i}",
            client=f"C-{i:03d}",
            session=1,
            rated_at=datetime(2025, 3, 1 + i, 12, tzinfo=UTC),
            instrument="tri",
            instrument_version=1,
            answers={"a": 5, "b": 5, "c": 5},
        )
        for i in range(4)
    ]
    s = version_stats(tri, ratings)
    assert s.total.ceiling_pct == 100.0 and s.alpha_first.value is None
    assert NOTE_CEILING in s.notes
    assert any(n.startswith("alpha cannot be computed") for n in s.notes)
    assert s.sem is None and s.rc_points is None


# ------------------------------------------------------------------------------------------------
# The command


def stats_json(*args: str) -> list[dict]:
    return json.loads(run("stats", "--json", *args).stdout)


def test_stats_json_hand_values_and_schema(config_dir: Path) -> None:
    tri_data(config_dir)
    (block,) = stats_json("--instrument", "tri")
    assert set(block) == {
        "instrument", "version", "title", "scale", "total_range", "counts", "items", "total",
        "alpha_first_rating_per_client", "alpha_all_ratings", "sd_total_first_ratings", "sem",
        "smallest_reliable_change", "notes",
    }  # fmt: skip
    assert block["counts"] == {
        "ratings": 7,
        "clients": 6,
        "complete_ratings": 6,
        "ratings_with_skipped_items": 1,
        "first_date": "2025-03-01",
        "last_date": "2025-03-11",
    }
    first = block["alpha_first_rating_per_client"]
    assert first["n"] == 5 and first["alpha"] == 0.9724
    assert first["ci95"] == [0.8606, 0.9969]
    assert first["if_dropped"]["a"] == 0.96
    assert block["alpha_all_ratings"]["n"] == 6
    assert block["sd_total_first_ratings"] == 3.8079
    assert block["sem"] == 0.6325
    assert block["smallest_reliable_change"] == {"points": 1.7531, "percent_of_range": 14.61}
    # a: 1 2 3 4 5 5 and 3 from the rating with b skipped: 2 of 7 at 5, 1 of 7 at 1
    assert block["items"]["a"]["n"] == 7 and block["items"]["b"]["n"] == 6
    assert block["items"]["a"]["ceiling_pct"] == 28.6
    assert block["items"]["a"]["floor_pct"] == 14.3
    # totals 5 8 10 12 15 15: 2 of 6 at 15
    assert block["total"]["ceiling_pct"] == 33.3 and block["total"]["n"] == 6
    assert block["notes"] == ["too few for a stable estimate: fewer than 30 clients"]


def test_stats_filters(config_dir: Path) -> None:
    tri_data(config_dir)
    rate("C-007", "1,1,1", "2025-04-01", practitioner="kim")
    (block,) = stats_json("--since", "2025-03-10")
    assert block["counts"]["ratings"] == 3
    (block,) = stats_json("--practitioner", "kim")
    assert block["counts"]["ratings"] == 1
    assert stats_json("--instrument", "checkin") == []
    assert "not a date" in run("stats", "--since", "March", ok=False).output


def test_low_alpha_note(config_dir: Path) -> None:
    write_tri(config_dir)
    for i, row in enumerate(["1,5,3", "5,1,3", "3,3,1", "2,4,5"], start=1):
        rate(f"C-00{i}", row, f"2025-03-0{i}")
    (block,) = stats_json()
    assert NOTE_LOW_ALPHA in block["notes"]


@pytest.mark.parametrize(("instrument", "answers"), [("checkin", "8,9,7,10"), ("core", "4," * 11)])
def test_table_fits_80_columns(
    monkeypatch: pytest.MonkeyPatch, instrument: str, answers: str
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    if instrument == "core":
        answers += "5"
    for i in range(3):
        rate(f"C-00{i}", answers, f"2025-03-0{i + 1}", instrument=instrument)
    rate("C-009", answers.replace("4", "2", 3), "2025-03-09", instrument=instrument)
    out = run("stats").stdout
    assert (
        "First rating per client (CI: Feldt): alpha" in out
        and "All ratings (not independent)" in out
    )
    assert max(len(line) for line in out.splitlines()) <= 80
    assert f"{instrument} version 1" in out


# ------------------------------------------------------------------------------------------------
# --write-norms


def test_write_norms_copy_validates_and_gives_summary_reliable_change(
    config_dir: Path, tmp_path: Path
) -> None:
    tri_data(config_dir)
    original = (config_dir / "instruments" / "tri.toml").read_bytes()
    other = tmp_path / "other-config"
    out = other / "instruments" / "tri.toml"
    result = run("stats", "--write-norms", "tri", "--output", str(out))
    assert "Wrote" in result.output
    assert (config_dir / "instruments" / "tri.toml").read_bytes() == original  # a copy
    norms = load_instrument_file(out).norms
    assert norms is not None
    assert (norms.sd, norms.reliability) == (3.8079, 0.9724)
    assert norms.source == "own data: n = 5 clients, 2025-03-01 to 2025-03-11"
    run("instruments", "validate", str(out))
    data = json.loads(run("--config-dir", str(other), "summary", "C-001", "--json").stdout)
    rc = data["reliable_change"]
    assert rc is not None and rc["first_total"] == 5 and rc["latest_total"] == 15
    assert rc["reliable"] is True and rc["direction"] == "improved"


def test_write_norms_refusals_write_nothing(config_dir: Path, tmp_path: Path) -> None:
    tri_data(config_dir)
    target = tmp_path / "copy.toml"
    result = run("stats", "--write-norms", "checkin", "--output", str(target), ok=False)
    assert result.exit_code == 1 and "built-in" in result.output and not target.exists()
    assert run("stats", "--write-norms", "tri", ok=False).exit_code == 2  # no --output
    run("stats", "--write-norms", "tri", "--output", str(target))
    first = target.read_bytes()
    # the output exists: refused without --force
    result = run("stats", "--write-norms", "tri", "--output", str(target), ok=False)
    assert result.exit_code == 1 and "--force" in result.output
    assert target.read_bytes() == first
    # the definition already has [norms]: refused without --force
    installed = config_dir / "instruments" / "tri.toml"
    run("stats", "--write-norms", "tri", "--output", str(installed), "--force")  # in place
    with_norms = installed.read_bytes()
    second = tmp_path / "second.toml"
    result = run("stats", "--write-norms", "tri", "--output", str(second), ok=False)
    assert result.exit_code == 1 and "[norms]" in result.output and not second.exists()
    assert installed.read_bytes() == with_norms
    run("stats", "--write-norms", "tri", "--output", str(second), "--force")
    assert load_instrument_file(second).norms is not None


def test_write_norms_in_place_with_force_is_used_by_summary(config_dir: Path) -> None:
    tri_data(config_dir)
    installed = config_dir / "instruments" / "tri.toml"
    assert run("summary", "C-001", "--json").stdout.count('"reliable_change": null') == 1
    run("stats", "--write-norms", "tri", "--output", str(installed), "--force")
    assert installed.read_text(encoding="utf-8").startswith(TRI)  # appended: comments kept
    run("instruments", "validate", str(installed))
    rc = json.loads(run("summary", "C-001", "--json").stdout)["reliable_change"]
    assert rc["reliable"] is True and rc["direction"] == "improved"


def test_write_norms_refused_when_alpha_undefined(config_dir: Path, tmp_path: Path) -> None:
    write_tri(config_dir)
    for i in range(1, 4):
        rate(f"C-00{i}", "5,5,5", f"2025-03-0{i}")  # no variance: alpha undefined
    target = tmp_path / "copy.toml"
    result = run("stats", "--write-norms", "tri", "--output", str(target), ok=False)
    assert result.exit_code == 1 and "no norms can be written" in result.output
    assert not target.exists()
