"""`make bench`: run every bench/*_bench.py, print their JSON results as one JSON object.

Each benchmark is a separate process (cold starts and memory are per process)
and prints one JSON object on stdout; progress goes to stderr. The combined
result is also written to .bench/results.json.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    only = set(sys.argv[1:])
    results: dict[str, object] = {}
    for script in sorted((ROOT / "bench").glob("*_bench.py")):
        name = script.stem.removesuffix("_bench")
        if only and name not in only:
            continue
        print(f"== bench {name}", file=sys.stderr, flush=True)
        started = time.monotonic()
        proc = subprocess.run(
            [sys.executable, str(script)], cwd=ROOT, stdout=subprocess.PIPE, text=True
        )
        try:
            results[name] = (
                json.loads(proc.stdout.strip().splitlines()[-1]) if proc.stdout.strip() else None
            )
        except json.JSONDecodeError:
            results[name] = {"error": "no JSON on stdout", "stdout_tail": proc.stdout[-2000:]}
        if proc.returncode:
            results[name] = {"error": f"exit {proc.returncode}", "partial": results[name]}
        print(f"== bench {name}: {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
    out = ROOT / ".bench" / "results.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))
    return 0 if all(isinstance(r, dict) and "error" not in r for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
