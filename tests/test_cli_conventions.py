"""Conventions every ratetool command keeps: help, version, exit statuses, colour, no stray I/O.

The command tree is walked at collection time, so a command added later is checked too.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

import ratetool
from ratetool.cli import app

#: Options Typer adds to the root command; they are Typer's, not ratetool's.
TYPER_OPTIONS = {"install_completion", "show_completion", "help"}
ANSI = "\x1b["
#: SGR parameters that set a colour (foreground, background, 256/true colour, bright).
COLOUR_SGR = re.compile(r"\x1b\[(?:[0-9]*;)*(?:3[0-9]|4[0-9]|9[0-7]|10[0-7])(?:;[0-9]*)*m")


def run(args: list[str], input: str | None = None, **kwargs):
    return CliRunner().invoke(app, args, input=input, **kwargs)


def command_paths() -> list[tuple[str, ...]]:
    """Every command and group below the root, as the words typed after ``ratetool``."""
    found: list[tuple[str, ...]] = [()]

    def walk(command, path: tuple[str, ...]) -> None:
        for name, sub in sorted(subcommands(command).items()):
            found.append((*path, name))
            walk(sub, (*path, name))

    walk(typer.main.get_command(app), ())
    return found


def subcommands(command) -> dict:
    """A group's subcommands through Click's own API (ratetool builds them lazily)."""
    if not hasattr(command, "list_commands"):
        return {}
    ctx = typer.Context(command)
    return {name: command.get_command(ctx, name) for name in command.list_commands(ctx)}


def command_at(path: tuple[str, ...]):
    command = typer.main.get_command(app)
    for name in path:
        command = subcommands(command)[name]
    return command


def path_id(path: tuple[str, ...]) -> str:
    return " ".join(path) or "ratetool"


def subprocess_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "RATETOOL_DEBUG")}
    env.update(extra)
    return env


def run_python(code: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code],
        env=env or subprocess_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )


# -- 14. help text everywhere ----------------------------------------------------------------------


def test_the_command_tree_is_walked():
    paths = command_paths()
    assert ("rate",) in paths
    assert ("instruments", "list") in paths  # subcommands of groups too
    assert len(paths) >= 8


@pytest.mark.parametrize("path", command_paths(), ids=path_id)
def test_every_command_has_help_text(path):
    command = command_at(path)
    text = (command.help or command.short_help or "").strip()
    assert text, f"`ratetool {path_id(path)}` has no help text"
    assert not text.endswith("..."), text
    for param in command.params:
        if param.name in TYPER_OPTIONS or getattr(param, "hidden", False):
            continue
        assert (getattr(param, "help", None) or "").strip(), (
            f"`ratetool {path_id(path)}`: {param.name} has no help text"
        )


@pytest.mark.parametrize("path", command_paths(), ids=path_id)
@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help_exits_0_for_every_command(path, flag, data_dir, config_dir):
    result = run([*path, flag])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output
    assert "Traceback" not in result.output
    first_help_line = (command_at(path).help or "").strip().splitlines()[0]
    assert first_help_line[:30] in " ".join(result.output.split())
    assert not data_dir.exists()
    assert not config_dir.exists()


# -- 15. --version ---------------------------------------------------------------------------------


def test_version_option():
    result = run(["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"ratetool {ratetool.__version__}"
    assert re.fullmatch(r"\d+\.\d+\.\d+\S*", ratetool.__version__)


def test_python_m_ratetool_version():
    proc = subprocess.run(
        [sys.executable, "-m", "ratetool", "--version"],
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"ratetool {ratetool.__version__}"
    assert proc.stderr == ""


def test_installed_script_version():
    script = Path(sys.executable).with_name("ratetool")
    if not script.is_file():  # e.g. a --user install: the script is on PATH instead
        script = Path(shutil.which("ratetool") or script)
    assert script.is_file(), "the ratetool entry point is not installed"
    proc = subprocess.run(
        [str(script), "--version"], env=subprocess_env(), capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"ratetool {ratetool.__version__}"


# -- 16. --version stays light ---------------------------------------------------------------------

HEAVY = ("rich", "tomllib", "csv", "filelock", "ratetool.render", "plotext")

VERSION_PROBE = f"""
import json, sys
sys.argv = ["ratetool", "--version"]
from ratetool.cli import main
try:
    main()
