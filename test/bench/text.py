#!/usr/bin/python3
"""Free-text benchmark (issue 14): sms 80/20 split (sample(frac=0.8, random_state=7)),
fairsynth_synthesize(NULL::sms_trn, seed => SEED) and fairsynth_balance(..., ARRAY['label']),
scored with test/reference/text.py on `message` (label `label`, positive `spam`); every figure
is printed next to the holdout's (the ceiling), with the issue's target.

--reviews: the text follows a numeric column that is neither balanced nor a context column.
test/data/reviews.sql (4,000 generated product reviews: category, rating 1-5, price, verified,
review; negative words in the reviews rated 1-2, positive ones in those rated 4-5) split 80/20
the same way; fairsynth_synthesize(NULL::reviews_trn, seed => SEED) and
fairsynth_balance(..., ARRAY['verified']).  Printed: the share of reviews with a negative word
(disappointed, stopped, waste, broke, refund, flimsy, worst) and with a positive word (great,
love, excellent, recommend, happy, sturdy, best) among rows rated <= 2 and >= 4; of reviews
saying "expensive" among the rows rated <= 2 of dear (price >= 60) and of cheap items, and
saying "penny" among those rated >= 4 (an interaction of two columns); in the training rows,
the holdout and the output; the AUC on the real holdout of a bag-of-words classifier of
rating <= 2 trained on the output (text.py's tstr_auc); and text.py's figures against the
training rows.

Usage: test/bench/text.py [--seed N] [--json] [--reviews]   (connects with psql's PG* environment)
Needs /usr/bin/python3 with pandas and sklearn.
"""
import json
import os
import subprocess
import sys
import tempfile
import time

import pandas as pd

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
sys.path.insert(0, os.path.join(ROOT, "test", "reference"))
import text as ref  # noqa: E402

# The targets: (measure, bound, higher is better)
TARGETS = [("term_accuracy", 0.90, True), ("char_accuracy", 0.97, True),
           ("length_accuracy", 0.90, True), ("cooc_error", 0.06, False),
           ("rare_terms_leaked", 0.0, False), ("exact_match", None, False),
           ("tstr_auc", 0.95, True)]


def psql(sql, stdin=None):
    return subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", sql],
                          input=stdin, text=True, capture_output=True, check=True).stdout


NEGATIVE = r"\b(?:disappointed|stopped|waste|broke|refund|flimsy|worst)\b"
POSITIVE = r"\b(?:great|love|excellent|recommend|happy|sturdy|best)\b"


def copy_out(query):
    """The rows of query as a DataFrame (through psql's CSV)."""
    csv = psql(f"\\copy ({query}) TO STDOUT WITH (FORMAT csv, HEADER true)")
    with tempfile.NamedTemporaryFile("w", suffix=".csv") as f:
        f.write(csv)
        f.flush()
        return pd.read_csv(f.name, keep_default_na=False)


def word_shares(df):
    """Shares of texts with a negative / positive word among low (<= 2) and high (>= 4) ratings;
    of "expensive" among low ratings of dear (price >= 60) and cheap items, of "penny" among high
    ratings of dear and cheap items."""
    low, high = df[df["rating"] <= 2], df[df["rating"] >= 4]
    dear = lambda d: d[d["price"] >= 60]
    cheap = lambda d: d[d["price"] < 60]
    has = lambda d, pat: float(d["review"].str.contains(pat, case=False, regex=True).mean())
    return {"neg_low": has(low, NEGATIVE), "neg_high": has(high, NEGATIVE),
            "pos_low": has(low, POSITIVE), "pos_high": has(high, POSITIVE),
            "expensive_low_dear": has(dear(low), r"\bexpensive\b"),
            "expensive_low_cheap": has(cheap(low), r"\bexpensive\b"),
            "penny_high_dear": has(dear(high), r"\bpenny\b"),
            "penny_high_cheap": has(cheap(high), r"\bpenny\b")}


def reviews(seed):
    psql("DROP TABLE IF EXISTS reviews, reviews_trn")
    subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f",
                    os.path.join(ROOT, "test", "data", "reviews.sql")],
                   text=True, capture_output=True, check=True)
    df = copy_out("SELECT * FROM reviews")
    trn = df.sample(frac=0.8, random_state=7)
    hol = df.drop(trn.index)
    psql("CREATE TABLE reviews_trn (LIKE reviews)")
    psql("\\copy reviews_trn FROM STDIN WITH (FORMAT csv, HEADER true)", trn.to_csv(index=False))
    low = lambda d: d.assign(low=(d["rating"] <= 2).astype(str))
    out = {"training": word_shares(trn), "holdout": {**word_shares(hol), **ref.measure(trn, hol, "review")}}
    for name, call in (("synthesize", f"fairsynth_synthesize(NULL::reviews_trn, seed => {seed})"),
                       ("balance", f"fairsynth_balance(NULL::reviews_trn, ARRAY['verified'], seed => {seed})")):
        t0 = time.time()
        syn = copy_out(f"SELECT * FROM {call}")
        secs = time.time() - t0
        res = {**word_shares(syn), **ref.measure(trn, syn, "review")}
        res.update(ref.utility(low(trn), low(hol), low(syn), "review", "low", "True"))
        res["seconds"] = secs
        out[name] = res
    out["holdout"]["tstr_auc"] = out["synthesize"]["trtr_auc"]
    return out


