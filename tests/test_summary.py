"""``ratetool summary``: one client and the caseload, tables and JSON, end to end.

Data is made with ``ratetool rate X --answers ... --date ... --yes`` (or the store, for what the
command line cannot write), and read back through the command line. The autouse fixture puts the
data and config folders in ``tmp_path``, turns colour off and fixes the width at 100.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ratetool.cli import app
from ratetool.model import Rating
from ratetool.scoring import places_for

runner = CliRunner()
ANSI = re.compile(r"\x1b\[")
DATE_ROW = re.compile(r"^\d{4}-\d\d-\d\d\s")


def run(*args: str, ok: bool = True):
    result = runner.invoke(app, list(args))
    if ok:
        assert result.exit_code == 0, (result.exit_code, result.stdout, result.stderr)
    return result


def rate(
    client: str,
    answers: str,
    day: str,
    *,
    instrument: str | None = None,
    practitioner: str | None = None,
    comment: str | None = None,
) -> None:
    args = ["rate", client, "--answers", answers, "--date", day, "--yes"]
    if instrument:
        args += ["--instrument", instrument]
    if practitioner:
        args += ["--practitioner", practitioner]
    if comment:
        args += ["--comment", comment]
    run(*args)


def summary_json(*args: str):
    return json.loads(run("summary", *args, "--json").stdout)


def checkin_series(
    client: str, rows: list[str], *, start: int = 1, month: int = 3, practitioner: str | None = None
) -> None:
    for i, answers in enumerate(rows):
        rate(client, answers, f"2025-{month:02d}-{start + i:02d}", practitioner=practitioner)


def write_normed_instrument(config_dir: Path) -> None:
    """A check-in-like instrument with the published norms (sd 7.6, reliability .95)."""
    folder = config_dir / "instruments"
    folder.mkdir(parents=True, exist_ok=True)
    items = "\n".join(
        f'[[items]]\nid = "{d}"\ndimension = "{d}"\ntext = "{d.title()} today?"\n'
        for d in ("empathy", "warmth", "genuineness", "trust")
    )
    (folder / "normed.toml").write_text(
        'id = "normed"\nversion = 1\ntitle = "Normed check-in"\nintro = "Four questions."\n'
        '[scale]\nmin = 0\nmax = 10\nmin_label = "not at all"\nmax_label = "completely"\n'
        '[dimensions]\nempathy = "Empathy"\nwarmth = "Warmth"\ngenuineness = "Genuineness"\n'
        'trust = "Trust"\n'
        + items
        + '[norms]\nsd = 7.6\nreliability = 0.95\nsource = "Jacobson & Truax example"\n',
        encoding="utf-8",
    )


def session_rows(text: str) -> list[list[str]]:
    """The sessions table's rows, split on whitespace."""
    return [line.split() for line in text.splitlines() if DATE_ROW.match(line)]


