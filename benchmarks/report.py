"""Renders the results tables of README.md and docs/ from the committed run records under results/.

A record is the small files of one finished run, `results/<task>/<name>/`: config.yaml, metrics.json (dev and test
scores, as `seqkit evaluate` writes them), log.jsonl (one line per epoch) and run.json (version, command line).
results/tables.yaml says which records and which scores make each table. A Markdown file holds a table between

    <!-- results:begin NAME -->
    ...
    <!-- results:end -->

and this script rewrites what lies between them, so no figure in those tables is typed by hand:

    python -m benchmarks.report --check     # exit 1, naming each table that differs from its records
    python -m benchmarks.report --write     # rewrite the tables in place

A row whose records have not landed yet keeps its row but shows no figure ("no record yet").
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

from seqkit.errors import SeqkitError

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "results"
DOCUMENTS = (ROOT / "README.md", ROOT / "docs")
RECORD_FILES = ("config.yaml", "metrics.json", "log.jsonl", "run.json")
BLOCK = re.compile(r"(<!-- results:begin (?P<name>[\w-]+) -->\n)(?P<body>.*?)(<!-- results:end -->)", re.DOTALL)
NO_RECORD = "no record yet"


class ReportError(SeqkitError):
    """A record, the tables file or a marked document is malformed (the message names the file)."""


@dataclass(frozen=True)
class Figure:
    """One score read from each record's metrics.json."""

    metric: str
    label: str
    split: str = "test"
    digits: int = 2


@dataclass(frozen=True)
class Record:
    """One run's committed files, read and checked."""

    name: str
    config: dict
    metrics: dict
    log: list[dict]
    run: dict

    def score(self, figure: Figure) -> float:
        scores = self.metrics.get(figure.split, {})
        if figure.metric not in scores:
            raise ReportError(f"results/{self.name}/metrics.json: no {figure.split}.{figure.metric}")
        return float(scores[figure.metric])


def read_record(results: Path, name: str) -> Record | None:
    """The record `results/<name>` (name is `<task>/<run>`), or None when it has not landed."""
    folder = results / name
    if not folder.is_dir():
        return None
    missing = [file for file in RECORD_FILES if not (folder / file).is_file()]
    if missing:
        raise ReportError(f"{folder}: a record needs {', '.join(RECORD_FILES)}; missing {', '.join(missing)}")
    if (folder / "model.safetensors").exists():
        raise ReportError(f"{folder}: records hold no weights; remove model.safetensors")
    try:
        config = yaml.safe_load((folder / "config.yaml").read_text(encoding="utf-8"))
        metrics = json.loads((folder / "metrics.json").read_text(encoding="utf-8"))
        run = json.loads((folder / "run.json").read_text(encoding="utf-8"))
        lines = (folder / "log.jsonl").read_text(encoding="utf-8").splitlines()
        log = [json.loads(line) for line in lines if line.strip()]
    except (yaml.YAMLError, json.JSONDecodeError) as error:
        raise ReportError(f"{folder}: unreadable record ({error})") from None
    task = name.split("/")[0]
    for file, content in (("config.yaml", config), ("run.json", run)):
        if not isinstance(content, dict) or content.get("task") != task:
            raise ReportError(f"{folder / file}: names task {content.get('task')!r}, but the record is under {task}/")
    return Record(name, config, metrics, log, run)


def _number(value: float, digits: int) -> str:
    return f"{value:,.{digits}f}"


def _summary(values: list[float], digits: int) -> str:
    """One run's figure, or the mean of several with their range."""
    mean = sum(values) / len(values)
    if len(values) == 1:
        return f"**{_number(mean, digits)}**"
    return f"**{_number(mean, digits)}** ({_number(min(values), digits)}-{_number(max(values), digits)})"


def _figures(spec: list) -> list[Figure]:
    return [Figure(**item) for item in spec]


def _records(results: Path, names: list[str]) -> list[Record] | None:
    """All of a row's records, or None while any of them is missing (a mean of some seeds would mislead)."""
    records = [read_record(results, name) for name in names]
    return None if any(record is None for record in records) else records


def _record_names(names: list[str]) -> str:
    return ", ".join(f"`{name}`" for name in names)


def summary_table(spec: dict, results: Path) -> str:
    """One row per task and dataset: seqkit's test figures (mean and range over the row's runs) beside a peer's."""
    lines = ["| task | dataset | seqkit | runs | peer (published or measured) |", "|---|---|---|---|---|"]
    for row in spec["rows"]:
        records = _records(results, row["records"])
        if records is None:
            figures = NO_RECORD
        else:
            figures = ", ".join(
                f"{figure.label} {_summary([record.score(figure) for record in records], figure.digits)}"
                for figure in _figures(row["figures"])
            )
        runs = f"{len(row['records'])}: {_record_names(row['records'])}"
        lines.append(f"| {row['task']} | {row['dataset']} | {figures} | {runs} | {row['peer']} |")
    return "\n".join(lines) + "\n"


