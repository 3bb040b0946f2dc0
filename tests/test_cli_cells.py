"""`seqkit list` shows every recurrent cell; `seqkit validate` accepts each one and rejects unknown names."""

import pytest
from typer.testing import CliRunner

from seqkit.cli import app
from seqkit.errors import ConfigError
from seqkit.layers.cells import CELLS


def test_list_shows_every_cell():
    result = CliRunner().invoke(app, ["list"])
    assert result.exit_code == 0
    cells_line = next(line for line in result.output.splitlines() if line.startswith("cells:"))
    for cell in CELLS:
        assert f"{cell} (" in cells_line


@pytest.mark.parametrize("cell", list(CELLS))
def test_validate_accepts_every_cell(cell):
    result = CliRunner().invoke(app, ["validate", "atis", "--set", f"rnn.cell={cell}"])
    assert result.exit_code == 0, result.output
    assert f"cell: {cell}" in result.output


def test_validate_rejects_an_unknown_cell_naming_the_key():
    result = CliRunner().invoke(app, ["validate", "atis", "--set", "rnn.cell=lstn"])
    assert isinstance(result.exception, ConfigError)
    assert "rnn.cell" in str(result.exception) and "peephole_lstm" in str(result.exception)