def section(text: str, heading: str) -> list[str]:
    """The lines after ``heading`` up to the next blank line."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(heading))
    out = []
    for line in lines[start + 1 :]:
        if not line.strip():
            break
        out.append(line)
    return out


def words(text: str) -> str:
    """Prose as one line: long sentences are wrapped at the terminal width."""
    return " ".join(text.split())


def f(value, kind: str) -> str:
    return "–" if value is None else f"{value:.{places_for(kind)}f}"


def fc(value, kind: str) -> str:
    if value is None:
        return "–"
    if value == 0:
        return f"{0:.{places_for(kind)}f}"
    return f"{value:+.{places_for(kind)}f}"


# ------------------------------------------------------------------------------------------------
# No data


def test_caseload_without_data_is_friendly_and_exits_0() -> None:
    result = run("summary")
    assert "No ratings yet" in result.stdout
    assert result.stderr == ""
    assert json.loads(run("summary", "--json").stdout) == []
    assert "No ratings yet" in run("summary", "--by", "month").stdout


def test_client_without_data_exits_1_with_a_clear_message() -> None:
    rate("C-001", "9,9,9,9", "2025-03-01")
    for args in (["summary", "C-999"], ["summary", "C-999", "--json"]):
        result = run(*args, ok=False)
        assert result.exit_code == 1
        assert result.stdout == ""
        assert "No ratings for client C-999" in result.stderr
        assert "ratetool clients" in result.stderr


def test_invalid_client_code_exits_1() -> None:
    result = run("summary", "../x", ok=False)
    assert result.exit_code == 1
    assert "Client code" in result.stderr


def test_filters_with_nothing_matching() -> None:
    rate("C-001", "9,9,9,9", "2025-03-01", practitioner="AB")
    result = run("summary", "--practitioner", "ZZ")
    assert "No ratings (by ZZ)" in result.stdout
    assert json.loads(run("summary", "--practitioner", "ZZ", "--json").stdout) == []


# ------------------------------------------------------------------------------------------------
# Alerts end to end (must show 3) and configured thresholds (must show 7)


def test_alerts_fire_exactly_on_a_constructed_trajectory() -> None:
    checkin_series(
        "C-001",
        [
            "9,9,9,9",  # 36 = 90.0%: not low (90.0 is not below 90), no item (9 > 7)
            "9,9,9,9",  # equal: no drop
            "10,9,9,8",  # 36 again, 8 is not an item alert
            "9,9,9,8",  # 35 = 87.5%: drop 2.5 (since session 3) and low
            "10,10,10,7",  # 37 = 92.5%: rising, not low; item: trust 7 of 10
        ],
    )
    data = summary_json("C-001")
    assert [s["alerts"] for s in data["sessions"]] == [[], [], [], ["drop", "low"], ["item"]]
    assert [s["band"] for s in data["sessions"]] == ["ok", "ok", "ok", "alert", "watch"]
    s4 = data["sessions"][3]
    assert s4["alert_reasons"] == [
        "dropped 2.5 percentage points since session 3 (90.0% to 87.5%)",
        "overall 87.5%, below 90%",
    ]
    assert data["sessions"][4]["alert_reasons"] == ["trust 7 of 10 (at or below 70%)"]
    assert data["thresholds"] == {"low": 90.0, "drop": 2.5, "item": 70.0}
    # the reasons are printed in words under the table
    text = run("summary", "C-001").stdout
    assert "dropped 2.5 percentage points since session 3 (90.0% to 87.5%)" in text
    assert "trust 7 of 10 (at or below 70%)" in text


def test_configured_thresholds_change_which_alerts_fire(config_dir: Path) -> None:
    checkin_series("C-001", ["10,10,10,10", "9,9,8,8"])  # 100.0% -> 85.0%
    default = summary_json("C-001")["sessions"][1]
    assert default["alerts"] == ["drop", "low"]

    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "config.toml").write_text(
        "[alerts]\nlow = 80\ndrop = 20\nitem = 80\n", encoding="utf-8"
    )
    configured = summary_json("C-001")
    second = configured["sessions"][1]
    # 85.0 is not below 80; a fall of 15 is less than 20; but 8 of 10 is now at or below 80%
    assert second["alerts"] == ["item"]
    assert second["alert_reasons"] == ["genuineness 8 of 10; trust 8 of 10 (at or below 80%)"]
    assert configured["thresholds"] == {"low": 80.0, "drop": 20.0, "item": 80.0}
    text = words(run("summary", "C-001").stdout)
    assert "low below 80%" in text and "drop of 20 percentage points" in text
    caseload = json.loads(run("summary", "--json").stdout)
    assert caseload[0]["alerts"] == ["item"] and caseload[0]["band"] == "watch"


# ------------------------------------------------------------------------------------------------
# Reliable change where norms exist (must show 2)


def test_reliable_change_shown_in_table_and_json_where_norms_exist(config_dir: Path) -> None:
    write_normed_instrument(config_dir)
    # totals 25 then 18: the published example, RC = -7 / 2.403 = -2.91, a reliable worsening
    rate("C-001", "7,6,6,6", "2025-03-01", instrument="normed")
    rate("C-001", "5,5,4,4", "2025-03-08", instrument="normed")
    data = summary_json("C-001")
    rc = data["reliable_change"]
    assert rc == {
        "instrument": "normed",
        "version": 1,
        "first_session": 1,
        "latest_session": 2,
        "first_total": 25,
        "latest_total": 18,
        "s_diff": 2.4,
        "smallest_reliable_change": 4.71,
        "rc": -2.91,
        "reliable": True,
        "direction": "worsened",
    }
    assert data["reliable_changes"] == {"normed": rc}
    latest = data["sessions"][-1]
    assert latest["alerts"][0] == "reliable-worsening"
    assert latest["alert_reasons"][0] == (
        "reliable worsening since session 1, the first complete session of normed version 1 "
        "(RC -2.91)"
    )
    assert latest["band"] == "alert" and latest["severity"] == "alert"
    text = words(run("summary", "C-001").stdout)
    assert (
        "Reliable change (normed): RC -2.91, a reliable worsening: total 25 at session 1 (the "
        "first complete session of normed version 1), 18 at session 2 (S_diff 2.40, smallest "
        "reliable change 4.71 points of the total)."
    ) in text


def test_no_reliable_change_without_norms_says_why() -> None:
    checkin_series("C-001", ["9,9,9,9", "5,5,4,4"])
    data = summary_json("C-001")
    assert data["reliable_change"] is None
    assert data["reliable_changes"] == {"checkin": None}
    assert "Reliable change (checkin): not available, the instrument has no [norms]." in words(
        run("summary", "C-001").stdout
    )


def test_reliable_change_not_yet_with_one_complete_session(config_dir: Path) -> None:
    write_normed_instrument(config_dir)
    rate("C-001", "7,6,6,6", "2025-03-01", instrument="normed")
    assert summary_json("C-001")["reliable_change"] is None
    assert "not yet, it needs two sessions" in words(run("summary", "C-001").stdout)


# ------------------------------------------------------------------------------------------------
# The JSON and the table show the same numbers (must show 4)

CORE_A = "4,4,4,4,5,5,5,5,2,2,2,1"  # 12 items, item scores sum to 53: 85.4166...% -> 85.4
CORE_B = "4,4,4,4,4,4,5,4,2,2,2,1"  # sum 50: 79.1666...% -> 79.2; full-precision fall 6.25
CORE_SKIP = "5,s,4,4,5,4,5,5,2,1,2,2"  # warmth_1 skipped: dimension from 2 of 3 items, no total


def test_json_numbers_equal_the_table_numbers() -> None:
    rate("C-001", CORE_A, "2025-03-01", instrument="core")
    rate("C-001", CORE_B, "2025-03-08", instrument="core")
    rate("C-001", CORE_SKIP, "2025-03-15", instrument="core")
    rate("C-001", "9,8,10,7", "2025-03-22")
    rate("C-001", "8,8,9,7", "2025-03-29")
    rate("C-002", "10,10,10,10", "2025-03-02")
    data = summary_json("C-001")
    text = run("summary", "C-001").stdout
    assert not ANSI.search(text)

    # sessions table: every number cell equals the JSON value written with its places
    rows = session_rows(text)
    assert len(rows) == len(data["sessions"]) == 5
    dims = ["empathy", "warmth", "genuineness", "trust"]
    for cells, s in zip(rows, data["sessions"]):
        assert cells[0] == s["rated_at"][:10]
        assert cells[1] == str(s["session"])
        assert cells[2] == s["instrument"]  # two instruments: the instrument column is shown
        expected = [f(s["dimensions"][d], "dimension") for d in dims] + [
            f(s["overall"], "overall"),
            f(s["pomp"], "pomp"),
            f(s["total"], "total"),
        ]
        assert cells[3:10] == expected
        assert " ".join(cells[10:12]) in ("! alert", "▲ watch", "✓ ok", "– no score")
        assert cells[12:] == []  # the alerts are listed under the table, kind and words
    lines = text.splitlines()
    alerts = " ".join(section("\n".join(lines[lines.index("Alerts") :]), "Alerts"))
    for s in data["sessions"]:
        for kind, reason in zip(s["alerts"], s["alert_reasons"]):
            assert re.search(rf"{kind}\s+{re.escape(reason.split()[0])}", alerts)

    # trend tables: first, latest and both changes
    labels = {
        "Empathy": "empathy",
        "Warmth": "warmth",
        "Genuineness": "genuineness",
        "Trust": "trust",
        "Overall": "overall",
        "% max": "pomp",
        "Total": "total",
    }
    for iid in ("core", "checkin"):
        trend = data["trends"][iid]
        lines = section(text, f"Trend, {iid} ")[1:]  # skip the header row
        assert lines.pop().startswith(f"Reliable change ({iid})")
        assert len(lines) == 7
        for line in lines:
            label = "% max" if line.startswith("% max") else line.split()[0]
            key = labels[label]
            kind = key if key in ("overall", "pomp", "total") else "dimension"
            numbers = line[len(label) :].split()[-4:]
            assert numbers == [
                f(trend["first"][key], kind),
                f(trend["latest"][key], kind),
                fc(trend["change_since_first"][key], kind),
                fc(trend["change_since_previous"][key], kind),
            ], (iid, key)

    # a change is the difference of the numbers shown, as the drop alert compares: 85.4% to
    # 79.2% is a drop of 6.2 (the full-precision 6.25 would show as 6.3), and empathy going from
    # 4.33 (13/3) to 4.67 (14/3) is shown as +0.34 (the full-precision 0.333 would be +0.33)
    core = data["sessions"][:3]
    assert [s["pomp"] for s in core] == [85.4, 79.2, 86.5]
    assert (
        core[1]["alert_reasons"][0]
        == "dropped 6.2 percentage points since session 1 (85.4% to 79.2%)"
    )
    trend = data["trends"]["core"]
    assert (trend["first"]["empathy"], trend["latest"]["empathy"]) == (4.33, 4.67)
    assert trend["change_since_first"]["empathy"] == 0.34
    assert trend["change_since_previous"]["pomp"] == 7.3
    assert (
        data["sessions"][2]["total"] is None and data["sessions"][2]["dimensions"]["warmth"] == 4.5
    )

    # caseload: overall and % max cells equal the caseload JSON
    caseload = json.loads(run("summary", "--json").stdout)
    table = run("summary").stdout
    for row in caseload:
        line = next(x for x in table.splitlines() if re.match(rf"^\d+\s+{row['client']}\s", x))
        cells = line.split()
        assert cells[0] == str(row["attention"])
        assert cells[2] == str(row["sessions"])
        assert cells[3] == row["last_rated_at"][:10]
        assert cells[4:6] == [f(row["latest_overall"], "overall"), f(row["latest_pomp"], "pomp")]


# ------------------------------------------------------------------------------------------------
# Rendering at a fixed width with colour off (must show 5)


def test_tables_read_without_colour() -> None:
    checkin_series("C-001", ["10,10,10,10", "9,9,9,9", "8,8,8,8", "10,10,10,7"])
    checkin_series("C-002", ["10,10,10,10", "10,10,10,10"])
    checkin_series("C-003", ["10,10,10,10", "9,9,10,7"])
    for args in (
        ["summary", "C-001"],
        ["summary"],
        ["summary", "--by", "month"],
        ["summary", "C-001", "--items", "--comments"],
    ):
        text = run(*args).stdout
        assert not ANSI.search(text), args
        assert max(len(line) for line in text.splitlines()) <= 100, args
    text = run("summary", "C-001").stdout
    # every band has a symbol and a word, and the legend says what they mean
    assert "! alert" in text and "▲ watch" in text and "✓ ok" in text
    assert "Status: ! alert = below the low cutoff, or a reliable worsening" in words(text)
    # sparklines are characters: 100, 90, 80, 92.5 % max from 50 to 100
    assert "Trend, checkin (sessions 1-4)" in text
    assert "% max        █▇▅▇" in text
    caseload = run("summary").stdout
    assert "! alert" in caseload and "▲ watch" in caseload and "✓ ok" in caseload
    assert "Alerts on the latest session" in caseload
    lines = [x for x in caseload.splitlines() if re.match(r"^\d+\s+C-00", x)]
    # who needs attention first: C-003 (drop, low and item), C-001 (item only), C-002 (none)
    assert [x.split()[1] for x in lines] == ["C-003", "C-001", "C-002"]


def test_colour_when_forced_keeps_symbols_and_words(monkeypatch: pytest.MonkeyPatch) -> None:
    checkin_series("C-001", ["10,10,10,10", "8,8,8,8"])
    monkeypatch.delenv("NO_COLOR")
    monkeypatch.setenv("FORCE_COLOR", "1")
    text = run("summary", "C-001").stdout
    plain = re.sub(r"\x1b\[[0-9;]*m", "", text)
    # the bands are coloured (red, green) ...
    assert re.search(r"\x1b\[[0-9;]*31m! alert", text)
    assert re.search(r"\x1b\[[0-9;]*32m✓ ok", text)
    assert "! alert" in plain and "✓ ok" in plain  # ... but never by colour alone
    # JSON never carries colour codes
    raw = run("summary", "C-001", "--json").stdout
    assert not ANSI.search(raw)
    assert not ANSI.search(run("summary", "--json").stdout)


def test_ascii_fallback_when_the_output_cannot_show_symbols() -> None:
    from ratetool.render.text import ASCII, band_label, glyphs, sparkline

    class Latin1:
        encoding = "latin-1"

    assert glyphs(Latin1()) is ASCII  # type: ignore[arg-type]
    assert band_label("watch", ASCII) == "^ watch"
    assert band_label("ok", ASCII) == "+ ok"
    assert sparkline([50, None, 100], 50, 100, ASCII) == "_?@"


def test_sparkline_levels_and_missing() -> None:
    from ratetool.render.text import sparkline

    assert sparkline([0, 5, 10], 0, 10) == "▁▅█"
    assert sparkline([None, 10, -3], 5, 10) == "·█▁"  # below the range shows as the lowest
    assert sparkline([], 0, 10) == ""


# ------------------------------------------------------------------------------------------------
# Two instruments


def test_two_instruments_list_every_session_with_trends_per_instrument() -> None:
    rate("C-001", CORE_A, "2025-03-01", instrument="core")
    rate("C-001", "9,9,9,9", "2025-03-08")
    rate("C-001", CORE_B, "2025-03-15", instrument="core")
    rate("C-001", "10,9,9,9", "2025-03-22")
    data = summary_json("C-001")
    assert data["instrument"] == "checkin"  # the latest session's
    assert data["instruments"] == ["core", "checkin"]
    assert [s["instrument"] for s in data["sessions"]] == ["core", "checkin", "core", "checkin"]
    assert data["trends"]["core"]["sessions"] == [1, 3]
    assert data["trends"]["checkin"]["sessions"] == [2, 4]
    # changes compare sessions of the same instrument only
    assert data["trends"]["checkin"]["change_since_previous"]["total"] == 1
    assert data["reliable_changes"] == {"core": None, "checkin": None}
    text = run("summary", "C-001").stdout
    assert len(session_rows(text)) == 4
    text = words(text)
    assert "Trends and reliable change are per instrument" in text
    assert "core (sessions 1, 3), checkin (sessions 2, 4)" in text
    assert "Trend, core (sessions 1, 3)" in text and "Trend, checkin (sessions 2, 4)" in text
    assert "Reliable change (core):" in text and "Reliable change (checkin):" in text
    caseload = json.loads(run("summary", "--json").stdout)
    assert caseload[0]["instrument"] == "checkin"
    assert caseload[0]["instruments"] == ["core", "checkin"]
    assert caseload[0]["recent_sessions"] == [2, 4]


# ------------------------------------------------------------------------------------------------
# --items and --comments


def test_items_show_item_level_answers() -> None:
    rate("C-001", CORE_SKIP, "2025-03-01", instrument="core")
    rate("C-001", "9,8,10,7", "2025-03-08")
    text = run("summary", "C-001", "--items").stdout
    assert "Answers, core" in text and "Answers, checkin" in text
    core = section(text, "Answers, core")
    assert core[0].split() == ["Item", "#1"]
    rows = {line.split()[0]: line.split()[1:] for line in core[1:]}
    assert rows["empathy_1"] == ["5"]
    assert rows["warmth_1"] == ["s"]  # skipped, never 0
    assert rows["warmth_3"] == ["(r)", "1"]  # the answer as given, marked reverse-worded
    checkin = section(text, "Answers, checkin")
    assert checkin[0].split() == ["Item", "#2"]
    assert [line.split() for line in checkin[1:]] == [
        ["empathy", "9"],
        ["warmth", "8"],
        ["genuineness", "10"],
        ["trust", "7"],
    ]
    data = summary_json("C-001", "--items")
    first = data["sessions"][0]
    assert first["answers"]["warmth_1"] is None and first["skipped"] == ["warmth_1"]
    assert first["answers"]["warmth_3"] == 1 and first["item_scores"]["warmth_3"] == 5
    assert "answers" not in summary_json("C-001")["sessions"][0]


def add_checkins(data_dir: Path, client: str, totals: list[tuple[int, int, int, int]]) -> None:
    """Many check-ins at once, through the store (faster than one `rate` each)."""
    from ratetool.store import open_store

    start = datetime(2025, 1, 6, 10, 50, tzinfo=timezone(timedelta(hours=1)))
    open_store(data_dir).add(
        [
            Rating(
                str(uuid.uuid4()),
                client,
                n,
                start + timedelta(days=n),
                "checkin",
                1,
                dict(zip(("empathy", "warmth", "genuineness", "trust"), answers)),
            )
            for n, answers in enumerate(totals, 1)
        ],
        number_sessions=False,
    )


def test_items_split_across_tables_when_there_are_many_sessions(data_dir: Path) -> None:
    add_checkins(data_dir, "C-001", [(9, 9, 9, 9)] * 25)
    text = run("summary", "C-001", "--items", "--all").stdout
    assert "Answers, checkin (continued)" in text
    assert "#25" in text
    assert max(len(line) for line in text.splitlines()) <= 100


def test_long_history_table_shows_the_last_sessions_unless_all(data_dir: Path) -> None:
    add_checkins(data_dir, "C-001", [(9, 9, 9, 9)] * 25)
    text = run("summary", "C-001").stdout
    assert "Showing the last 20 of 25 sessions; --all shows every one." in text
    dates = [line.split()[1] for line in text.splitlines() if line[:4].isdigit()]
    assert dates == [str(n) for n in range(6, 26)]
    every = run("summary", "C-001", "--all").stdout
    assert "Showing the last" not in every
    assert [line.split()[1] for line in every.splitlines() if line[:4].isdigit()] == [
        str(n) for n in range(1, 26)
    ]
    assert len(json.loads(run("summary", "C-001", "--json").stdout)["sessions"]) == 25


def test_long_history_sparklines_show_the_last_sessions(data_dir: Path) -> None:
    add_checkins(data_dir, "C-001", [(10, 10, 10, 10)] * 20 + [(5, 5, 5, 5)] * 10)
    text = run("summary", "C-001").stdout
    assert max(len(line) for line in text.splitlines()) <= 100
    row = next(line for line in text.splitlines() if line.startswith("% max"))
    assert row.split()[:2] == ["%", "max"]
    assert row.split()[2] == "█" * 14 + "▁" * 10  # the last 24 of 30 sessions
    assert "Last 24" in text


def test_comments_are_shown_only_when_asked() -> None:
    rate("C-001", "9,9,9,9", "2025-03-01", comment="Felt heard today.")
    rate("C-003", "9,9,9,9", "2025-03-01", comment="[bold]not markup[/bold] [/x]")
    assert "[bold]not markup[/bold] [/x]" in run("summary", "C-003", "--comments").stdout
    rate("C-001", "9,9,9,9", "2025-03-08")
    assert "Felt heard today." not in run("summary", "C-001").stdout
    text = run("summary", "C-001", "--comments").stdout
    assert "Comments" in text
    assert re.search(r"Session 1 \(2025-03-01\)\s+Felt heard today\.", text)
    data = summary_json("C-001", "--comments")
    assert [s["comment"] for s in data["sessions"]] == ["Felt heard today.", None]
    assert "comment" not in summary_json("C-001")["sessions"][0]
    rate("C-002", "9,9,9,9", "2025-03-01")
    assert "No comments." in run("summary", "C-002", "--comments").stdout


# ------------------------------------------------------------------------------------------------
# The caseload: order, filters, months, limits


def test_caseload_json_schema_and_attention_order() -> None:
    checkin_series("C-001", ["10,10,10,10", "10,10,10,10"])
    checkin_series("C-002", ["10,10,10,10", "9,9,9,8"])  # drop and low
    checkin_series("C-003", ["10,10,10,10", "10,10,10,7"])  # drop and item
    rows = json.loads(run("summary", "--json").stdout)
    assert [r["client"] for r in rows] == ["C-002", "C-003", "C-001"]
    assert [r["attention"] for r in rows] == [1, 2, 3]
    first = rows[0]
    assert {"client", "sessions", "last_rated_at", "latest_pomp", "alerts"} <= set(first)
    assert first["sessions"] == 2
    assert first["last_rated_at"].startswith("2025-03-02T12:00:00")
    assert first["latest_pomp"] == 87.5 and first["latest_overall"] == 8.75
    assert first["latest_total"] == 35
    assert first["alerts"] == ["drop", "low"]
    assert first["recent_pomp"] == [100.0, 87.5]
    assert first["band"] == "alert"
    assert rows[2]["alerts"] == [] and rows[2]["band"] == "ok"


def test_caseload_since_and_practitioner(isolated_dirs) -> None:
    checkin_series("C-001", ["9,9,9,9", "9,9,9,9"], month=1, practitioner="AB")
    checkin_series("C-002", ["9,9,9,9"], month=2, practitioner="CD")
    checkin_series("C-003", ["9,9,9,9"], month=3, practitioner="AB")

    def clients(*args: str) -> list[str]:
        return [r["client"] for r in json.loads(run("summary", *args, "--json").stdout)]

    assert sorted(clients()) == ["C-001", "C-002", "C-003"]
    assert sorted(clients("--since", "2025-02-01")) == ["C-002", "C-003"]
    assert clients("--since", "2025-03-01") == ["C-003"]  # the whole day counts
    assert sorted(clients("--practitioner", "ab")) == ["C-001", "C-003"]  # any case
    assert clients("--practitioner", "AB", "--since", "2025-02-01") == ["C-003"]
    # scores always come from the whole history: C-001 still has 2 sessions
    rows = json.loads(run("summary", "--practitioner", "AB", "--json").stdout)
    assert next(r for r in rows if r["client"] == "C-001")["sessions"] == 2
    text = words(run("summary", "--since", "2025-02-01", "--practitioner", "CD").stdout)
    assert "Caseload (rated since 2025-02-01, by CD): 1 client" in text


def test_by_month() -> None:
    checkin_series("C-001", ["10,10,10,10", "9,9,9,9"], month=1, practitioner="AB")  # 100, 90
    checkin_series("C-002", ["8,8,8,8"], month=1, practitioner="CD")  # 80: low
    checkin_series("C-001", ["10,10,9,8"], month=2, practitioner="AB")  # 92.5: item? no (8)
    months = json.loads(run("summary", "--by", "month", "--json").stdout)
    assert months == [
        {
            "month": "2025-01",
            "sessions": 3,
            "clients": 2,
            "sessions_with_pomp": 3,
            "mean_pomp": 90.0,  # (100 + 90 + 80) / 3
            "sessions_with_alerts": 2,  # C-001 session 2 (drop), C-002 session 1 (low)
            "alerts_by_kind": {"reliable-worsening": 0, "drop": 1, "low": 1, "item": 0},
        },
        {
            "month": "2025-02",
            "sessions": 1,
            "clients": 1,
            "sessions_with_pomp": 1,
            "mean_pomp": 92.5,
            "sessions_with_alerts": 0,
            "alerts_by_kind": {"reliable-worsening": 0, "drop": 0, "low": 0, "item": 0},
        },
    ]
    ab = json.loads(run("summary", "--by", "month", "--practitioner", "AB", "--json").stdout)
    assert [(m["month"], m["sessions"], m["mean_pomp"]) for m in ab] == [
        ("2025-01", 2, 95.0),
        ("2025-02", 1, 92.5),
    ]
    since = json.loads(run("summary", "--by", "month", "--since", "2025-02-01", "--json").stdout)
    assert [m["month"] for m in since] == ["2025-02"]
    text = run("summary", "--by", "month").stdout
    row = next(x for x in text.splitlines() if x.startswith("2025-01"))
    assert row.split() == ["2025-01", "3", "2", "90.0", "2", "drop", "1,", "low", "1"]


def test_top_and_all_limit_the_caseload_table() -> None:
    for n in range(1, 4):
        checkin_series(f"C-00{n}", ["10,10,10,10"])
    text = run("summary", "--top", "2").stdout
    assert len([x for x in text.splitlines() if re.match(r"^\d+\s+C-00", x)]) == 2
    assert "Showing 2 of 3 clients" in text and "--all" in text
    text = run("summary", "--all").stdout
    assert len([x for x in text.splitlines() if re.match(r"^\d+\s+C-00", x)]) == 3
    assert "Showing" not in text
    assert len(json.loads(run("summary", "--json", "--top", "1").stdout)) == 3


@pytest.mark.parametrize(
    "args",
    [
        ["summary", "--since", "March"],
        ["summary", "--since", "2025-02-30"],
        ["summary", "C-001", "--since", "2025-01-01"],
        ["summary", "C-001", "--practitioner", "AB"],
        ["summary", "C-001", "--by", "month"],
        ["summary", "--items"],
        ["summary", "--comments"],
        ["summary", "--by", "week"],
        ["summary", "--top", "0"],
    ],
)
def test_usage_mistakes_exit_2(args: list[str]) -> None:
    rate("C-001", "9,9,9,9", "2025-03-01")
    result = run(*args, ok=False)
    assert result.exit_code == 2, (result.stdout, result.stderr)


# ------------------------------------------------------------------------------------------------
# The JSON schema documented in docs/summary.md


SESSION_KEYS = {
    "session",
    "rated_at",
    "instrument",
    "instrument_version",
    "practitioner",
    "status",
    "amended_at",
    "scored",
    "dimensions",
    "overall",
    "pomp",
    "total",
    "severity",
    "band",
    "alerts",
    "alert_reasons",
}
TREND_KEYS = {
    "sessions",
    "series",
    "first",
    "latest",
    "change_since_first",
    "change_since_previous",
}
CASELOAD_KEYS = {
    "attention",
    "client",
    "sessions",
    "first_rated_at",
    "last_rated_at",
    "latest_session",
    "instrument",
    "instruments",
    "latest_overall",
    "latest_pomp",
    "latest_total",
    "recent_sessions",
    "recent_pomp",
    "severity",
    "band",
    "alerts",
    "alert_reasons",
}


def test_json_keys_are_the_documented_ones() -> None:
    checkin_series("C-001", ["9,9,9,9", "8,8,8,8"])
    data = summary_json("C-001")
    assert set(data) == {
        "client",
        "instrument",
        "instruments",
        "thresholds",
        "sessions",
        "voided",
        "trends",
        "reliable_change",
        "reliable_changes",
        "problems",
    }
    assert data["problems"] == [] and data["voided"] == 0
    assert set(summary_json("C-001", "--history")) == {*data, "corrections"}
    assert all(set(s) == SESSION_KEYS for s in data["sessions"])
    assert set(data["trends"]["checkin"]) == TREND_KEYS
    assert set(data["trends"]["checkin"]["series"]) == {
        "empathy",
        "warmth",
        "genuineness",
        "trust",
        "overall",
        "pomp",
        "total",
    }
    both = summary_json("C-001", "--items", "--comments")["sessions"][0]
    assert set(both) == SESSION_KEYS | {"answers", "item_scores", "skipped", "comment"}
    assert all(set(r) == CASELOAD_KEYS for r in json.loads(run("summary", "--json").stdout))
    root = Path(__file__).resolve().parent.parent
    docs = (root / "docs" / "summary.md").read_text(encoding="utf-8")  # "summary --json"
    more = {"answers", "item_scores", "comment", "problems", "file", "line", "session", "problem"}
    more |= {"voided", "corrections", "description", "made_at", "new_client", "reason"}
    for key in SESSION_KEYS | TREND_KEYS | CASELOAD_KEYS | more:
        assert f"{key}`" in docs or f'"{key}"' in docs, key


# ------------------------------------------------------------------------------------------------
# Sessions the scores cannot be computed for


def test_unknown_instrument_is_listed_with_no_scores(data_dir: Path) -> None:
    from ratetool.store import open_store

    when = datetime(2025, 3, 1, 10, 50, tzinfo=timezone(timedelta(hours=1)))
    open_store(data_dir).add(
        [
            Rating(
                str(uuid.uuid4()),
                "C-001",
                1,
                when,
                "checkin",
                1,
                {"empathy": 9, "warmth": 9, "genuineness": 9, "trust": 9},
            ),
            Rating(
                str(uuid.uuid4()), "C-001", 2, when + timedelta(days=7), "gone", 1, {"a": 3, "b": 4}
            ),
        ],
        number_sessions=False,
    )
    data = summary_json("C-001")
    gone = data["sessions"][1]
    assert gone["scored"] is False and gone["band"] == "none"
    assert gone["overall"] is None and gone["alerts"] == []
    text = words(run("summary", "C-001").stdout)
    assert "gone (definition not found)" in text
    assert "– no score" in text
    assert (
        "Reliable change (gone): not available, the instrument's definition was not found." in text
    )
    rows = json.loads(run("summary", "--json").stdout)
    assert rows[0]["band"] == "none" and rows[0]["latest_pomp"] is None
    assert "– no score" in run("summary").stdout
    items = summary_json("C-001", "--items")["sessions"][1]
    assert items["answers"] == {"a": 3, "b": 4}
    assert "Answers, gone" in run("summary", "C-001", "--items").stdout


def test_damaged_file_warns_and_still_summarises(data_dir: Path) -> None:
    rate("C-001", "9,9,9,9", "2025-03-01")
    path = data_dir / "clients" / "C-001.toml"
    path.write_text(
        path.read_text(encoding="utf-8") + '\n[[sessions]]\nid = "x"\n', encoding="utf-8"
    )
    result = run("summary", "C-001", ok=False)
    assert result.exit_code == 1  # all that could be shown, then the problem
    assert "1 problem in the data folder" in result.stdout
    assert f"{path}, line " in result.stdout.split("1 problem")[1]
    assert len(session_rows(result.stdout)) == 1
    data = json.loads(run("summary", "C-001", "--json", ok=False).stdout)
    assert len(data["sessions"]) == 1
    assert [p["file"] for p in data["problems"]] == [str(path)]


# ------------------------------------------------------------------------------------------------
# The core knows nothing of Typer or rich


def test_report_module_imports_neither_typer_nor_rich() -> None:
    import subprocess
    import sys

    code = (
        "import sys, ratetool.report; "
        "print(sorted(m for m in ('typer', 'rich', 'plotext', 'ratetool.term') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_client_summary_loads_only_what_it_draws() -> None:
    """``summary CLIENT`` draws one client: neither the caseload's drawing nor its cache
    (``json``), nor the line chart, are loaded (each costs start-up time on every run)."""
    import subprocess
    import sys

    rate("C-1", "9,8,9,8", "2026-10-01")
    code = (
        "import sys, ratetool.cli\n"
        "sys.argv = ['ratetool', 'summary', 'C-1']\n"
        "try:\n"
        "    ratetool.cli.main()\n"
        "except SystemExit as exc:\n"
        "    assert not exc.code, exc.code\n"
        "heavy = ('json', 'ratetool.cache', 'ratetool.render.caseload', 'ratetool.render.chart',"
        " 'ratetool.render.client')\n"
        "print('LOADED', sorted(m for m in heavy if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "C-1: 1 session" in out.stdout
    assert out.stdout.rstrip().endswith("LOADED ['ratetool.render.client']"), out.stdout