def runs_table(spec: dict, results: Path) -> str:
    """One row per record: its seed, its best epoch and dev score, its test figures, its time and memory."""
    figures = _figures(spec["figures"])
    header = ["record", "seed", "best epoch", *[figure.label for figure in figures], "s in epochs", "peak RSS MiB"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name in spec["records"]:
        record = read_record(results, name)
        if record is None:
            lines.append(f"| `{name}` | {NO_RECORD} |" + " |" * (len(header) - 2))
            continue
        dev = record.metrics.get("dev", {})
        seconds = sum(float(entry.get("seconds", 0.0)) for entry in record.log)
        memory = max((float(entry["peak_rss_mib"]) for entry in record.log if "peak_rss_mib" in entry), default=None)
        cells = [
            f"`{name}`",
            str(record.config.get("seed", "")),
            f"{dev.get('best_epoch', '')} of {dev.get('epochs', len(record.log))}",
            *[_number(record.score(figure), figure.digits) for figure in figures],
            f"{seconds:,.0f}",
            "" if memory is None else f"{memory:,.0f}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def suite_table(spec: dict, results: Path) -> str:
    """One row per corpus: each recipe's test accuracy (from its record) and wall seconds, beside fastText's.

    The seconds and fastText's figures come from the JSON of `python -m benchmarks.textcls` (`spec["benchmarks"]`,
    files under results/; each run trained its recipes and fastText side by side, and a corpus's fastText figure is
    taken from the first file that has it); the records are `sentiment/textcls-<recipe>-<corpus>`.
    """
    measured: dict = {}
    for name in spec["benchmarks"]:
        path = results / name
        try:
            corpora = json.loads(path.read_text(encoding="utf-8"))["corpora"] if path.is_file() else {}
        except (json.JSONDecodeError, KeyError, TypeError) as error:
            raise ReportError(f"{path}: unreadable benchmark output ({error})") from None
        for corpus, row in corpora.items():
            merged = measured.setdefault(corpus, {})
            merged.update({key: value for key, value in row.items() if key not in merged})
    header = ["corpus", *[f"`{recipe}`" for recipe in spec["recipes"]], "fastText", "seconds (same order)"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for corpus in spec["corpora"]:
        row = measured.get(corpus, {})
        cells, seconds = [corpus], []
        for recipe in spec["recipes"]:
            record = read_record(results, f"sentiment/textcls-{recipe}-{corpus}")
            accuracy = record.score(Figure("accuracy", "accuracy")) if record is not None else None
            if accuracy is not None:
                cells.append(f"{accuracy:.2f}")
            else:  # a benchmark that measured it but whose record has not landed, or a pair never run
                cells.append(NO_RECORD if recipe in row else "not run")
            seconds.append(f"{row[recipe]['seconds']:.1f}" if recipe in row else "-")
        fasttext = row.get("fasttext")
        cells.append(f"{fasttext['accuracy']:.2f}" if fasttext else "not run")
        seconds.append(f"{fasttext['seconds']:.1f}" if fasttext else "-")
        lines.append("| " + " | ".join([*cells, " / ".join(seconds)]) + " |")
    return "\n".join(lines) + "\n"


RENDERERS = {"summary": summary_table, "runs": runs_table, "suite": suite_table}


def read_tables(results: Path) -> dict:
    path = results / "tables.yaml"
    try:
        tables = yaml.safe_load(path.read_text(encoding="utf-8"))["tables"]
    except (OSError, yaml.YAMLError, KeyError, TypeError) as error:
        raise ReportError(f"{path}: cannot read the tables ({error})") from None
    for name, spec in tables.items():
        if spec.get("kind") not in RENDERERS:
            raise ReportError(f"{path}: table {name}: kind must be one of {', '.join(RENDERERS)}")
    return tables


def render_document(text: str, tables: dict, results: Path, where: str) -> str:
    """`text` with every marked table rendered afresh from its records."""

    def replace(match: re.Match) -> str:
        name = match["name"]
        if name not in tables:
            raise ReportError(f"{where}: table {name!r} is not in results/tables.yaml")
        spec = tables[name]
        return match.group(1) + RENDERERS[spec["kind"]](spec, results) + match.group(4)

    return BLOCK.sub(replace, text)


def marked_documents(documents: tuple[Path, ...]) -> list[Path]:
    paths = []
    for document in documents:
        paths.extend(sorted(document.rglob("*.md")) if document.is_dir() else [document])
    return [path for path in paths if "<!-- results:begin" in path.read_text(encoding="utf-8")]


def report(results: Path, documents: tuple[Path, ...], write: bool) -> list[Path]:
    """The documents whose tables differ from their records (rewritten first when `write`)."""
    tables = read_tables(results)
    stale = []
    for path in marked_documents(documents):
        text = path.read_text(encoding="utf-8")
        rendered = render_document(text, tables, results, str(path))
        if rendered != text:
            stale.append(path)
            if write:
                path.write_text(rendered, encoding="utf-8")
    return stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--check", action="store_true", help="exit 1 when a table differs from its records")
    mode.add_argument("--write", action="store_true", help="rewrite the tables in place")
    parser.add_argument("--results", type=Path, default=RESULTS, help="the records folder (default: results/)")
    parser.add_argument("documents", nargs="*", type=Path, help="Markdown files or folders (default: README, docs/)")
    arguments = parser.parse_args(argv)
    documents = tuple(arguments.documents) or DOCUMENTS
    try:
        stale = report(arguments.results, documents, write=arguments.write)
    except SeqkitError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for path in stale:
        verb = "rewrote" if arguments.write else "out of date with its records (python -m benchmarks.report --write)"
        print(f"{path}: {verb}", file=sys.stderr if arguments.check else sys.stdout)
    return 1 if stale and arguments.check else 0


if __name__ == "__main__":
    sys.exit(main())
