"""One sitting at the centre, measured: run the browser test of the standard case on the demo
and on the production stack, and put its tables of actions and waits into bench/README.md.

    .venv/bin/python -m bench.sitting

The test (tests/test_browser_sitting.py) counts the portal actions from the police upload to
已结案 and times the system's wait after each; this script only runs it and files its tables
between the markers of the README's "One sitting" section.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "bench" / "README.md"
BEGIN, END = "<!-- sitting:begin -->", "<!-- sitting:end -->"


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        tables = Path(folder) / "sitting.md"
        env = {**os.environ, "DAOJIAO_SITTING_REPORT": str(tables)}
        command = [sys.executable, "-m", "pytest", "-n", "0", "-q", "tests/test_browser_sitting.py"]
        result = subprocess.run(command, cwd=ROOT, env=env, check=False)  # noqa: S603 - our own tests
        if result.returncode != 0:
            return result.returncode
        measured = tables.read_text(encoding="utf-8")
    print(measured)
    text = README.read_text(encoding="utf-8")
    head, tail = text.partition(BEGIN)[0], text.partition(END)[2]
    README.write_text(
        f"{head}{BEGIN}\nRun {date.today().isoformat()}:\n\n{measured}{END}{tail}", encoding="utf-8"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
