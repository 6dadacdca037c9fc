"""The examples in README.md and docs/ are the real output of ratetool on the demo caseload.

Every fenced block in README.md or docs/*.md whose first line starts with
``$ ratetool --data-dir examples/data`` is run on ``examples/data``, with colour off and 100 columns,
and its output must equal the rest of the block. Trailing spaces are ignored (tables pad their last
column; editors strip them).

After changing what a command prints, rewrite the shown output of every such block with:

    python tests/test_readme_examples.py --update
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
PROMPT = "$ ratetool --data-dir examples/data"
FENCE = re.compile(r"^(```+)[^\n]*\n(.*?)^\1[ \t]*$", re.MULTILINE | re.DOTALL)


@dataclass(frozen=True)
class Example:
    path: Path
    command: str
    expected: str
    start: int  # offset of the block's body in the file
    end: int

    @property
    def args(self) -> list[str]:
        argv = shlex.split(self.command[2:])  # without "$ "
        assert argv[:3] == ["ratetool", "--data-dir", "examples/data"]
        return ["--data-dir", str(ROOT / "examples" / "data"), *argv[3:]]


def examples() -> list[Example]:
    found = []
    for path in DOCS:
        if not path.exists():
            continue
        text = path.read_text(encoding="utf-8")
        for match in FENCE.finditer(text):
            body = match.group(2)
            first, _, rest = body.partition("\n")
            if first.startswith(PROMPT):
                found.append(Example(path, first.strip(), rest, match.start(2), match.end(2)))
    return found


def normalise(text: str) -> list[str]:
    return [line.rstrip() for line in text.rstrip("\n").split("\n")]


def real_output(example: Example, config_dir: Path) -> str:
    from typer.testing import CliRunner

    from ratetool.cli import app

    result = CliRunner().invoke(
        app,
        ["--config-dir", str(config_dir), *example.args],
        # No cache: the examples read examples/data as committed and leave nothing in it (a
        # cache left by an older build of the same version would show its older wording).
        env={"NO_COLOR": "1", "COLUMNS": "100", "FORCE_COLOR": None, "RATETOOL_NO_CACHE": "1"},
    )
    assert result.exit_code == 0, (example.command, result.stdout, result.stderr)
    return result.stdout


EXAMPLES = examples()


def test_the_docs_have_examples() -> None:
    # The examples the reference has always shown stay (and stay tested) wherever they live.
    shown = {e.command.removeprefix(PROMPT).strip() for e in EXAMPLES}
    for command in [
        "summary",
        "summary --by month",
        "summary C-102",
        "chart C-102 --width 80 --height 16",
    ]:
        assert command in shown, command
    readme = [e for e in EXAMPLES if e.path == ROOT / "README.md"]
    assert [e.command for e in readme] == [f"{PROMPT} summary"]  # few and short


@pytest.mark.parametrize(
    "example",
    EXAMPLES,
    ids=[f"{e.path.relative_to(ROOT).as_posix()}: {e.command}" for e in EXAMPLES],
)
def test_example_output_is_real(example: Example, tmp_path: Path) -> None:
    shown = normalise(example.expected)
    real = normalise(real_output(example, tmp_path / "empty-config"))
    assert real == shown, f"{example.path.relative_to(ROOT)}: {example.command}\n" + "\n".join(real)


def test_demo_data_is_what_the_generator_writes(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    subprocess.run(
        [sys.executable, str(ROOT / "examples" / "make_demo_data.py"), str(out)],
        check=True,
        capture_output=True,
    )
    committed = ROOT / "examples" / "data"

    def data_files(root: Path) -> list[str]:
        # The summary cache (derived, git-ignored) may be there after the README examples ran.
        return sorted(
            p.relative_to(root).as_posix()
            for p in root.rglob("*")
            if p.is_file() and ".ratetool-cache" not in p.parts
        )

    names = data_files(out)
    assert names == data_files(committed)
    for name in names:
        assert (out / name).read_bytes() == (committed / name).read_bytes(), name
    # it never writes over a folder that is not empty, unless --force
    again = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "make_demo_data.py"), str(out)],
        capture_output=True,
        text=True,
    )
    assert again.returncode == 1 and "--force" in again.stderr
    forced = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "make_demo_data.py"), str(out), "--force"],
        capture_output=True,
        text=True,
    )
    assert forced.returncode == 0
    for name in names:
        assert (out / name).read_bytes() == (committed / name).read_bytes(), name


def test_demo_data_shows_the_three_stories(tmp_path: Path) -> None:
    """Steady strong, rupture and repair, slow decline caught by the alerts; two instruments."""
    from ratetool.cli.state import AppState
    from ratetool.report import caseload, caseload_json, client_json, client_report

    state = AppState(
        data_dir_option=str(ROOT / "examples" / "data"), config_dir_option=str(tmp_path / "cfg")
    )
    ratings = state.store.read_all().ratings
    rows = {r["client"]: r for r in caseload_json(caseload(ratings, state.resolve))}
    assert 3 <= len(rows) <= 5
    assert all(6 <= r["sessions"] <= 12 for r in rows.values())

    def alerts(code: str) -> list[list[str]]:
        of = [r for r in ratings if r.client == code]
        data = client_json(client_report(of, state.resolve, client=code))
        return [s["alerts"] for s in data["sessions"]]

    assert all(a == [] for a in alerts("C-101"))  # steady strong
    rupture = alerts("C-102")
    assert rupture[4] == ["drop", "low", "item"] and rupture[-1] == []  # rupture and repair
    decline = alerts("C-103")
    assert sum("drop" in a for a in decline) >= 5 and "low" in decline[-1]  # slow decline
    assert rows["C-103"]["attention"] == 1
    assert rows["C-104"]["instruments"] == ["core", "checkin"]


def _update() -> int:
    import tempfile

    changed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for path in DOCS:
            if not path.exists():
                continue
            text = path.read_text(encoding="utf-8")
            for example in sorted(
                (e for e in examples() if e.path == path), key=lambda e: e.start, reverse=True
            ):
                output = "\n".join(normalise(real_output(example, Path(tmp) / "cfg")))
                body = f"{example.command}\n{output}\n"
                if text[example.start : example.end] != body:
                    text = text[: example.start] + body + text[example.end :]
                    changed += 1
            path.write_text(text, encoding="utf-8", newline="\n")
    print(f"Updated {changed} example(s).")
    return 0


if __name__ == "__main__":
    if sys.argv[1:] == ["--update"]:
        os.environ["NO_COLOR"] = "1"
        sys.exit(_update())
    print(__doc__)
    sys.exit(2)
