#!/usr/bin/python3
"""fairsynth on tables it was not tuned on (issue 9): what a user's model learns.

Usage: unseen.py [STAGE ...]   STAGE: rare bank9 compas groups parity known
                               (default: all of them)

Run it through test/bench/run_unseen, which provides a cluster (or set PG* to use a
server of your own; tables go to the schema fairsynth_unseen, dropped and re-created).
Every figure is measured in this run; the peers a user would otherwise pick (random
oversampling and SMOTENC from Debian's python3-imblearn) are fitted on the same rows
and scored by the same reference script (test/reference/tstr.py).

Stages:
  rare    bank rare-class case (80 % training part, 30 of its `yes` rows kept, see
          test/data/README.md): fairsynth_balance on subscription, seeds 1-3, against
          no rebalancing, random oversampling and SMOTENC; tstr.py AUC and macro-F1 on
          the real holdout.  Targets: AUC >= 0.80, macro-F1 >= 0.60.
  bank9   bank's 9 categorical columns (80/20), synthesize: quality.py v2 univariate and
          overall accuracy against the holdout's own, exact-match rate against the
          holdout's.  Targets: uni >= holdout - 0.005, overall >= holdout - 0.01,
          exact match <= holdout's.
  compas  compas synthesize (80/20): overall accuracy >= ceiling - 0.01, DCR share <=
          0.53, exact match <= holdout's.
  groups  compas balanced on race x sex: per combination with >= 300 source rows,
          corr(priors_count, decile_score), corr(decile_score, v_decile_score) and the
          two_year_recid rate among rows with priors_count >= 5 within 0.08 of the
          combination's source rows (seeds 1-3, mean absolute difference per figure).
  parity  compas, outcome two_year_recid, is_recid and is_violent_recid dropped from
          the classifier: by race (African-American vs Caucasian) and by sex, full
          and additive (source + added rows): |SPD| of the trained model <= 0.03 and
          its AUC no more than 0.03 below the real training part's (seeds 1-3, means).
  known   a generated table with known structure (rare groups, a 0/1 flag whose rate
          depends on the group, a spike at 0, a serial key, dates, NULLs that depend on
          another column): balanced on the group, each group's flag rate, spike share,
          NULL share (given the other column) and date range against the truth.
"""
import io
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import REPO, Results, build_info, fmt, make_log, make_psql, sqlstr  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "out", "unseen")
REFERENCE = os.path.join(REPO, "test", "reference")
DATA = os.path.join(REPO, "test", "data")
SCHEMA = "fairsynth_unseen"
SEEDS = [1, 2, 3]

R = Results()
log = make_log("unseen", OUT)
psql = make_psql(SCHEMA)

BANK_DDL = ('age int, job text, marital text, education text, "default" text, balance int, '
            'housing text, loan text, contact text, day int, month text, duration int, '
            'campaign int, pdays int, previous int, poutcome text, subscription text')
BANK9 = ["job", "marital", "education", "default", "housing", "loan", "contact",
         "poutcome", "subscription"]
COMPAS_DDL = ("sex text, age int, age_cat text, race text, juv_fel_count int, "
              "juv_misd_count int, juv_other_count int, priors_count int, "
              "days_b_screening_arrest int, c_charge_degree text, c_charge_desc text, "
              "decile_score int, score_text text, v_decile_score int, v_score_text text, "
              "is_recid int, is_violent_recid int, two_year_recid int")


def pd():
    import pandas
    return pandas


def path(name):
    return os.path.join(OUT, name)


def export(query, name):
    """The rows of query as OUT/name (CSV with header)."""
    psql(f"\\copy ({query}) TO {sqlstr(path(name))} WITH (FORMAT csv, HEADER true)")
    return path(name)


def frame(query):
    out, _ = psql(query, csv=True)
    return pd().read_csv(io.StringIO(out))


def tstr(holdout, label, positive, tables, drop=None, facet=None, groups=None):
    """tstr.py on {name: csv}: {name: {auc, macro_f1[, spd]}}."""
    cmd = ["/usr/bin/python3", os.path.join(REFERENCE, "tstr.py"), holdout, label, positive, "--json"]
    if drop:
        cmd += ["--drop", ",".join(drop)]
    if facet:
        cmd += ["--facet", facet, "--groups", ",".join(groups)]
    cmd += [f"{n}={p}" for n, p in tables.items()]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return {r["name"]: r for r in json.loads(out)}


def quality(train, hold, syn):
    cmd = ["/usr/bin/python3", os.path.join(REFERENCE, "quality.py"), train, hold, syn, "--json"]
    return json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)


