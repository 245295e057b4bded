#!/usr/bin/env python3
"""Reference VADER scorer for the trendpipe-sentiment parity test.

Reads UTF-8 texts from stdin, one per line (lines are separated by "\\n"
only, so other Unicode line separators such as U+2028 or U+0085 stay inside a
text), and prints one JSON object per input line:
{"neg": ..., "neu": ..., "pos": ..., "compound": ...}

Requires vaderSentiment==3.3.2 (pip install vaderSentiment==3.3.2).
"""
import json
import sys

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer


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
        out.write(
            json.dumps(
                {
                    "neg": scores["neg"],
                    "neu": scores["neu"],
                    "pos": scores["pos"],
                    "compound": scores["compound"],
                }
            )
        )
        out.write("\n")
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