def print_reviews(seed, out):
    print(f"reviews 80/20, seed {seed}: negative / positive words by rating (rows rated <= 2 and >= 4)")
    cols = ("training", "holdout", "synthesize", "balance")
    print(f"{'measure':20s} " + " ".join(f"{c:>10s}" for c in cols))
    for m in ("neg_low", "neg_high", "pos_low", "pos_high", "expensive_low_dear",
              "expensive_low_cheap", "penny_high_dear", "penny_high_cheap"):
        print(f"{m:20s} " + " ".join(f"{out[c][m]:10.3f}" for c in cols))
    print("classifier of rating <= 2 from the text, AUC on the real holdout (holdout column: trained on"
          " the training rows)")
    print(f"{'tstr_auc':20s} {'':10s} " + " ".join(f"{out[c]['tstr_auc']:10.3f}" for c in cols[1:]))
    print("text.py against the training rows")
    for m in ("term_accuracy", "char_accuracy", "length_accuracy", "cooc_error", "exact_match",
              "rare_terms_leaked"):
        print(f"{m:20s} {'':10s} " + " ".join(f"{out[c][m]:10.3f}" for c in cols[1:]))
    print(f"{'seconds (psql)':20s} {'':10s} {'':10s} " +
          " ".join(f"{out[c]['seconds']:10.3f}" for c in cols[2:]))
    print("(balance on verified: each of its values half the rows; the ratings are unbalanced as in the source)")


def main():
    seed = int(sys.argv[sys.argv.index("--seed") + 1]) if "--seed" in sys.argv else 1
    if "--reviews" in sys.argv:
        out = reviews(seed)
        if "--json" in sys.argv:
            print(json.dumps(out, indent=1))
        else:
            print_reviews(seed, out)
        return
    df = pd.read_csv(os.path.join(ROOT, "test", "data", "sms.csv"), keep_default_na=False)
    trn = df.sample(frac=0.8, random_state=7)
    hol = df.drop(trn.index)
    psql("DROP TABLE IF EXISTS sms_trn; CREATE TABLE sms_trn (label text, message text)")
    psql("\\copy sms_trn FROM STDIN WITH (FORMAT csv, HEADER true)", trn.to_csv(index=False))
    out = {}
    for name, call in (("synthesize", f"fairsynth_synthesize(NULL::sms_trn, seed => {seed})"),
                       ("balance", f"fairsynth_balance(NULL::sms_trn, ARRAY['label'], seed => {seed})")):
        t0 = time.time()  # a new session: the model is fitted, then rows drawn
        csv = psql(f"\\copy (SELECT * FROM {call}) TO STDOUT WITH (FORMAT csv, HEADER true)")
        secs = time.time() - t0
        with tempfile.NamedTemporaryFile("w", suffix=".csv") as f:
            f.write(csv)
            f.flush()
            syn = pd.read_csv(f.name, keep_default_na=False)
        res = ref.measure(trn, syn, "message")
        res["exact_match_holdout"] = ref.measure(trn, hol, "message")["exact_match"]
        res.update(ref.utility(trn, hol, syn, "message", "label", "spam"))
        res["seconds"] = secs
        res["distinct"] = int(syn["message"].nunique())
        out[name] = res
    ceiling = ref.measure(trn, hol, "message")
    ceiling["tstr_auc"] = out["synthesize"]["trtr_auc"]
    if "--json" in sys.argv:
        print(json.dumps({"holdout": ceiling, **out}, indent=1))
        return
    print(f"sms 80/20, seed {seed}: {len(trn)} training rows, {len(hol)} holdout rows")
    print(f"{'measure':20s} {'holdout':>8s} {'synthesize':>11s} {'balance':>8s}  target")
    for m, bound, higher in TARGETS:
        if m == "exact_match":
            bound = ceiling["exact_match"]
        tgt = "" if bound is None else (">= " if higher else "<= ") + f"{bound:.3f}"
        print(f"{m:20s} {ceiling[m]:8.3f} {out['synthesize'][m]:11.3f} {out['balance'][m]:8.3f}  {tgt}")
    print(f"{'distinct texts':20s} {'':8s} {out['synthesize']['distinct']:11d} {out['balance']['distinct']:8d}")
    print(f"{'seconds (psql)':20s} {'':8s} {out['synthesize']['seconds']:11.3f} {out['balance']['seconds']:8.3f}")
    print("(balance rows are half spam: its distribution figures are against the unbalanced training"
          " rows and are not expected to meet the targets; its AUC is)")


if __name__ == "__main__":
    main()