# --------------------------------------------------------------------------- setup
def setup():
    os.makedirs(OUT, exist_ok=True)
    p = pd()
    bank = p.read_csv(os.path.join(DATA, "bank.csv"), dtype=str, keep_default_na=False)
    trn = bank.sample(frac=0.8, random_state=7)
    hol = bank.drop(trn.index)
    rare = p.concat([trn[trn.subscription == "no"],
                     trn[trn.subscription == "yes"].sample(30, random_state=1)])
    trn.to_csv(path("bank_train.csv"), index=False)
    hol.to_csv(path("bank_holdout.csv"), index=False)
    rare.to_csv(path("bank_rare.csv"), index=False)
    compas = p.read_csv(os.path.join(DATA, "compas.csv"), dtype=str, keep_default_na=False)
    ctrn = compas.sample(frac=0.8, random_state=7)
    ctrn.to_csv(path("compas_train.csv"), index=False)
    compas.drop(ctrn.index).to_csv(path("compas_holdout.csv"), index=False)
    psql(f"""
DROP SCHEMA IF EXISTS {SCHEMA} CASCADE;
CREATE SCHEMA {SCHEMA};
SET search_path = {SCHEMA}, public;
CREATE TABLE bank_train ({BANK_DDL});
CREATE TABLE bank_holdout ({BANK_DDL});
CREATE TABLE bank_rare ({BANK_DDL});
\\copy bank_train FROM {sqlstr(path('bank_train.csv'))} WITH (FORMAT csv, HEADER true)
\\copy bank_holdout FROM {sqlstr(path('bank_holdout.csv'))} WITH (FORMAT csv, HEADER true)
\\copy bank_rare FROM {sqlstr(path('bank_rare.csv'))} WITH (FORMAT csv, HEADER true)
CREATE TABLE compas_train ({COMPAS_DDL});
CREATE TABLE compas_holdout ({COMPAS_DDL});
\\copy compas_train FROM {sqlstr(path('compas_train.csv'))} WITH (FORMAT csv, HEADER true, NULL '')
\\copy compas_holdout FROM {sqlstr(path('compas_holdout.csv'))} WITH (FORMAT csv, HEADER true, NULL '')
CREATE EXTENSION IF NOT EXISTS fairsynth;
""", schema=False)
    R.add("setup", "measured build", build_info())


# --------------------------------------------------------------------------- stages
def stage_rare():
    sec = "bank rare"
    p = pd()
    tables = {"real training part": path("bank_train.csv"), "rare, as is": path("bank_rare.csv")}
    for s in SEEDS:
        tables[f"fairsynth seed {s}"] = export(
            f"SELECT * FROM fairsynth_balance(NULL::bank_rare, ARRAY['subscription'], seed => {s})",
            f"bank_rare_fs{s}.csv")
    # the peers, fitted on the same 30 + 31,923 rows
    from imblearn.over_sampling import RandomOverSampler, SMOTENC
    rare = p.read_csv(path("bank_rare.csv"))
    X, y = rare.drop(columns=["subscription"]), rare["subscription"]
    cats = [c for c in X.columns if X[c].dtype == object]
    Xr, yr = RandomOverSampler(random_state=0).fit_resample(X, y)
    Xr.assign(subscription=yr).to_csv(path("bank_rare_ros.csv"), index=False)
    Xs, ys = SMOTENC(categorical_features=[X.columns.get_loc(c) for c in cats],
                     random_state=0).fit_resample(X, y)
    Xs.assign(subscription=ys).to_csv(path("bank_rare_smotenc.csv"), index=False)
    tables["random oversampling"] = path("bank_rare_ros.csv")
    tables["SMOTENC"] = path("bank_rare_smotenc.csv")
    res = tstr(path("bank_holdout.csv"), "subscription", "yes", tables)
    fs = [res[f"fairsynth seed {s}"] for s in SEEDS]
    for name in ("real training part", "rare, as is", "random oversampling", "SMOTENC"):
        R.add(sec, f"{name}: AUC / macro-F1", f"{res[name]['auc']:.3f} / {res[name]['macro_f1']:.3f}")
    auc = sum(r["auc"] for r in fs) / len(fs)
    f1 = sum(r["macro_f1"] for r in fs) / len(fs)
    R.add(sec, "fairsynth_balance: AUC per seed", " ".join(f"{r['auc']:.3f}" for r in fs))
    R.add(sec, "fairsynth_balance: AUC (mean of 3 seeds)", fmt(auc, 3), ">= 0.80", auc >= 0.80)
    R.add(sec, "fairsynth_balance: macro-F1 (mean)", fmt(f1, 3), ">= 0.60", f1 >= 0.60)
    best_peer = max(res["random oversampling"]["auc"], res["SMOTENC"]["auc"])
    R.add(sec, "fairsynth AUC minus the best peer's", f"{auc - best_peer:+.3f}", "> 0", auc > best_peer)


