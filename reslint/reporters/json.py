"""`--format json`: one JSON array of findings (Finding.to_dict objects)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import IO

from reslint.findings import Finding
from reslint.reporters import Report


def findings_to_json(findings: Iterable[Finding]) -> str:
    return json.dumps([finding.to_dict() for finding in findings], indent=2, ensure_ascii=False)


def write(report: Report, out: IO[str]) -> None:
    print(findings_to_json(report.findings), file=out)
