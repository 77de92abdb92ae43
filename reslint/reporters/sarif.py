"""`--format sarif`: a SARIF 2.1.0 log, as GitHub code scanning accepts it.

Each rule of the catalogue is described once (short description: its summary; full description and
help: its documentation); each result points at its rule by id and index. Columns count characters
(`columnKind: unicodeCodePoints`), end columns are exclusive, as reslint's own.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from reslint import __version__
from reslint.findings import Finding, Severity
from reslint.reporters import Report

if TYPE_CHECKING:
    from reslint.vocabulary import CodeInfo

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def write(report: Report, out: IO[str]) -> None:
    print(json.dumps(sarif_log(report), indent=2, ensure_ascii=False), file=out)


def sarif_log(report: Report) -> dict[str, Any]:
    from reslint.vocabulary import all_codes

    rules = [info for info in all_codes() if info.origin == "static"]
    index = {rule.code: position for position, rule in enumerate(rules)}
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "reslint",
                        "version": __version__,
                        "rules": [_descriptor(rule) for rule in rules],
                    }
                },
                "columnKind": "unicodeCodePoints",
                "results": [_result(finding, index) for finding in report.findings],
            }
        ],
    }


def _descriptor(rule: CodeInfo) -> dict[str, Any]:
    documentation = rule.documentation or rule.summary
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": documentation},
        "help": {"text": documentation, "markdown": documentation},
        "defaultConfiguration": {"level": _LEVEL[rule.severity], "enabled": not rule.opt_in},
    }


def _result(finding: Finding, index: dict[str, int]) -> dict[str, Any]:
    # SARIF regions know lines, not notebook cells: the cell is named in the message and a property.
    cell = f"cell {finding.cell}: " if finding.cell is not None else ""
    hint = f" (hint: {finding.hint})" if finding.hint else ""
    result: dict[str, Any] = {
        "ruleId": finding.code,
        "level": _LEVEL.get(finding.severity, "error"),
        "message": {"text": cell + finding.message + hint},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": _artifact(finding.path),
                    "region": {
                        "startLine": finding.line,
                        "startColumn": finding.column,
                        "endLine": finding.end_line,
                        "endColumn": finding.end_column,
                    },
                }
            }
        ],
    }
    if finding.code in index:
        result["ruleIndex"] = index[finding.code]
    if finding.cell is not None:
        result["properties"] = {"cell": finding.cell}
    return result


def _artifact(path: str) -> dict[str, str]:
    """Relative paths (as code scanning wants them) against the checkout root, %SRCROOT%."""
    if os.path.isabs(path):
        relative = os.path.relpath(path)
        if relative.startswith(os.pardir):
            return {"uri": Path(path).as_uri()}
        path = relative
    return {"uri": Path(path).as_posix(), "uriBaseId": "%SRCROOT%"}