def stage_bank9():
    sec = "bank 9 categ."
    cols = ", ".join(f'"{c}"' for c in BANK9)
    psql(f"""
CREATE TABLE bank9_train AS SELECT {cols} FROM bank_train;
CREATE TABLE bank9_holdout AS SELECT {cols} FROM bank_holdout;""")
    trn = export("SELECT * FROM bank9_train", "bank9_train.csv")
    hol = export("SELECT * FROM bank9_holdout", "bank9_holdout.csv")
    syn = export("SELECT * FROM fairsynth_synthesize(NULL::bank9_train, seed => 1)", "bank9_syn.csv")
    h = quality(trn, hol, hol)
    q = quality(trn, hol, syn)
    R.add(sec, "univariate: synthesize / holdout", f"{q['accuracy_univariate']:.4f} / {h['accuracy_univariate']:.4f}",
          ">= holdout - 0.005", q["accuracy_univariate"] >= h["accuracy_univariate"] - 0.005)
    R.add(sec, "overall: synthesize / holdout", f"{q['accuracy_overall']:.4f} / {h['accuracy_overall']:.4f}",
          ">= holdout - 0.01", q["accuracy_overall"] >= h["accuracy_overall"] - 0.01)
    R.add(sec, "exact match: synthesize / holdout", f"{q['exact_match']:.3f} / {h['exact_match']:.3f}",
          "<= holdout", q["exact_match"] <= h["exact_match"])


def stage_compas():
    sec = "compas synth."
    trn, hol = path("compas_train.csv"), path("compas_holdout.csv")
    h = quality(trn, hol, hol)
    rows = []
    for s in SEEDS:
        syn = export(f"SELECT * FROM fairsynth_synthesize(NULL::compas_train, seed => {s})",
                     f"compas_syn{s}.csv")
        rows.append(quality(trn, hol, syn))
    acc = sum(r["accuracy_overall"] for r in rows) / len(rows)
    dcr = max(r["dcr_share"] for r in rows)
    em = max(r["exact_match"] for r in rows)
    R.add(sec, "overall accuracy (mean of 3 seeds) / ceiling", f"{acc:.4f} / {h['ceiling']:.4f}",
          ">= ceiling - 0.01", acc >= h["ceiling"] - 0.01)
    R.add(sec, "DCR share (worst of 3 seeds)", fmt(dcr, 3), "<= 0.53", dcr <= 0.53)
    R.add(sec, "exact match (worst) / holdout's", f"{em:.4f} / {h['exact_match']:.4f}",
          "<= holdout", em <= h["exact_match"])


def group_stats(d):
    hi = d[d.priors_count >= 5]
    return (d.priors_count.corr(d.decile_score), d.decile_score.corr(d.v_decile_score),
            hi.two_year_recid.mean() if len(hi) else float("nan"))


def stage_groups():
    sec = "compas groups"
    src = frame("SELECT * FROM compas_train")
    outs = [frame(f"SELECT * FROM fairsynth_balance(NULL::compas_train, ARRAY['race','sex'], seed => {s})")
            for s in SEEDS]
    names = ("priors~decile", "decile~v_decile", "recid | priors>=5")
    worst = 0.0
    for (race, sex), g in src.groupby(["race", "sex"]):
        if len(g) < 300:
            continue
        a = group_stats(g)
        diffs = [0.0, 0.0, 0.0]
        for o in outs:
            b = group_stats(o[(o.race == race) & (o.sex == sex)])
            diffs = [d + abs(x - y) / len(outs) for d, x, y in zip(diffs, a, b)]
        worst = max(worst, max(diffs))
        R.add(sec, f"{race} {sex} (n={len(g)}) |diff| " + ", ".join(names),
              " ".join(f"{d:.3f}" for d in diffs), "each <= 0.08", max(diffs) <= 0.08)
    R.add(sec, "largest difference", fmt(worst, 3), "<= 0.08", worst <= 0.08)
    # What sampling alone gives at this output size: a perfect model, drawing each
    # combination's own source rows again (bootstrap, 40 resamples), and the model's
    # own error with the sampling noise of the output made small (10x the rows, seed 1).
    per = len(outs[0]) // max(outs[0].groupby(["race", "sex"]).ngroups, 1)
    big = frame("SELECT * FROM fairsynth_balance(NULL::compas_train, ARRAY['race','sex'], "
                f"num_rows => {10 * len(src)}, seed => 1)")
    floor_worst = model_worst = 0.0
    for (race, sex), g in src.groupby(["race", "sex"]):
        if len(g) < 300:
            continue
        a = group_stats(g)
        floor = [0.0, 0.0, 0.0]
        for i in range(40):
            b = group_stats(g.sample(per, replace=True, random_state=i))
            floor = [d + abs(x - y) / 40 for d, x, y in zip(floor, a, b)]
        floor_worst = max(floor_worst, max(floor))
        b = group_stats(big[(big.race == race) & (big.sex == sex)])
        model = [abs(x - y) for x, y in zip(a, b)]
        model_worst = max(model_worst, max(model))
        R.add(sec, f"{race} {sex}: sampling floor ({per} rows) / model at 10x rows",
              " ".join(f"{d:.3f}" for d in floor) + " / " + " ".join(f"{d:.3f}" for d in model))
    R.add(sec, "largest: sampling floor / model at 10x rows", f"{floor_worst:.3f} / {model_worst:.3f}",
          "model <= 0.08", model_worst <= 0.08)


