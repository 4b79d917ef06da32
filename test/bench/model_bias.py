#!/usr/bin/python3
"""A model trained on compas and one trained on fairsynth_balance output, both scored
into one table of real holdout rows, measured with fairsynth_model_bias (issue #15).

Usage: model_bias.py [--psql PSQL] [--dbname CONNSTR] [--seed 1]

Needs a database with fairsynth installed; creates (and replaces) the tables
mbb_train, mbb_balanced and mbb_scored.  Split as everywhere in the benchmarks:
pandas sample(frac=0.8, random_state=7) of test/data/compas.csv.  The balanced table
is fairsynth_balance(mbb_train, ARRAY['race', 'sex'], outcome => 'two_year_recid'):
equal race x sex groups with the same recidivism rate in each.  Both models are the
same scikit-learn logistic regression on sex, age, race, juvenile counts, priors and
charge degree (no COMPAS score, no later recidivism columns); each predicts
two_year_recid on the holdout.  Prints DPPL, RD, SD, AD and DAR per race for both.
"""
import io
import os
import subprocess
import sys

import pandas as pd
from sklearn.linear_model import LogisticRegression

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
FEATURES = ["sex", "age", "race", "juv_fel_count", "juv_misd_count", "juv_other_count",
            "priors_count", "c_charge_degree"]
COLUMNS = """sex text, age int, age_cat text, race text,
  juv_fel_count int, juv_misd_count int, juv_other_count int, priors_count int,
  days_b_screening_arrest int, c_charge_degree text, c_charge_desc text,
  decile_score int, score_text text, v_decile_score int, v_score_text text,
  is_recid int, is_violent_recid int, two_year_recid int"""


def main():
    args = sys.argv[1:]
    opts = {"--psql": "psql", "--dbname": None, "--seed": "1"}
    while args:
        a = args.pop(0)
        if a not in opts or not args:
            sys.exit(__doc__)
        opts[a] = args.pop(0)
    base = [opts["--psql"], "-X", "-q", "-v", "ON_ERROR_STOP=1"] + (["-d", opts["--dbname"]] if opts["--dbname"] else [])

    def psql(sql, stdin=None, csv=False):
        res = subprocess.run(base + (["--csv"] if csv else []) + ["-c", sql], input=stdin,
                             capture_output=True, text=True)
        if res.returncode != 0:
            sys.exit(f"psql failed: {res.stderr.strip()}")
        return res.stdout

    # as text, so the rows go back into PostgreSQL exactly as in the file
    df = pd.read_csv(os.path.join(ROOT, "test/data/compas.csv"), dtype=str, keep_default_na=False)
    trn = df.sample(frac=0.8, random_state=7)
    hol = df.drop(trn.index)
    psql(f"DROP TABLE IF EXISTS mbb_train, mbb_balanced, mbb_scored; CREATE TABLE mbb_train ({COLUMNS})")
    psql("COPY mbb_train FROM STDIN WITH (FORMAT csv, HEADER true)", stdin=trn.to_csv(index=False))
    psql("CREATE TABLE mbb_balanced AS SELECT * FROM fairsynth_balance(NULL::mbb_train, ARRAY['race', 'sex'], "
         f"outcome => 'two_year_recid', seed => {int(opts['--seed'])})")
    bal = pd.read_csv(io.StringIO(psql("SELECT * FROM mbb_balanced", csv=True)), dtype=str, keep_default_na=False)

    def design(frame):
        x = frame[FEATURES].copy()
        for c in ("age", "juv_fel_count", "juv_misd_count", "juv_other_count", "priors_count"):
            x[c] = pd.to_numeric(x[c])
        return pd.get_dummies(x, columns=["sex", "race", "c_charge_degree"], dtype=float)

    x_hol = design(hol)
    scored = hol.copy()
    for name, train in (("pred_source", trn), ("pred_balanced", bal)):
        x = design(train).reindex(columns=x_hol.columns, fill_value=0.0)
        model = LogisticRegression(max_iter=2000).fit(x, train["two_year_recid"])
        scored[name] = model.predict(x_hol)
    psql(f"CREATE TABLE mbb_scored ({COLUMNS}, pred_source int, pred_balanced int)")
    psql("COPY mbb_scored FROM STDIN WITH (FORMAT csv, HEADER true)", stdin=scored.to_csv(index=False))
    print(f"training rows: source {len(trn)}, balanced {len(bal)}; holdout {len(hol)}; "
          f"accuracy on the holdout: source {(scored.pred_source == hol.two_year_recid).mean():.3f}, "
          f"balanced {(scored.pred_balanced == hol.two_year_recid).mean():.3f}")
    print(psql("""
      SELECT facet_value AS race, s.n, round(s.dppl::numeric, 3) || ' -> ' || round(b.dppl::numeric, 3) AS dppl,
             round(s.rd::numeric, 3) || ' -> ' || round(b.rd::numeric, 3) AS rd,
             round(s.sd::numeric, 3) || ' -> ' || round(b.sd::numeric, 3) AS sd,
             round(s.ad::numeric, 3) || ' -> ' || round(b.ad::numeric, 3) AS ad,
             round(s.dar::numeric, 3) || ' -> ' || round(b.dar::numeric, 3) AS dar
      FROM fairsynth_model_bias('mbb_scored', 'race', 'two_year_recid', 'pred_source', '1') s
      JOIN fairsynth_model_bias('mbb_scored', 'race', 'two_year_recid', 'pred_balanced', '1') b USING (facet_value)
      ORDER BY s.n DESC"""), end="")


if __name__ == "__main__":
    main()
