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
import csv
import io
import math
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pandas as pd  # noqa: E402

from bias import post_metrics  # noqa: E402  (the oracle, unchanged)

COLS = ["n", "DPPL", "DIP", "DCA", "DCR", "RD", "SD", "AD", "DAR", "DRR", "TE", "CDDPL"]


def sql_literal(s):
    return "NULL" if s is None else "'" + s.replace("'", "''") + "'"


def main():
    args = sys.argv[1:]
    opts = {"--psql": "psql", "--dbname": None, "--relation": "compas", "--tol": "1e-9",
            "--group-by": None}
    rest = []
    while args:
        a = args.pop(0)
        if a in opts:
            opts[a] = args.pop(0)
        else:
            rest.append(a)
    if len(rest) not in (4, 5):
        sys.exit(__doc__)
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
    cmd = [opts["--psql"], "-X", "-q", "--csv", "-v", "ON_ERROR_STOP=1", "-c", query]
    if opts["--dbname"]:
        cmd[1:1] = ["-d", opts["--dbname"]]
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        sys.exit(f"psql failed ({res.returncode}): {res.stderr.strip()}")
    got_list = list(csv.DictReader(io.StringIO(res.stdout)))
    got = {r["facet_value"]: r for r in got_list}

    what = (f"facet={facet} label={label} predicted={predicted} "
            f"favorable={fav or '(default: ' + str(ref_fav) + ')'}"
            + (f" group_by={group_by}" if group_by else ""))
    errors = []
    ref_keys = [r["facet_value"] for r in ref_rows]
    if [r["facet_value"] for r in got_list] != ref_keys:
        errors.append(f"facet values differ: sql={[r['facet_value'] for r in got_list]} reference={ref_keys}")
    compared = nulls = 0
    for r in ref_rows:
        g = got.get(r["facet_value"])
        if g is None:
            continue
        for c in COLS:
            want = r.get(c)
            have = g[c.lower()]
            compared += 1
            if want is None or (isinstance(want, float) and math.isnan(want)):
                nulls += 1
                if have != "":
                    errors.append(f"{r['facet_value']} {c}: sql={have} reference=NULL/NaN")
            elif have == "":
                errors.append(f"{r['facet_value']} {c}: sql=NULL reference={want!r}")
            elif abs(float(have) - float(want)) > tol:
                errors.append(f"{r['facet_value']} {c}: sql={have} reference={want!r}")
    for e in errors:
        print("  MISMATCH " + e)
    print(f"{'ok' if not errors else 'FAILED'}: {what}: {len(ref_rows)} facet values, "
          f"{compared} figures compared ({nulls} NULL/NaN), {len(errors)} mismatches (tolerance {tol:g})")
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