except SystemExit as exc:
    code = exc.code
else:
    code = 0
print(json.dumps({{"code": code, "loaded": [m for m in {HEAVY!r} if m in sys.modules]}}))
"""


def test_version_imports_nothing_heavy():
    proc = run_python(VERSION_PROBE)
    assert proc.returncode == 0, proc.stderr
    version_line, probe_line = proc.stdout.strip().splitlines()
    assert version_line == f"ratetool {ratetool.__version__}"
    probe = json.loads(probe_line)
    assert probe["code"] in (0, None)
    assert probe["loaded"] == [], f"--version imported {probe['loaded']}"


def test_the_import_probe_can_see_heavy_imports():
    """Control for the test above: the same probe does see the renderer when a command loads it."""
    probe = VERSION_PROBE.replace('"--version"', '"instruments", "list"')
    proc = run_python(probe, subprocess_env(COLUMNS="100"))
    assert proc.returncode == 0, proc.stderr
    loaded = json.loads(proc.stdout.strip().splitlines()[-1])["loaded"]
    assert "ratetool.render" in loaded and "tomllib" in loaded


RICH = ("rich", "ratetool.render")

#: Runs ratetool in this process with ``input`` replaced: the first time the program asks
#: (the first question of ``rate``), or asks ``AT`` (a prompt of the review), it records which
#: modules are loaded and ends the input there.
ASK_PROBE = """
import builtins, json, sys
seen = {{}}
def ask(prompt=""):
    if {at!r} in prompt or not {at!r}:
        seen["loaded"] = [m for m in {rich!r} if m in sys.modules]
        raise EOFError
    return {answer!r}
builtins.input = ask
sys.argv = ["ratetool", *{args!r}]
from ratetool.cli import main
try:
    main()
except SystemExit:
    pass
