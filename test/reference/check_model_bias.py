#!/usr/bin/python3
"""Compare fairsynth_model_bias() in a live database with the oracle bias.py (--predicted).

Usage: check_model_bias.py [--psql PSQL] [--dbname CONNSTR] [--relation REL] [--tol 1e-9]
                           TABLE.csv FACET LABEL PREDICTED [FAVORABLE] [--group-by COLUMN]

REL must hold exactly the rows of TABLE.csv, loaded in file order (the default favorable
value breaks count ties by first appearance, as pandas does).  Connection settings come
from --dbname or the usual PG* environment variables.
Every figure of every facet value is compared: within the tolerance, and NULL in SQL
exactly where the reference gives NaN (a denominator of 0) or no figure (CDDPL without
--group-by).  Prints one line per figure that differs and a summary; exit status 0 when
all agree, 1 otherwise.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pandas as pd  # noqa: E402
from checklib import compare, parse_args, run_query, sql_literal  # noqa: E402

from bias import post_metrics  # noqa: E402  (the oracle, unchanged)

COLS = ["n", "DPPL", "DIP", "DCA", "DCR", "RD", "SD", "AD", "DAR", "DRR", "TE", "CDDPL"]


def main():
    opts, rest = parse_args(__doc__, 4, "1e-9")
    path, facet, label, predicted = rest[:4]
    fav = rest[4] if len(rest) == 5 else None
    group_by, tol = opts["--group-by"], float(opts["--tol"])

    df = pd.read_csv(path)
    # bias.py's default favorable value: the least frequent label value (first met on ties)
    ref_fav = fav if fav is not None else df[df[label].notna()][label].astype(str).value_counts().idxmin()
    ref_rows = post_metrics(df, facet, label, predicted, ref_fav, group_by)

    query = ("SELECT * FROM fairsynth_model_bias(%s, %s, %s, %s, %s, %s)"
             % (sql_literal(opts["--relation"]), sql_literal(facet), sql_literal(label),
                sql_literal(predicted), sql_literal(fav), sql_literal(group_by)))
    got_list = run_query(opts, query)
    got = {r["facet_value"]: r for r in got_list}

    what = (f"facet={facet} label={label} predicted={predicted} "
            f"favorable={fav or '(default: ' + str(ref_fav) + ')'}"
            + (f" group_by={group_by}" if group_by else ""))
    errors = []
    ref_keys = [r["facet_value"] for r in ref_rows]
    if [r["facet_value"] for r in got_list] != ref_keys:
        errors.append(f"facet values differ: sql={[r['facet_value'] for r in got_list]} reference={ref_keys}")
    compared, nulls = compare(ref_rows, got, COLS, tol, errors)
    for e in errors:
        print("  MISMATCH " + e)
    print(f"{'ok' if not errors else 'FAILED'}: {what}: {len(ref_rows)} facet values, "
          f"{compared} figures compared ({nulls} NULL/NaN), {len(errors)} mismatches (tolerance {tol:g})")
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
