"""seqkit as an installed package: the package list, a built wheel that finds its recipes away from the
repository, `seqkit --version`, and usage errors that are one line with exit status 2."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import click
import pytest
import tomllib

from seqkit.cli import _click_exit_status
from seqkit.version import __version__

REPOSITORY = Path(__file__).resolve().parent.parent
# The console script pip wrote beside this interpreter (the venv's bin/).
CONSOLE_SCRIPT = Path(sys.executable).parent / "seqkit"


def test_the_package_list_names_every_package_folder():
    setuptools = tomllib.loads((REPOSITORY / "pyproject.toml").read_text())["tool"]["setuptools"]
    folders = {
        ".".join(path.relative_to(REPOSITORY).parts)
        for path in [REPOSITORY / "seqkit", *(REPOSITORY / "seqkit").rglob("*")]
        if path.is_dir() and path.name != "__pycache__"
    }
    assert set(setuptools["packages"]) == folders | {"seqkit.recipes"}
    assert setuptools["package-dir"] == {"seqkit.recipes": "recipes"}


def test_a_built_wheel_finds_its_recipes_away_from_the_repository(tmp_path):
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        (source / name).write_bytes((REPOSITORY / name).read_bytes())
    for name in ("seqkit", "recipes"):
        _copy_tree(REPOSITORY / name, source / name)
    # `python -m build` makes the sdist, then the wheel from the sdist: the recipes must survive both.
    command = [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(tmp_path / "dist"), str(source)]
    built = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path)
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-2000:]
    (wheel,) = (tmp_path / "dist").glob("seqkit-*.whl")
    recipes = sorted(path.name for path in (REPOSITORY / "recipes").glob("*.yaml"))
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        archive.extractall(tmp_path / "site")
    assert {f"seqkit/recipes/{name}" for name in recipes} <= names
    assert "seqkit/serving/static/demo.html" in names

    # The unpacked wheel comes first on the path, in a folder with no recipes/ beside the package.
    environment = {**os.environ, "PYTHONPATH": str(tmp_path / "site"), "OMP_NUM_THREADS": "1"}
    seqkit = [sys.executable, "-m", "seqkit"]
    listed = subprocess.run([*seqkit, "list"], capture_output=True, text=True, env=environment, cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    (line,) = [line for line in listed.stdout.splitlines() if line.startswith("recipes:")]
    assert line.split(":", 1)[1].strip().split(", ") == [name.removesuffix(".yaml") for name in recipes]
    validated = subprocess.run(
        [*seqkit, "validate", "atis_scratch"], capture_output=True, text=True, env=environment, cwd=tmp_path
    )
    assert validated.returncode == 0, validated.stderr
    assert validated.stderr.strip() == "ok: atis_scratch is a valid slot-filling recipe"
    where = [sys.executable, "-c", "import seqkit.config as c; print(c.__file__); print(c.recipe_folder())"]
    module, folder = subprocess.run(where, capture_output=True, text=True, env=environment, cwd=tmp_path).stdout.split()
    assert Path(module).is_relative_to(tmp_path / "site") and Path(folder) == tmp_path / "site" / "seqkit" / "recipes"


def _copy_tree(source: Path, target: Path) -> None:
    for path in source.rglob("*"):
        if "__pycache__" in path.parts or path.is_dir():
            continue
        destination = target / path.relative_to(source)
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_bytes(path.read_bytes())


def test_version():
    finished = subprocess.run([str(CONSOLE_SCRIPT), "--version"], capture_output=True, text=True)
    assert finished.returncode == 0 and finished.stdout == f"seqkit {__version__}\n"


@pytest.mark.parametrize(
    "arguments",
    [["tag", "--bogus", "x"], ["bogus"], ["train", "slot-filling", "--nproc", "many"]],
    ids=["unknown option", "unknown command", "bad value"],
)
def test_usage_errors_of_the_console_script_are_one_line_with_status_2(arguments):
    finished = subprocess.run([str(CONSOLE_SCRIPT), *arguments], capture_output=True, text=True)
    assert finished.returncode == 2
    assert finished.stderr.count("\n") == 1 and finished.stderr.startswith("error: "), finished.stderr
    assert "--help" in finished.stderr


def test_usage_errors_of_click_itself_are_one_line_too(capsys):
    """typer up to 0.2x raises click's own exceptions instead of those of its bundled copy."""
    context = click.Context(click.Command("tag"), info_name="seqkit tag")
    assert _click_exit_status(click.exceptions.NoSuchOption("--bogus", ctx=context)) == 2
    message = capsys.readouterr().err  # click's own wording differs between its versions
    assert message.startswith("error: No such option") and "--bogus" in message and message.count("\n") == 1
    assert message.endswith(" (see 'seqkit tag --help')\n")
    assert _click_exit_status(click.exceptions.Exit(3)) == 3
    assert _click_exit_status(ValueError("not click's")) is None