print(json.dumps(seen.get("loaded")))
"""


def loaded_when_asked(args: list[str], at: str = "", answer: str = "") -> list[str]:
    probe = ASK_PROBE.format(at=at, rich=RICH, args=args, answer=answer)
    proc = run_python(probe)
    loaded = json.loads(proc.stdout.strip().splitlines()[-1])
    assert loaded is not None, (proc.stdout, proc.stderr)  # it did get to the question
    return loaded


def test_rate_reaches_its_first_question_without_rich(data_dir):
    assert loaded_when_asked(["rate", "C-014"]) == []


def test_the_rate_probe_sees_rich_at_the_review(data_dir):
    """Control for the test above: the review is drawn with rich, and the probe sees it."""
    loaded = loaded_when_asked(["rate", "C-014"], at="Press Enter to save", answer="5")
    assert "rich" in loaded


@pytest.mark.parametrize(
    "argv", [["--help"], ["rate", "--help"], ["summary", "--help"]], ids=" ".join
)
def test_help_does_not_import_rich(argv):
    probe = VERSION_PROBE.replace('"--version"', ", ".join(repr(a) for a in argv))
    proc = run_python(probe)
    assert proc.returncode == 0, proc.stderr
    loaded = json.loads(proc.stdout.strip().splitlines()[-1])["loaded"]
    assert not set(RICH) & set(loaded), loaded


def test_shell_completion_does_not_import_rich():
    probe = VERSION_PROBE.replace('"--version"', "")
    env = subprocess_env(
        _RATETOOL_COMPLETE="complete_bash", COMP_WORDS="ratetool su", COMP_CWORD="1"
    )
    proc = run_python(probe, env)
    assert proc.returncode == 0, proc.stderr
    completed, probe_line = proc.stdout.strip().splitlines()
    assert completed == "summary"  # it did complete
    assert not set(RICH) & set(json.loads(probe_line)["loaded"])


# -- 17. usage errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["rate"],  # missing CLIENT
        ["rate", "C-014", "--no-such-option"],
        ["--no-such-option"],
        ["rate", "C-014", "--answers"],  # option without its value
        ["no-such-command"],
        ["instruments", "show"],  # missing ID
        ["instruments", "no-such-subcommand"],
        ["rate", "C-014", "extra-argument"],
    ],
    ids=path_id,
)
def test_usage_errors_exit_2(args, data_dir):
    result = run(args, input="")
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert "Error" in result.stderr  # Click's message box, on stderr
    assert result.stdout == ""
    assert not data_dir.exists()


def test_usage_error_in_a_real_process_exits_2(data_dir):
    proc = subprocess.run(
        [sys.executable, "-m", "ratetool", "rate"],
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 2
    assert "Missing argument" in proc.stderr
    assert "Traceback" not in proc.stderr


# -- 18. NO_COLOR ----------------------------------------------------------------------------------


@pytest.mark.parametrize("term", ["xterm-256color", "dumb"])
def test_no_color_output_has_no_escapes(monkeypatch, term):
    monkeypatch.setenv("TERM", term)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    result = run(["instruments", "list"])
    assert result.exit_code == 0, result.output
    assert "checkin" in result.output and "core" in result.output
    assert ANSI not in result.output


def test_no_color_output_of_a_real_process_has_no_escapes():
    proc = subprocess.run(
        [sys.executable, "-m", "ratetool", "instruments", "list"],
        env=subprocess_env(NO_COLOR="1", TERM="xterm-256color"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "checkin" in proc.stdout
    assert ANSI not in proc.stdout + proc.stderr


def test_clients_json_is_plain_json(monkeypatch, data_dir):
    monkeypatch.setenv("TERM", "xterm-256color")
    for client, answers in (("C-001", "8,9,7,10"), ("C-002", "1,2,3,4")):
        assert run(["rate", client, "--answers", answers, "--yes"]).exit_code == 0
    result = run(["clients", "--json"])
    assert result.exit_code == 0, result.output
    assert ANSI not in result.stdout
    rows = json.loads(result.stdout)
    assert [(r["client"], r["sessions"]) for r in rows] == [("C-001", 1), ("C-002", 1)]
    assert result.stderr == ""
    empty = run(["--data-dir", str(data_dir.parent / "empty"), "clients", "--json"])
    assert empty.exit_code == 0
    assert json.loads(empty.stdout) == []


def test_no_color_in_a_real_terminal_means_no_colour():
    """In a pseudo-terminal the summary is coloured; NO_COLOR=1 must turn every colour off.

    (Bold and dim stay under NO_COLOR, which the NO_COLOR convention allows: it is about
    colour. The control run without NO_COLOR proves the check would see colour if it were there.)
    """
    if sys.platform == "win32":  # pragma: no cover
        pytest.fail("pseudo-terminal test run on Windows")
    import pexpect

    python = shlex.quote(sys.executable)
    demo = shlex.quote(str(Path(__file__).resolve().parent.parent / "examples" / "data"))
    command = f"{python} -m ratetool --data-dir {demo} summary"
    base = subprocess_env(TERM="xterm-256color", COLUMNS="100", RATETOOL_NO_CACHE="1")
    base.pop("NO_COLOR", None)
    coloured, status = pexpect.run(
        command, env=base, encoding="utf-8", withexitstatus=True, timeout=30
    )
    assert status == 0
    assert COLOUR_SGR.search(coloured), "control: the summary bands in a terminal are coloured"
    for args in ("rate --help", "instruments list", f"--data-dir {demo} summary"):
        out, status = pexpect.run(
            f"{python} -m ratetool {args}",
            env={**base, "NO_COLOR": "1"},
            encoding="utf-8",
            withexitstatus=True,
            timeout=30,
        )
        assert status == 0, out
        assert not COLOUR_SGR.search(out), (args, sorted(set(re.findall(r"\x1b\[[0-9;]*m", out))))


# -- 19. bugs --------------------------------------------------------------------------------------


def _explode(*args, **kwargs):
    raise RuntimeError("answers: secret-answer-value")


@pytest.mark.parametrize(
    "target,args",
    [
        ("ratetool.answers.build_rating", ["rate", "C-014", "--answers", "8,9,7,10", "--yes"]),
        ("ratetool.questionnaire.Interview.run", ["rate", "C-014"]),
        ("ratetool.paths.data_dir", ["paths"]),
    ],
    ids=["rate-answers", "rate-interactive", "paths"],
)
def test_a_bug_exits_70_with_one_calm_line(monkeypatch, data_dir, target, args):
    monkeypatch.setattr(target, _explode)
    result = run(args, input="8\n9\n7\n10\n\n\n")
    assert result.exit_code == 70, result.output
    assert isinstance(result.exception, SystemExit)
    message = result.stderr.strip()
    assert "\n" not in message
    assert "This is a bug" in message
    assert "RuntimeError" in message
    assert "Traceback" not in result.output
    assert "secret-answer-value" not in result.output  # the exception text may hold answers
    assert not data_dir.exists()


@pytest.mark.parametrize("how", ["--debug", "RATETOOL_DEBUG"])
def test_a_bug_shows_the_traceback_on_stderr_only_when_asked(monkeypatch, data_dir, how):
    monkeypatch.setattr("ratetool.answers.build_rating", _explode)
    args = ["rate", "C-014", "--answers", "8,9,7,10", "--yes"]
    if how == "--debug":
        args = ["--debug", *args]
    else:
        monkeypatch.setenv("RATETOOL_DEBUG", "1")
    result = run(args)
    assert result.exit_code == 70
    assert "Traceback (most recent call last)" in result.stderr
    assert "RuntimeError" in result.stderr
    assert "Traceback" not in result.stdout
    assert "This is a bug" in result.stderr
    assert not data_dir.exists()


def test_a_bug_in_a_subprocess_exits_70(tmp_path):
    """The real exit status, through the installed entry point's process."""
    code = (
        "import sys, ratetool.paths\n"
        "def boom(*a, **k): raise RuntimeError('boom')\n"
        "ratetool.paths.data_dir = boom\n"
        "sys.argv = ['ratetool', 'paths']\n"
        "from ratetool.cli import main\n"
        "main()\n"
    )
    proc = run_python(code)
    assert proc.returncode == 70
    assert "This is a bug" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""


