"""`--statistics`: how many findings of each code, most frequent first, instead of the findings."""

from __future__ import annotations

import json
from collections import Counter
from typing import IO

from reslint.reporters import Report


def write(report: Report, out: IO[str], as_json: bool = False) -> None:
    from reslint.vocabulary import all_codes

    names = {info.code: info.name for info in all_codes()}
    counts = Counter(finding.code for finding in report.findings)
    rows = [
        {"code": code, "name": names.get(code, ""), "count": number}
        for code, number in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    ]
    if as_json:
        print(json.dumps(rows, indent=2), file=out)
        return
    width = len(str(max(counts.values(), default=0)))
    for row in rows:
        print(f"{row['count']:>{width}}  {row['code']}  {row['name']}", file=out)