def stage_parity():
    sec = "compas parity"
    hol = path("compas_holdout.csv")
    leaky = ["is_recid", "is_violent_recid"]
    for facet, groups in (("race", ["African-American", "Caucasian"]), ("sex", ["Male", "Female"])):
        tables = {"real": path("compas_train.csv")}
        for s in SEEDS:
            tables[f"full{s}"] = export(
                f"SELECT * FROM fairsynth_balance(NULL::compas_train, ARRAY['{facet}'], "
                f"outcome => 'two_year_recid', seed => {s})", f"par_full_{facet}{s}.csv")
            tables[f"add{s}"] = export(
                f"SELECT * FROM compas_train UNION ALL SELECT * FROM fairsynth_balance("
                f"NULL::compas_train, ARRAY['{facet}'], outcome => 'two_year_recid', "
                f"mode => 'additive', seed => {s})", f"par_add_{facet}{s}.csv")
        res = tstr(hol, "two_year_recid", "1", tables, drop=leaky, facet=facet, groups=groups)
        real = res["real"]
        R.add(sec, f"by {facet}: real training part SPD / AUC", f"{real['spd']:+.3f} / {real['auc']:.3f}")
        for mode in ("full", "add"):
            rs = [res[f"{mode}{s}"] for s in SEEDS]
            spd = sum(r["spd"] for r in rs) / len(rs)
            auc = sum(r["auc"] for r in rs) / len(rs)
            name = "full" if mode == "full" else "additive (source + added)"
            R.add(sec, f"by {facet}, {name}: SPD per seed", " ".join(f"{r['spd']:+.3f}" for r in rs))
            R.add(sec, f"by {facet}, {name}: |SPD| (mean)", fmt(abs(spd), 3), "<= 0.03", abs(spd) <= 0.03)
            R.add(sec, f"by {facet}, {name}: AUC (mean) / real", f"{auc:.3f} / {real['auc']:.3f}",
                  ">= real - 0.03", auc >= real["auc"] - 0.03)


