#!/usr/bin/python3
"""Compare fairsynth_bias() in a live database with the oracle bias.py.

Usage: check_bias.py [--psql PSQL] [--dbname CONNSTR] [--relation REL] [--tol 1e-6]
                     TABLE.csv FACET LABEL [FAVORABLE] [--group-by COLUMN]

REL (default: compas) must hold exactly the rows of TABLE.csv, loaded in file order
(the default favorable value breaks count ties by first appearance, as pandas does).
Connection settings come from --dbname or the usual PG* environment variables.
When FAVORABLE is omitted and the least frequent label value is tied among more than
16 distinct values, pandas' choice is arbitrary (unstable sort), so the reference's pick
is passed to fairsynth_bias explicitly.
Prints one line per figure that differs and a summary; exit status 0 when every
facet value and every figure agrees within the tolerance, 1 otherwise.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pandas as pd  # noqa: E402
from checklib import compare, parse_args, run_query, sql_literal  # noqa: E402

from bias import metrics  # noqa: E402  (the oracle, unchanged)

COLS = ["n", "CI", "DPL", "KL", "JS", "LP", "TVD", "KS", "DI", "CDDL"]


def main():
    opts, rest = parse_args(__doc__, 3, "1e-6")
    path, facet, label = rest[:3]
    fav = rest[3] if len(rest) == 4 else None
    group_by, tol = opts["--group-by"], float(opts["--tol"])

    df = pd.read_csv(path)
    ref_fav, ref_rows = metrics(df, facet, label, fav, group_by)
    note = ""
    if fav is None:
        counts = df[label].dropna().astype(str).value_counts()
        if len(counts) > 16 and (counts == counts.min()).sum() > 1:
            # pandas sorts value_counts with numpy's unstable quicksort: among tied
            # least frequent values its pick is arbitrary beyond 16 distinct values
            # (fairsynth takes the first met). Compare at the reference's pick.
            fav = ref_fav
            note = f" (default favorable tied among {(counts == counts.min()).sum()} values: passed explicitly)"

    query = ("SELECT * FROM fairsynth_bias(%s, %s, %s, %s, %s)"
             % (sql_literal(opts["--relation"]), sql_literal(facet), sql_literal(label),
                sql_literal(fav), sql_literal(group_by)))
    got = {r["facet_value"]: r for r in run_query(opts, query)}

    what = f"facet={facet} label={label} favorable={fav or '(default: ' + str(ref_fav) + ')'}" \
           + (f" group_by={group_by}" if group_by else "")
    errors = []
    ref_keys = [r["facet_value"] for r in ref_rows]
    if sorted(got) != sorted(ref_keys):
        errors.append(f"facet values differ: sql={sorted(got)} reference={sorted(ref_keys)}")
    if list(got) != ref_keys:
        errors.append(f"facet value order differs: sql={list(got)} reference={ref_keys}")
    compared, _ = compare(ref_rows, got, COLS, tol, errors)
    for e in errors:
        print("  MISMATCH " + e)
    print(f"{'ok' if not errors else 'FAILED'}: {what}: {len(ref_rows)} facet values, "
          f"{compared} figures compared, {len(errors)} mismatches (tolerance {tol:g}){note}")
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
