"""What check_bias.py and check_model_bias.py share: their command line, the
query through psql, and the figure-by-figure comparison with the oracle."""
import csv
import io
import math
import subprocess
import sys


def sql_literal(s):
    return "NULL" if s is None else "'" + s.replace("'", "''") + "'"


def parse_args(doc, npositional, tol):
    """(opts, positional): --psql, --dbname, --relation (compas), --tol (tol) and
    --group-by; npositional or npositional + 1 (the favorable value) positional
    arguments, else exit with doc."""
    args = sys.argv[1:]
    opts = {"--psql": "psql", "--dbname": None, "--relation": "compas", "--tol": tol,
            "--group-by": None}
    rest = []
    while args:
        a = args.pop(0)
        if a in opts:
            opts[a] = args.pop(0)
        else:
            rest.append(a)
    if len(rest) not in (npositional, npositional + 1):
        sys.exit(doc)
    return opts, rest


def run_query(opts, query):
    """The rows of query (psql --csv), as dicts in their order."""
    cmd = [opts["--psql"], "-X", "-q", "--csv", "-v", "ON_ERROR_STOP=1", "-c", query]
    if opts["--dbname"]:
        cmd[1:1] = ["-d", opts["--dbname"]]
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        sys.exit(f"psql failed ({res.returncode}): {res.stderr.strip()}")
    return list(csv.DictReader(io.StringIO(res.stdout)))


def compare(ref_rows, got, cols, tol, errors):
    """Every figure of cols of every reference row against the SQL row of the same
    facet value (got: facet value -> row): within tol, NULL exactly where the
    reference has none or NaN.  Appends to errors; returns (compared, nulls)."""
    compared = nulls = 0
    for r in ref_rows:
        g = got.get(r["facet_value"])
        if g is None:
            continue
        for c in cols:
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
    return compared, nulls
