#!/usr/bin/python3
"""Make a copy of compas with about 30 % of priors_count missing at random (MAR).

Usage: make_missing.py [COMPAS.csv] OUTDIR [--seed N] [--share 0.30] [--mechanism age+decile|age]

Writes OUTDIR/compas_missing.csv (all columns plus a leading `id` = 1-based row number
of the source file, priors_count NULL in the chosen rows) and OUTDIR/compas_truth.csv
(`id`, the true priors_count, `was_missing` 0/1).

Missingness depends on observed columns only (MAR), so that a conditional imputer
can undo it and dropping / mean-filling cannot:
    age+decile (default): logit P(missing) = b0 + 1.2 z(age) + 1.2 z(decile_score) + 0.5 [F]
    age:                  logit P(missing) = b0 + 1.2 z(age) + 0.5 [F]
z() = standardised column, [F] = (c_charge_degree = 'F'). Older defendants and high
COMPAS scores (both go with more priors; decile_score correlates 0.44 with
priors_count) go missing more often. With `age` alone the shift is mild (true mean of
the missing rows 3.98 vs 3.25 observed; dropping the rows already gets within KS 0.016
of the whole truth), with `age+decile` it is strong (5.5 vs 2.6), so that dropping
and mean-filling visibly fail. b0 is solved by bisection so that the mean probability equals --share; then
each row is missing with its probability (numpy RandomState(seed)), so the realised
share is about --share, not exactly.
"""
import argparse
import os

import numpy as np
import pandas as pd

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT = os.path.join(os.path.dirname(os.path.dirname(HERE)), "test", "data", "compas.csv")


MECHANISMS = ("age+decile", "age")


def make(df, seed=1, share=0.30, mechanism="age+decile"):
    def z(c):
        v = pd.to_numeric(df[c])
        return (v - v.mean()) / v.std()
    if mechanism not in MECHANISMS:
        raise ValueError(f"mechanism must be one of {MECHANISMS}")
    lin = 1.2 * z("age") + 0.5 * (df["c_charge_degree"] == "F").astype(float)
    if mechanism == "age+decile":
        lin = lin + 1.2 * z("decile_score")
    lo, hi = -20.0, 20.0
    for _ in range(100):
        b0 = (lo + hi) / 2
        if (1 / (1 + np.exp(-(b0 + lin)))).mean() < share:
            lo = b0
        else:
            hi = b0
    p = 1 / (1 + np.exp(-(b0 + lin)))
    miss = np.random.RandomState(seed).uniform(size=len(df)) < p.values
    out = df.copy()
    out.insert(0, "id", np.arange(1, len(df) + 1))
    truth = pd.DataFrame({"id": out["id"], "priors_count": out["priors_count"],
                          "was_missing": miss.astype(int)})
    out.loc[miss, "priors_count"] = ""      # read as text: empty = NULL in the CSV
    return out, truth


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("paths", nargs="+", help="[COMPAS.csv] OUTDIR")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--share", type=float, default=0.30)
    ap.add_argument("--mechanism", choices=MECHANISMS, default="age+decile")
    a = ap.parse_args()
    src, outdir = (a.paths if len(a.paths) == 2 else [DEFAULT] + a.paths)
    # as text, so values round-trip verbatim (no 12 -> 12.0 for NULL-able integers)
    df = pd.read_csv(src, dtype=str, keep_default_na=False, na_filter=False)
    out, truth = make(df, a.seed, a.share, a.mechanism)
    os.makedirs(outdir, exist_ok=True)
    out.to_csv(os.path.join(outdir, "compas_missing.csv"), index=False)
    truth.to_csv(os.path.join(outdir, "compas_truth.csv"), index=False)
    print(f"{int(truth.was_missing.sum())} of {len(truth)} priors_count set to NULL "
          f"({truth.was_missing.mean():.3f})")


if __name__ == "__main__":
    main()