def stage_known():
    sec = "known table"
    # group g: a 60 %, b 30 %, c 9.5 %, d 0.5 % (25 rows of 5,000); flag rate by group
    # 0.1, 0.3, 0.6, 0.9; amount: 0 for 40 % (spike) else lognormal-ish, higher in c, d;
    # note NULL exactly when flag = 0 and amount = 0 ... (NULLs that depend on columns);
    # day: dates in 2024, later for d.
    psql("""
CREATE TABLE known (id serial PRIMARY KEY, g text, flag int, amount numeric(10,2), note text, day date);
SELECT setseed(0.5);
INSERT INTO known (g, flag, amount, note, day)
SELECT g, flag,
       CASE WHEN random() < 0.4 THEN 0 ELSE round((exp(random() * 3) * CASE WHEN g IN ('c','d') THEN 20 ELSE 5 END)::numeric, 2) END,
       NULL, date '2024-01-01' + (CASE WHEN g = 'd' THEN 200 ELSE 0 END + (random() * 150)::int)
FROM (SELECT g, (random() < CASE g WHEN 'a' THEN 0.1 WHEN 'b' THEN 0.3 WHEN 'c' THEN 0.6 ELSE 0.9 END)::int AS flag
      FROM (SELECT CASE WHEN i <= 3000 THEN 'a' WHEN i <= 4500 THEN 'b' WHEN i <= 4975 THEN 'c' ELSE 'd' END AS g
            FROM generate_series(1, 5000) i) s) t;
UPDATE known SET note = CASE WHEN flag = 1 THEN 'flagged' WHEN amount > 0 THEN 'paid' END;
""")
    src = frame("SELECT * FROM known")
    out = frame("SELECT * FROM fairsynth_balance(NULL::known, ARRAY['g'], seed => 1)")
    R.add(sec, "key: output ids unique and new", str(out.id.is_unique and out.id.min() > src.id.max()),
          "True", bool(out.id.is_unique and out.id.min() > src.id.max()))
    worst = 0.0
    for g, s in src.groupby("g"):
        o = out[out.g == g]
        figs = [(s.flag.mean(), o.flag.mean()),
                ((s.amount == 0).mean(), (o.amount == 0).mean()),
                (s.note.isna().mean(), o.note.isna().mean())]
        d = max(abs(a - b) for a, b in figs)
        worst = max(worst, d)
        # a group of n rows keeps n / (n + 15) of its own distributions (README): a
        # group of 25 rows borrows 37.5 % from similar groups, by design
        tol = 0.10 if len(s) >= 100 else 0.15
        R.add(sec, f"group {g} ({len(s)} rows): flag rate, zero share, NULL share src -> out",
              "; ".join(f"{a:.2f}->{b:.2f}" for a, b in figs), f"each within {tol:.2f}", d <= tol)
    # the copy guard's price where a fine column (day) makes every row of a common
    # profile rare (group b): the same call with the threshold the README's
    # Troubleshooting suggests for data that is not personal
    low = frame("SET fairsynth.rare_threshold = 2;\n"
                "SELECT * FROM fairsynth_balance(NULL::known, ARRAY['g'], seed => 1)")
    sb, ob = src[src.g == "b"], low[low.g == "b"]
    R.add(sec, "group b, fairsynth.rare_threshold = 2: zero share, NULL share src -> out",
          f"{(sb.amount == 0).mean():.2f}->{(ob.amount == 0).mean():.2f}; "
          f"{sb.note.isna().mean():.2f}->{ob.note.isna().mean():.2f}")
    rule = ((out.note == "flagged") != (out.flag == 1)).mean()
    R.add(sec, "rule kept: note = 'flagged' exactly when flag = 1 (share broken)", fmt(rule, 4), "<= 0.01", rule <= 0.01)
    d_src = pd().to_datetime(src[src.g == "d"].day)
    d_out = pd().to_datetime(out[out.g == "d"].day)
    inside = ((d_out >= d_src.min()) & (d_out <= d_src.max())).mean()
    own = len(d_src) / (len(d_src) + 15)
    R.add(sec, f"group d's dates inside its real range {d_src.min().date()} .. {d_src.max().date()}",
          fmt(inside, 3), f">= {own:.3f} - 0.1 (own share)", bool(inside >= own - 0.1))


STAGES = {"rare": stage_rare, "bank9": stage_bank9, "compas": stage_compas,
          "groups": stage_groups, "parity": stage_parity, "known": stage_known}


def main():
    args = sys.argv[1:] or list(STAGES)
    for a in args:
        if a not in STAGES:
            sys.exit(f"unknown stage {a}; stages: {' '.join(STAGES)}")
    t0 = time.time()
    setup()
    for a in args:
        log(f"stage {a}")
        try:
            STAGES[a]()
        except Exception as e:  # a stage's failure is reported, the others still run
            R.error(a, "stage", e)
    R.add("total", "wall-clock seconds", fmt(time.time() - t0, 0))
    rows = [("section", "metric", "value", "target", "result")] + [tuple(map(str, r)) for r in R.rows]
    w = [min(max(len(r[i]) for r in rows), lim) for i, lim in enumerate((14, 80, 40, 20, 6))]
    for i, r in enumerate(rows):
        print(" | ".join(r[j].ljust(w[j]) for j in range(5)).rstrip())
        if i == 0:
            print("-+-".join("-" * x for x in w))
    print(f"{sum(r[4] == 'PASS' for r in R.rows)} PASS, {sum(r[4] == 'FAIL' for r in R.rows)} FAIL, "
          f"{len(R.errors)} ERROR")
    for sec, what, msg in R.errors:
        print(f"ERROR [{sec}] {what}: {msg}")
    with open(os.path.join(OUT, "results.json"), "w") as f:
        json.dump({"rows": R.rows, "errors": R.errors}, f, indent=1)
    return 1 if R.errors else 0


if __name__ == "__main__":
    sys.exit(main())
