#!/usr/bin/env python3
"""Checks that the complete configurations shown in the documentation are valid.

Every ```yaml block of docs/*.md that has a top-level `upstream:` key (a complete
configuration, not a fragment), and deploy/kubernetes/config/jwtgate.yaml, must pass
`jwtgate --check-config`. As a control, each block with an unknown top-level key added
must fail. Prints one line per check and "N passed, M failed"; exit status 0 only when
nothing failed.

    python3 tests/deploy/test_doc_examples.py --bin build/release/proxy/jwtgate
"""
import argparse
import os
import pathlib
import re
import subprocess
import sys
import tempfile
import textwrap

ROOT = pathlib.Path(__file__).resolve().parents[2]
# Variables the examples reference without a default.
EXAMPLE_ENV = {"APP_PORT": "3000"}
BLOCK = re.compile(r"^([ \t]*)```yaml\n(.*?)^\1```", re.S | re.M)


def complete_configs():
    """(label, text) of every complete configuration in the docs and the deploy base."""
    for doc in sorted((ROOT / "docs").glob("*.md")):
        text = doc.read_text()
        for m in BLOCK.finditer(text):
            body = textwrap.dedent(m.group(2))
            if re.search(r"^upstream:", body, re.M):
                line = text.count("\n", 0, m.start()) + 1
                yield f"{doc.relative_to(ROOT)}:{line}", body
    config = ROOT / "deploy/kubernetes/config/jwtgate.yaml"
    yield str(config.relative_to(ROOT)), config.read_text()


def check(binary, text, tmp):
    path = pathlib.Path(tmp) / "jwtgate.yaml"
    path.write_text(text)
    r = subprocess.run([binary, "--check-config", str(path)], capture_output=True, text=True,
                       timeout=30, env={**os.environ, **EXAMPLE_ENV})
    return r.returncode, (r.stderr + r.stdout).strip()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True, help="the jwtgate executable")
    binary = ap.parse_args().bin
    passed = failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for label, text in complete_configs():
            code, out = check(binary, text, tmp)
            if code == 0:
                passed += 1
                print(f"ok   {label}")
            else:
                failed += 1
                print(f"FAIL {label}: exit {code}\n     " + out.replace("\n", "\n     "))
            code, out = check(binary, text + "\nnot_a_jwtgate_key: 1\n", tmp)
            if code == 1 and "not_a_jwtgate_key" in out:
                passed += 1
                print(f"ok   {label} with an unknown key is refused")
            else:
                failed += 1
                print(f"FAIL {label} with an unknown key: exit {code}, output: {out!r}")
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
