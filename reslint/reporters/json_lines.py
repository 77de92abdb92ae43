"""`--format json-lines`: one JSON object a line, a finding each (for streaming tools)."""

from __future__ import annotations

import json
from typing import IO

from reslint.reporters import Report


def write(report: Report, out: IO[str]) -> None:
    for finding in report.findings:
        print(json.dumps(finding.to_dict(), ensure_ascii=False), file=out)
