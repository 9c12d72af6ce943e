"""Runs Apache Otava's change-point detection on JSON-lines series, for bench/changepoints.

Reads {"name": ..., "values": [...]} lines from --input and writes {"name": ..., "changes": [index, ...]}
lines to --output, using otava.analysis.compute_change_points (the function `otava analyze` uses)
with Otava's defaults (window_len 50, max_pvalue 0.001, min_magnitude 0) unless told otherwise.
With --repeat N each series is analysed N times and the compute time of each round (the sum over
all series, perf_counter around compute_change_points only) is reported on stderr as JSON.
"""

import argparse
import json
import sys
import time

from otava.analysis import compute_change_points


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--input", required=True)
    parser.add_argument("--output")
    parser.add_argument("--window", type=int, default=50)
    parser.add_argument("--max-pvalue", type=float, default=0.001)
    parser.add_argument("--min-magnitude", type=float, default=0.0)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()

    series = []
    with open(args.input, encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                record = json.loads(line)
                series.append((record["name"], [float(v) for v in record["values"]]))

    rounds = []
    results = {}
    for _ in range(args.repeat):
        total = 0.0
        for name, values in series:
            started = time.perf_counter()
            points, _weak = compute_change_points(values, window_len=args.window, max_pvalue=args.max_pvalue, min_magnitude=args.min_magnitude)
            total += time.perf_counter() - started
            results[name] = [int(point.index) for point in points]
        rounds.append(total)

    if args.output:
        with open(args.output, "w", encoding="utf-8") as out:
            for name, _values in series:
                out.write(json.dumps({"name": name, "changes": results[name]}) + "\n")
    sys.stderr.write(json.dumps({"roundsSeconds": rounds}) + "\n")


if __name__ == "__main__":
    main()