# -- 20. no I/O on import, --help or paths ---------------------------------------------------------


def test_import_help_and_paths_create_nothing(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    data = tmp_path / "not-yet" / "data"
    config = tmp_path / "not-yet" / "config"
    env = subprocess_env(
        HOME=str(home),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        XDG_CONFIG_HOME=str(home / ".config"),
        RATETOOL_DATA_DIR=str(data),
        RATETOOL_CONFIG_DIR=str(config),
    )
    code = (
        "import ratetool, ratetool.cli, sys\n"
        "from ratetool.cli import main\n"
        "for argv in (['--help'], ['paths'], ['paths', '--json'], ['rate', '--help'],\n"
        "             ['--version']):\n"
        "    sys.argv = ['ratetool', *argv]\n"
        "    try:\n"
        "        main()\n"
        "    except SystemExit as exc:\n"
        "        assert exc.code in (0, None), (argv, exc.code)\n"
    )
    proc = run_python(code, env)
    assert proc.returncode == 0, proc.stderr
    assert str(data) in proc.stdout  # `paths` showed the folder ...
    assert not (tmp_path / "not-yet").exists()  # ... without making it
    assert list(home.iterdir()) == []
    # The default folders (no environment variables) are not created either.
    env.pop("RATETOOL_DATA_DIR")
    env.pop("RATETOOL_CONFIG_DIR")
    proc = run_python(code, env)
    assert proc.returncode == 0, proc.stderr
    assert list(home.iterdir()) == []


def test_reading_commands_on_a_missing_data_folder_create_nothing(data_dir, config_dir):
    for args in (
        ["paths"],
        ["clients"],
        ["clients", "--json"],
        ["instruments", "list"],
        ["instruments", "show", "checkin"],
    ):
        result = run(args)
        assert result.exit_code == 0, (args, result.output)
    assert not data_dir.exists()
    assert not config_dir.exists()


# -- 21. folder precedence -------------------------------------------------------------------------


def paths_json(args: list[str]) -> dict:
    result = run([*args, "paths", "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_data_and_config_folder_precedence(monkeypatch, tmp_path):
    import platformdirs

    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "xdg-data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "xdg-config"))
    env_data, env_config = tmp_path / "env-data", tmp_path / "env-config"
    opt_data, opt_config = tmp_path / "opt-data", tmp_path / "opt-config"
    monkeypatch.setenv("RATETOOL_DATA_DIR", str(env_data))
    monkeypatch.setenv("RATETOOL_CONFIG_DIR", str(env_config))

    # option over environment
    info = paths_json(["--data-dir", str(opt_data), "--config-dir", str(opt_config)])
    assert (info["data_dir"], info["data_dir_from"]) == (str(opt_data), "--data-dir")
    assert (info["config_dir"], info["config_dir_from"]) == (str(opt_config), "--config-dir")
    assert info["config_file"] == str(opt_config / "config.toml")
    assert info["instruments_dir"] == str(opt_config / "instruments")

    # each option alone overrides only its own folder
    info = paths_json(["--data-dir", str(opt_data)])
    assert info["data_dir"] == str(opt_data)
    assert (info["config_dir"], info["config_dir_from"]) == (str(env_config), "RATETOOL_CONFIG_DIR")
    info = paths_json(["--config-dir", str(opt_config)])
    assert (info["data_dir"], info["data_dir_from"]) == (str(env_data), "RATETOOL_DATA_DIR")
    assert info["config_dir"] == str(opt_config)

    # environment over default
    info = paths_json([])
    assert (info["data_dir"], info["data_dir_from"]) == (str(env_data), "RATETOOL_DATA_DIR")
    assert (info["config_dir"], info["config_dir_from"]) == (str(env_config), "RATETOOL_CONFIG_DIR")

    # default: the platform's folders (empty variables count as unset)
    monkeypatch.setenv("RATETOOL_DATA_DIR", "")
    monkeypatch.delenv("RATETOOL_CONFIG_DIR")
    info = paths_json([])
    default_data = platformdirs.user_data_dir("ratetool", appauthor=False, roaming=True)
    default_config = platformdirs.user_config_dir("ratetool", appauthor=False, roaming=True)
    assert (info["data_dir"], info["data_dir_from"]) == (default_data, "default")
    assert (info["config_dir"], info["config_dir_from"]) == (default_config, "default")
    assert info["data_dir"].startswith(str(home))

    # relative paths and ~ are made absolute
    monkeypatch.chdir(tmp_path)
    info = paths_json(["--data-dir", "rel/data", "--config-dir", "~/cfg"])
    assert info["data_dir"] == str(tmp_path / "rel" / "data")
    assert info["config_dir"] == str(home / "cfg")

    # nothing was created along the way
    assert not home.exists()
    for folder in (env_data, env_config, opt_data, opt_config):
        assert not folder.exists()


def test_data_dir_option_is_where_rate_writes(tmp_path, data_dir):
    chosen = tmp_path / "chosen"
    result = run(["--data-dir", str(chosen), "rate", "C-014", "--answers", "8,9,7,10", "--yes"])
    assert result.exit_code == 0, result.output
    assert (chosen / "clients" / "C-014.toml").is_file()
    assert str(chosen / "clients" / "C-014.toml") in result.output
    assert not data_dir.exists()  # RATETOOL_DATA_DIR was overridden


# -- a reader that goes away (`ratetool paths | head -0`) ------------------------------------------


@pytest.mark.parametrize(
    "args", [["paths"], ["rate", "C-014", "--answers", "8,9,7,10", "--yes"]], ids=path_id
)
def test_a_closed_output_pipe_is_not_reported_as_a_file_problem(data_dir, args):
    with subprocess.Popen(
        [sys.executable, "-m", "ratetool", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=subprocess_env(),
    ) as proc:
        proc.stdout.close()  # before the program writes: its first write meets a closed pipe
        err = proc.stderr.read().decode("utf-8", "replace")
        proc.wait(timeout=60)
    # `rate` saved the rating (checked below): exit 0, or a script would retry and store it twice
    assert proc.returncode == (0 if args[0] == "rate" else 1)
    assert "Could not use" not in err
    assert "Nothing was changed" not in err  # untrue after a save: the rating below is stored
    assert "Traceback" not in err
    if args[0] == "rate":
        from ratetool.store import open_store

        assert len(open_store(data_dir).read_client("C-014").ratings) == 1
