#!/usr/bin/python3
"""fairsynth benchmark suite (run it through test/bench/run, which provides a cluster).

Usage: bench.py [STAGE ...]   STAGE: quality balance auc speed qspeed gen scale
                              (default: quality balance auc speed qspeed; speed includes gen;
                              scale, 10M rows on one node, only when named)

Talks to the server with psql (PG* environment variables select the cluster and the
database), keeps its tables in the schema fairsynth_bench (dropped and re-created on
every run), writes CSV exports and results.json to test/bench/out/, and prints a
summary table. A target that is missed prints FAIL but does not change the exit status;
a stage that errors (e.g. fairsynth is not installed) prints ERROR and makes the exit
status 1.

Environment: FAIRSYNTH_BENCH_BIG_ROWS (default 1000000) rows of the generated table,
FAIRSYNTH_BENCH_RUNS (default 3) timed runs per statement, FAIRSYNTH_BENCH_TIMEOUT
(default 300s) statement_timeout of the timed statements, FAIRSYNTH_BENCH_SCALE_ROWS
(default 10000000) rows of the scale stage's table.
"""
import json
import math
import os
import re
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import (COLUMNS, LABEL, LEAKY, REPO, TEXT_COLS, Results,  # noqa: E402
                      build_info, fmt, load_compas, make_log, make_psql, module_changed,
                      run_stages, sqlstr)

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "out")
REFERENCE = os.path.join(REPO, "test", "reference")
QUALITY = os.path.join(REFERENCE, "quality.py")
SCHEMA = "fairsynth_bench"
SEED = 1
BIG_ROWS = int(os.environ.get("FAIRSYNTH_BENCH_BIG_ROWS", "1000000"))
RUNS = int(os.environ.get("FAIRSYNTH_BENCH_RUNS", "3"))
TIMEOUT = os.environ.get("FAIRSYNTH_BENCH_TIMEOUT", "300s")
SCALE_ROWS = int(os.environ.get("FAIRSYNTH_BENCH_SCALE_ROWS", "10000000"))
BALANCE_COLS = ["race", "sex"]


# Targets of the issue.
T_ACC, T_DCR = 0.955, 0.53
T_COMBO_ACC, T_COMBO_MIN_ROWS = 0.93, 200
T_AUC_DIFF = 0.03
T_SPEED_RATIO = 3.0
T_GEN_SECONDS = 60.0
T_SCALE_RATIO, T_SCALE_HWM_MB = 2.0, 512


R = Results()
log = make_log('bench', OUT)
psql = make_psql(SCHEMA)


def pd():
    import pandas
    return pandas


# --------------------------------------------------------------------------- setup
STATE = {}


def setup_compas():
    """80/20 split exactly as shared/reference/README.md says, and the three tables."""
    if "train_csv" in STATE:
        return
    # the extension: installed by `make install`; stages that need it fail cleanly
    out, err = psql("CREATE EXTENSION IF NOT EXISTS fairsynth;", check=False, schema=False)
    ext, _ = psql("SELECT coalesce((SELECT extversion FROM pg_extension WHERE extname = 'fairsynth'), '');")
    STATE["ext_version"] = ext.strip()
    STATE["ext_error"] = err.strip() if not ext.strip() else ""
    R.add("setup", "fairsynth extension version", ext.strip() or "NOT INSTALLED")
    STATE["build"] = build_info()
    R.add("setup", "repository commit / installed module", STATE["build"])
    if not ext.strip():
        log(f"CREATE EXTENSION fairsynth failed: {err.strip()}")

    train_csv, hold_csv, ntrain, nhold = load_compas(psql, SCHEMA, OUT)
    log(f"split compas: {ntrain} training rows, {nhold} holdout rows")
    STATE.update(train_csv=train_csv, hold_csv=hold_csv, n_train=ntrain, n_hold=nhold)
    R.add("setup", "compas rows training / holdout", f"{ntrain} / {nhold}")


def setup_big():
    if "big_rows" in STATE:
        return
    setup_compas()
    gen = os.path.join(HERE, "gen_compas_like.sql")
    t0 = time.time()
    out, _ = psql(f"\\i {sqlstr(gen)}\nSELECT fairsynth_bench_make_table('compas_big', {BIG_ROWS}, 0.42);")
    secs = time.time() - t0
    STATE["big_rows"] = int(out.strip().splitlines()[-1])
    R.add("generator", f"gen_compas_like: seconds for {STATE['big_rows']:,} rows", fmt(secs, 1),
          f"< {T_GEN_SECONDS:.0f}", secs < T_GEN_SECONDS if BIG_ROWS >= 1000000 else None)
    out, _ = psql("""
SELECT round(avg((race = 'African-American')::int), 3) || ' AfrAm, ' ||
       round(avg((race = 'Caucasian')::int), 3) || ' Cau, ' ||
       round(avg((sex = 'Male')::int), 3) || ' male, ' ||
       round(avg((days_b_screening_arrest IS NULL)::int), 3) || ' days NULL, ' ||
       count(DISTINCT c_charge_desc) || ' charges'
FROM compas_big;
SELECT string_agg(left(race, 5) || ' ' || r, ', ' ORDER BY race) FROM
  (SELECT race, round(avg(two_year_recid), 3) AS r FROM compas_big GROUP BY race) s;
""")
    shares, rates = out.strip().splitlines()
    R.add("generator", "compas_big shares", shares)
    R.add("generator", "compas_big two_year_recid rate by race (planted bias)", rates)


# ------------------------------------------------------------------------- exports
def export(name, query):
    """\\copy (query) TO out/NAME.csv; memoised; returns (path, seconds)."""
    key = "export:" + name
    if key in STATE:
        if isinstance(STATE[key], Exception):
            raise STATE[key]
        return STATE[key]
    path = os.path.join(OUT, name + ".csv")
    if os.path.exists(path):
        os.remove(path)
    t0 = time.time()
    try:
        psql(f"SET statement_timeout = {sqlstr(TIMEOUT)};\n"
             f"\\copy ({query}) TO {sqlstr(path)} WITH (FORMAT csv, HEADER true)")
    except Exception as e:
        STATE[key] = e
        raise
    STATE[key] = (path, time.time() - t0)
    log(f"exported {name}.csv in {STATE[key][1]:.1f}s")
    return STATE[key]


def synth_csv():
    setup_compas()
    return export("synthesize", f"SELECT * FROM fairsynth_synthesize(NULL::compas_train, "
                                f"num_rows => {STATE['n_train']}, seed => {SEED})")


def balance_csv():
    setup_compas()
    return export("balance_full", "SELECT * FROM fairsynth_balance(NULL::compas_train, "
                                  f"ARRAY['race','sex'], seed => {SEED})")


def additive_csv():
    setup_compas()
    return export("balance_additive", "SELECT * FROM fairsynth_balance(NULL::compas_train, "
                                      f"ARRAY['race','sex'], mode => 'additive', seed => {SEED})")


def read(path):
    return pd().read_csv(path)


def run_quality(syn_path):
    p = subprocess.run([sys.executable, QUALITY, STATE["train_csv"], STATE["hold_csv"], syn_path, "--json"],
                       capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"quality.py failed: {p.stderr.strip()}")
    return json.loads(p.stdout)


# -------------------------------------------------------------------------- stages
def stage_quality():
    """1. fairsynth_synthesize of the training part: accuracy, DCR share, exact match."""
    setup_compas()
    sec = "1 synthesize"
    try:
        hold = run_quality(STATE["hold_csv"])
        R.add(sec, "holdout ceiling: overall accuracy of holdout vs training", fmt(hold["ceiling"]))
        R.add(sec, "holdout exact_match vs training (reference)", fmt(hold["exact_match"]))
        STATE["hold_exact"] = hold["exact_match"]
    except Exception as e:
        R.error(sec, "quality.py on the holdout", e)
    try:
        path, secs = synth_csv()
        R.add(sec, f"fairsynth_synthesize({STATE['n_train']} rows, seed {SEED}) seconds incl. export",
              fmt(secs, 2))
        q = run_quality(path)
        R.add(sec, "overall accuracy (quality.py)", fmt(q["accuracy_overall"]), f">= {T_ACC}",
              q["accuracy_overall"] >= T_ACC)
        R.add(sec, "  univariate / bivariate accuracy",
              f"{fmt(q['accuracy_univariate'])} / {fmt(q['accuracy_bivariate'])}")
        R.add(sec, "DCR share (quality.py)", fmt(q["dcr_share"], 3), f"<= {T_DCR}", q["dcr_share"] <= T_DCR)
        R.add(sec, "exact_match of synthetic vs training", fmt(q["exact_match"]),
              f"holdout: {fmt(STATE.get('hold_exact'))}")
        R.add(sec, "NNDR 5th percentile", fmt(q["nndr_p5"], 3))
        worst = sorted(q["univariate"].items(), key=lambda kv: kv[1])[:3]
        R.add(sec, "  worst univariate columns", ", ".join(f"{c} {v:.3f}" for c, v in worst))
        worst = sorted(q["bivariate"].items(), key=lambda kv: kv[1])[:3]
        R.add(sec, "  worst bivariate pairs", ", ".join(f"{c} {v:.3f}" for c, v in worst))
        blind = [c for c, v in q["univariate"].items() if v == 1.0 and all(
            abs(q["bivariate"].get(f"{c}|{d}", q["bivariate"].get(f"{d}|{c}", 0)) - q["univariate"][d]) < 1e-12
            for d in q["univariate"] if d != c)]
        if blind:
            R.add(sec, "  note: quality.py bins these into one bin (not measured)", ", ".join(blind))
        trn, syn = read(STATE["train_csv"]), read(path)
        R.add(sec, f"{LABEL} rate training / synthetic", f"{fmt(trn[LABEL].mean(), 3)} / {fmt(syn[LABEL].mean(), 3)}")
        rt, rs = trn.groupby("race")[LABEL].mean(), syn.groupby("race")[LABEL].mean()
        R.add(sec, f"  {LABEL} rate by race training/synthetic",
              ", ".join(f"{r[:5]} {rt[r]:.2f}/{rs.get(r, float('nan')):.2f}" for r in rt.index))
    except Exception as e:
        R.error(sec, "fairsynth_synthesize + quality.py", e)


def combos_of(train):
    import itertools
    vals = [sorted(train[c].dropna().astype(str).unique()) for c in BALANCE_COLS]
    return list(itertools.product(*vals))


def combo_counts(df):
    sub = df[BALANCE_COLS].dropna().astype(str)
    return {tuple(k): int(v) for k, v in sub.groupby(BALANCE_COLS).size().items()}


def stage_balance():
    """2. full mode: exact counts and per-combination accuracy; additive mode."""
    setup_compas()
    sec = "2 balance"
    sys.path.insert(0, REFERENCE)
    from quality import accuracy
    train = read(STATE["train_csv"])
    combos = combos_of(train)
    k, n = len(combos), len(train)
    lo, hi = n // k, -(-n // k)
    src_counts = combo_counts(train)
    try:
        path, secs = balance_csv()
        syn = read(path)
        R.add(sec, "full mode seconds incl. export", fmt(secs, 2))
        if list(syn.columns) != list(train.columns):
            raise RuntimeError(f"output columns {list(syn.columns)} differ from the table's")
        cnt = combo_counts(syn)
        bad = {c: cnt.get(c, 0) for c in combos if cnt.get(c, 0) not in (lo, hi)}
        extra = sum(v for c, v in cnt.items() if c not in combos) + int(syn[BALANCE_COLS].isna().any(axis=1).sum())
        ok = len(syn) == n and not bad and extra == 0
        detail = (f"{len(syn)} rows, K={k}, per combination {min(cnt.get(c, 0) for c in combos)}"
                  f"..{max(cnt.get(c, 0) for c in combos)}")
        if bad:
            detail += f"; off: {len(bad)} combos e.g. {next(iter(bad.items()))}"
        if extra:
            detail += f"; {extra} rows outside the combinations"
        R.add(sec, "full: rows per race x sex combination", detail, f"N={n}, each {lo} or {hi}", ok)
        worst = None
        for c in combos:
            m = src_counts.get(c, 0)
            if m < T_COMBO_MIN_ROWS:
                continue
            sel_t = (train[BALANCE_COLS].astype(str) == list(c)).all(axis=1)
            sel_s = (syn[BALANCE_COLS].astype(str) == list(c)).all(axis=1)
            if sel_s.sum() == 0:
                R.add(sec, f"  accuracy {'/'.join(c)} (source {m})", "no synthetic rows", f">= {T_COMBO_ACC}", False)
                continue
            a = accuracy(train[sel_t].reset_index(drop=True), syn[sel_s].reset_index(drop=True))["accuracy_overall"]
            worst = a if worst is None else min(worst, a)
            R.add(sec, f"  accuracy {'/'.join(c)} (source {m}, synthetic {int(sel_s.sum())})", fmt(a),
                  f">= {T_COMBO_ACC}", a >= T_COMBO_ACC)
        rates = []
        for c in combos:
            sel_t = (train[BALANCE_COLS].astype(str) == list(c)).all(axis=1)
            sel_s = (syn[BALANCE_COLS].astype(str) == list(c)).all(axis=1)
            if src_counts.get(c, 0) >= T_COMBO_MIN_ROWS and sel_s.sum():
                rates.append((abs(train[sel_t][LABEL].mean() - syn[sel_s][LABEL].mean()), "/".join(c),
                              train[sel_t][LABEL].mean(), syn[sel_s][LABEL].mean()))
        if rates:
            d, c, a, b = max(rates)
            R.add(sec, f"full: max |{LABEL} rate source - synthetic| per combination (>= {T_COMBO_MIN_ROWS})",
                  f"{d:.3f} ({c}: {a:.3f} vs {b:.3f})")
        R.add(sec, f"full: min accuracy over combinations with >= {T_COMBO_MIN_ROWS} source rows",
              fmt(worst), f">= {T_COMBO_ACC}", worst is not None and worst >= T_COMBO_ACC)
    except Exception as e:
        R.error(sec, "fairsynth_balance full mode", e)
    try:
        path, secs = additive_csv()
        add = read(path)
        R.add(sec, "additive mode seconds incl. export", fmt(secs, 2))
        target = max(src_counts.get(c, 0) for c in combos)
        addc = combo_counts(add)
        tot = {c: src_counts.get(c, 0) + addc.get(c, 0) for c in combos}
        outside = sum(v for c, v in addc.items() if c not in combos) + int(add[BALANCE_COLS].isna().any(axis=1).sum())
        expected = sum(target - src_counts.get(c, 0) for c in combos)
        ok = all(v == target for v in tot.values()) and outside == 0 and len(add) == expected
        R.add(sec, "additive: source + added per combination",
              f"{len(add)} rows added, totals {min(tot.values())}..{max(tot.values())}"
              + (f", {outside} rows outside" if outside else ""),
              f"{expected} added, each {target}", ok)
    except Exception as e:
        R.error(sec, "fairsynth_balance additive mode", e)


def encode(trn, tst, features):
    """Ordinal codes for text columns (categories of trn only, at most 254 most frequent,
    rest and unseen -> _other_, NULL -> missing), numbers as they are."""
    import numpy as np
    X = []
    for df in (trn, tst):
        X.append(df[features].copy())
    mask = []
    for c in features:
        if c in TEXT_COLS:
            top = list(trn[c].dropna().astype(str).value_counts().index[:254])
            codes = {v: i for i, v in enumerate(top)}
            other = len(top)
            for x in X:
                s = x[c]
                x[c] = [np.nan if (v is None or (isinstance(v, float) and math.isnan(v)))
                        else codes.get(str(v), other) for v in s]
            mask.append(True)
        else:
            for x in X:
                x[c] = pd().to_numeric(x[c], errors="coerce")
            mask.append(False)
    return X[0].astype(float).values, X[1].astype(float).values, np.array(mask)


def auc_of(trn, tst, features):
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import roc_auc_score
    Xtr, Xte, mask = encode(trn, tst, features)
    y = trn[LABEL].astype(int).values
    if len(set(y)) < 2:
        raise RuntimeError("training set has one label value only")
    clf = HistGradientBoostingClassifier(random_state=0, categorical_features=mask)
    clf.fit(Xtr, y)
    return float(roc_auc_score(tst[LABEL].astype(int).values, clf.predict_proba(Xte)[:, 1]))


def label_drift(train, syn, top=3):
    """Per column: mean over its quality.py bins (weighted by training share) of
    |P(label=1 | bin) training - synthetic|; the top columns, where the synthetic data
    lost most of the label's dependence."""
    sys.path.insert(0, REFERENCE)
    from quality import bin_pair
    feats = [c for c, _ in COLUMNS if c != LABEL]
    a, b = bin_pair(train[feats], syn[feats])
    yt, ys = train[LABEL].astype(float), syn[LABEL].astype(float)
    out = []
    for c in feats:
        rt, rs = yt.groupby(a[c]).mean(), ys.groupby(b[c]).mean()
        w = a[c].value_counts(normalize=True)
        out.append((float(sum(w[k] * abs(rt[k] - rs.get(k, rt[k])) for k in w.index)), c))
    out.sort(reverse=True)
    return ", ".join(f"{c} {d:.3f}" for d, c in out[:top])


def stage_auc():
    """3. HistGradientBoosting on real vs synthetic training data, tested on the holdout."""
    setup_compas()
    sec = "3 utility (AUC)"
    train, hold = read(STATE["train_csv"]), read(STATE["hold_csv"])
    allf = [c for c, _ in COLUMNS if c != LABEL]
    sets = {"all columns": allf, f"without {'/'.join(LEAKY)}": [c for c in allf if c not in LEAKY]}
    real = {}
    for fs, feats in sets.items():
        try:
            real[fs] = auc_of(train, hold, feats)
            R.add(sec, f"AUC real training -> holdout, {fs}", fmt(real[fs]))
        except Exception as e:
            R.error(sec, f"AUC real training, {fs}", e)
    # reference: what balancing alone costs -- real training rows resampled (with
    # replacement) to the full-mode counts, no synthesis
    combos = combos_of(train)
    n, k = len(train), len(combos)
    parts = []
    for i, c in enumerate(combos):
        rows = train[(train[BALANCE_COLS].astype(str) == list(c)).all(axis=1)]
        if len(rows):
            parts.append(rows.sample(n // k + (i < n % k), replace=True, random_state=i))
    resampled = pd().concat(parts, ignore_index=True)
    for fs, feats in sets.items():
        try:
            a = auc_of(resampled, hold, feats)
            d = a - real[fs] if fs in real else None
            R.add(sec, f"  reference: real rows resampled to balanced counts, {fs}", f"{fmt(a)} (diff {fmt(d)})")
        except Exception as e:
            R.error(sec, f"AUC resampled reference, {fs}", e)
    try:
        R.add(sec, f"  holdout (noise reference): largest drift of P({LABEL}=1 | column bin)",
              label_drift(train, hold))
    except Exception as e:
        R.error(sec, "label drift holdout", e)
    for name, getter in (("fairsynth_balance full", balance_csv), ("fairsynth_synthesize", synth_csv)):
        try:
            syn = read(getter()[0])
        except Exception as e:
            R.error(sec, f"AUC {name}", e)
            continue
        try:
            R.add(sec, f"  {name}: largest drift of P({LABEL}=1 | column bin)", label_drift(train, syn))
        except Exception as e:
            R.error(sec, f"label drift {name}", e)
        for fs, feats in sets.items():
            try:
                a = auc_of(syn, hold, feats)
                d = a - real[fs] if fs in real else None
                R.add(sec, f"AUC {name} -> holdout, {fs}", f"{fmt(a)} (diff {fmt(d)})",
                      f"|diff| <= {T_AUC_DIFF}", None if d is None else abs(d) <= T_AUC_DIFF)
            except Exception as e:
                R.error(sec, f"AUC {name}, {fs}", e)


# The core's DEBUG1 lines (src/balance.c), e.g. "fairsynth: read N rows in 1.8 s, fitted on
# M in 9.2 s, model B bytes" (older: "..., fit 0.383 s") and "fairsynth: generated N rows
# in 11.5 s"; a number is taken from the same comma-separated clause as the keyword.
READ_RE = re.compile(r"\bread\b[^,;]*?\b([0-9]+(?:\.[0-9]+)?)\s*(ms|s)\b", re.I)
FIT_RE = re.compile(r"\bfit\w*\b[^,;]*?\b([0-9]+(?:\.[0-9]+)?)\s*(ms|s)\b", re.I)
SAMPLE_RE = re.compile(r"\b(?:sampl|generat)\w*\b[^,;]*?\b([0-9]+(?:\.[0-9]+)?)\s*(ms|s)\b", re.I)


def timed(stmt, debug=False):
    """Run stmt in a fresh session, timed with clock_timestamp() around EXECUTE in a DO
    block; returns (milliseconds, the session's stderr)."""
    script = (f"SET statement_timeout = {sqlstr(TIMEOUT)};\n" +
              ("SET client_min_messages = debug1;\n" if debug else "") +
              "CREATE TEMP TABLE bench_timing(ms float8);\n"
              "DO $bench$ DECLARE t0 timestamptz := clock_timestamp(); BEGIN "
              f"EXECUTE {sqlstr(stmt)}; "
              "INSERT INTO bench_timing VALUES (1000 * extract(epoch FROM clock_timestamp() - t0)); "
              "END $bench$;\n"
              "SET client_min_messages = notice;\n"
              "SELECT ms FROM bench_timing;\n")
    out, err = psql(script)
    return float(out.strip().splitlines()[-1]), err


def timed_twice(stmt, between):
    """Run stmt twice in one session (between runs in between, untimed); returns the
    milliseconds of the second run, when fairsynth reuses the model it fitted in the
    first (the backend's model cache: same relation, role, settings and rows)."""
    block = ("DO $bench$ DECLARE t0 timestamptz := clock_timestamp(); BEGIN "
             f"EXECUTE {sqlstr(stmt)}; "
             "INSERT INTO bench_timing VALUES (1000 * extract(epoch FROM clock_timestamp() - t0)); "
             "END $bench$;\n")
    script = (f"SET statement_timeout = {sqlstr(TIMEOUT)};\n"
              "CREATE TEMP TABLE bench_timing(ms float8);\n" + block + between + ";\n" + block +
              "SELECT ms FROM bench_timing;\n")
    out, _ = psql(script)
    return float(out.strip().splitlines()[-1])


def speed_table(table):
    sec = "4 speed"
    bal = f"fairsynth_balance(NULL::{table}, ARRAY['race','sex'], seed => {SEED})"
    fit = f"fairsynth_balance(NULL::{table}, ARRAY['race','sex'], num_rows => 1, seed => {SEED})"
    steps = {"copy": (f"CREATE TABLE bench_copy AS SELECT * FROM {table}", "bench_copy"),
             "balance": (f"CREATE TABLE bench_balance AS SELECT * FROM {bal}", "bench_balance")}
    res, errs, notes = {"copy": [], "balance": []}, [], ""
    # with fairsynth preloaded, models live in the shared store: empty it before
    # every first call so that it pays the fit
    try:
        psql("SELECT count(*) FROM fairsynth_models();")
        store = True
    except Exception:
        store = False
    for run in range(1, RUNS + 1):
        order = ["copy", "balance"] if run % 2 else ["balance", "copy"]   # interleaved
        for what in order:
            stmt, tmp = steps[what]
            try:
                psql(f"DROP TABLE IF EXISTS {tmp};")
                if what == "balance" and store:
                    psql("SELECT fairsynth_models_reset();")
                ms, err = timed(stmt, debug=(what == "balance"))
                res[what].append(ms)
                notes += err
                psql(f"DROP TABLE {tmp};")
                log(f"{table}: {what} run {run}: {ms:.0f} ms")
            except Exception as e:
                errs.append((what, run, e))
                log(f"{table}: {what} run {run} failed: {e}")
                if "server closed the connection" in str(e) or "connection to server" in str(e):
                    time.sleep(5)   # let the postmaster finish crash recovery
    # the same CTAS as the second call of a session: the fitted model is reused
    warm = []
    for run in range(1, RUNS + 1):
        try:
            psql("DROP TABLE IF EXISTS bench_balance;")
            warm.append(timed_twice(steps["balance"][0], "DROP TABLE bench_balance"))
            psql("DROP TABLE bench_balance;")
            log(f"{table}: balance (model cached) run {run}: {warm[-1]:.0f} ms")
        except Exception as e:
            errs.append(("balance (model cached)", run, e))
    # a new session, the model fitted by an earlier one: the shared store
    shared = []
    if store:
        for run in range(1, RUNS + 1):
            try:
                psql("DROP TABLE IF EXISTS bench_balance;")
                shared.append(timed(steps["balance"][0])[0])
                psql("DROP TABLE bench_balance;")
                log(f"{table}: balance (new session, shared store) run {run}: {shared[-1]:.0f} ms")
            except Exception as e:
                errs.append(("balance (shared store)", run, e))
    # diagnostic: the SRF alone, without writing a table (tuplestore + count only)
    srf = []
    for run in range(1, RUNS + 1):
        try:
            srf.append(timed(f"SELECT count(*) FROM {bal}")[0])
        except Exception as e:
            errs.append(("count(*)", run, e))
    for what, run, e in errs:
        R.error(sec, f"{table}: CTAS {what} run {run}", e)
    nrows, _ = psql(f"SELECT count(*) FROM {table};")
    med = {w: statistics.median(v) for w, v in res.items() if v}
    R.add(sec, f"{table} ({int(nrows):,} rows): CTAS copy, median ms of {len(res['copy'])}",
          fmt(med.get("copy"), 1), "runs " + " ".join(fmt(x, 0) for x in res["copy"]))
    copy_ms = med.get("copy")

    def balance_rows(what, short, runs):
        """The median of runs of the balance CTAS and its ratio to the copy."""
        bmed = statistics.median(runs)
        R.add(sec, f"{table}: CTAS fairsynth_balance, {what}, median ms of {len(runs)}",
              fmt(bmed, 1), "runs " + " ".join(fmt(x, 0) for x in runs))
        if copy_ms is not None:
            ratio = bmed / copy_ms if copy_ms > 0 else float("nan")
            R.add(sec, f"{table}: ratio balance ({short}) / copy", fmt(ratio, 2), f"<= {T_SPEED_RATIO}",
                  ratio <= T_SPEED_RATIO)

    if res["balance"]:
        balance_rows("first call (fits the model)", "first call", res["balance"])
    if shared:
        balance_rows("new session, model from the shared store", "shared store", shared)
    elif not store:
        R.add(sec, f"{table}: shared model store", "not measured (fairsynth not preloaded)")
    if warm:
        balance_rows("second call in a session (model cached)", "model cached", warm)
    if srf:
        R.add(sec, f"{table}: SELECT count(*) FROM fairsynth_balance (no table written), median ms",
              fmt(statistics.median(srf), 1), "runs " + " ".join(fmt(x, 0) for x in srf))
    else:
        R.add(sec, f"{table}: ratio balance / copy", "not measured", f"<= {T_SPEED_RATIO}")
    # fit vs sampling: the core's own DEBUG1 lines if it prints them, else the proxy
    lines = [l.strip() for l in notes.splitlines()
             if re.match(r"(NOTICE|DEBUG\d?|INFO|LOG):", l.strip())
             and re.search(r"fairsynth|\bfit|sampl|generat", l, re.I)]
    STATE.setdefault("notices", {})[table] = lines
    parsed = {}
    for l in lines:
        for key, rx in (("read", READ_RE), ("fit", FIT_RE), ("sample", SAMPLE_RE)):
            m = rx.search(l)
            if m:
                parsed.setdefault(key, []).append(float(m.group(1)) * (1000 if m.group(2).lower() == "s" else 1))
    if parsed.get("fit") and parsed.get("sample"):
        f, g = statistics.median(parsed["fit"]), statistics.median(parsed["sample"])
        rd = statistics.median(parsed["read"]) if parsed.get("read") else None
        if rd is not None:
            R.add(sec, f"{table}: read / fit / sampling ms (core's DEBUG1 lines, medians of {len(parsed['fit'])})",
                  f"{fmt(rd, 1)} / {fmt(f, 1)} / {fmt(g, 1)}",
                  f"read+fit share {fmt((rd + f) / (rd + f + g) if rd + f + g else float('nan'), 2)}")
        else:
            R.add(sec, f"{table}: fit / sampling ms (core's DEBUG1 lines, medians of {len(parsed['fit'])})",
                  f"{fmt(f, 1)} / {fmt(g, 1)}", f"fit share {fmt(f / (f + g) if f + g else float('nan'), 2)}")
        return
    if lines:
        R.add(sec, f"{table}: core's fit/sampling message (not parsed)", lines[-1][:90])
    fits = []
    for run in range(1, RUNS + 1):
        try:
            fits.append(timed(f"SELECT count(*) FROM {fit}")[0])
        except Exception as e:
            R.error(sec, f"{table}: fit proxy run {run}", e)
    if fits and "balance" in med:
        fitms = statistics.median(fits)
        R.add(sec, f"{table}: fit ms (proxy: num_rows => 1, median) / sampling ms (rest)",
              f"{fmt(fitms, 1)} / {fmt(med['balance'] - fitms, 1)}",
              f"fit share {fmt(fitms / med['balance'] if med['balance'] else float('nan'), 2)}")


def stage_speed():
    setup_compas()
    try:
        setup_big()
    except Exception as e:
        R.error("generator", "gen_compas_like.sql", e)
    speed_table("compas")
    if "big_rows" in STATE:
        speed_table("compas_big")
    R.add("4 speed", "note", "absolute times on a shared machine are noise; the ratio is the figure")


def stage_qspeed():
    """fairsynth_quality with a holdout: on compas, and on a million-row table against a
    million synthetic rows and a 250,000-row holdout (samples for the nearest-neighbour
    and classifier parts, as the reference does)."""
    sec = "5 quality speed"
    setup_compas()
    psql("DROP TABLE IF EXISTS bench_q_syn; "
         "CREATE TABLE bench_q_syn AS SELECT * FROM fairsynth_synthesize(NULL::compas_train, seed => 1);")
    ms, _ = timed("SELECT count(*) FROM fairsynth_quality('compas_train', 'bench_q_syn', 'compas_holdout')")
    R.add(sec, "compas: fairsynth_quality(train, synthetic, holdout) ms", fmt(ms, 0), "seconds, not minutes")
    try:
        setup_big()
    except Exception as e:
        R.error(sec, "gen_compas_like.sql", e)
        return
    gen = os.path.join(HERE, "gen_compas_like.sql")
    psql(f"\\i {sqlstr(gen)}\nSELECT fairsynth_bench_make_table('bench_q_hold', {max(BIG_ROWS // 4, 1000)}, -0.3);")
    psql("DROP TABLE IF EXISTS bench_q_big_syn; CREATE TABLE bench_q_big_syn AS "
         f"SELECT * FROM fairsynth_synthesize(NULL::compas_big, seed => {SEED});")
    ms, _ = timed("SELECT count(*) FROM fairsynth_quality('compas_big', 'bench_q_big_syn', 'bench_q_hold')")
    R.add(sec, f"{STATE['big_rows']:,} rows: fairsynth_quality(original, synthetic, holdout) ms",
          fmt(ms, 0), "seconds, not minutes", ms < 60000)
    out, _ = psql("SELECT metric || ' ' || round(value::numeric, 4) FROM fairsynth_quality("
                  "'compas_big', 'bench_q_big_syn', 'bench_q_hold') WHERE column_name IS NULL ORDER BY metric;")
    R.add(sec, f"{STATE['big_rows']:,} rows: figures", "; ".join(out.strip().splitlines()))
    # with a label: the utility classifiers (trtr_auc, tstr_auc) on 20,000-row samples
    utility = ("SELECT metric || ' ' || round(value::numeric, 4) FROM fairsynth_quality("
               "'compas_big', 'bench_q_big_syn', 'bench_q_hold', label => 'two_year_recid', "
               "favorable => '1') WHERE metric LIKE 't%_auc' ORDER BY metric")
    ms, _ = timed(utility)
    R.add(sec, f"{STATE['big_rows']:,} rows: fairsynth_quality(..., label) ms",
          fmt(ms, 0), "seconds, not minutes", ms < 60000)
    out, _ = psql(utility + ";")
    R.add(sec, f"{STATE['big_rows']:,} rows: utility", "; ".join(out.strip().splitlines()))
    psql("DROP TABLE bench_q_syn, bench_q_big_syn, bench_q_hold;")


def timed_status(stmt, settings=""):
    """Run stmt in a fresh session as timed() does (DEBUG1 on); returns (milliseconds,
    the backend's VmHWM and RssShmem in kB read from /proc/<pid>/status after it, the
    session's stderr). VmHWM is the backend's peak resident memory, shared buffers it
    touched included (RssShmem, as left at the end, tells how much of it they are)."""
    script = (f"SET statement_timeout = {sqlstr(TIMEOUT)};\n" + settings +
              "CREATE TEMP TABLE bench_timing(ms float8);\n"
              "SELECT pg_backend_pid() AS bench_pid \\gset\n"
              "\\setenv BENCH_PID :bench_pid\n"
              "SET client_min_messages = debug1;\n"
              "DO $bench$ DECLARE t0 timestamptz := clock_timestamp(); BEGIN "
              f"EXECUTE {sqlstr(stmt)}; "
              "INSERT INTO bench_timing VALUES (1000 * extract(epoch FROM clock_timestamp() - t0)); "
              "END $bench$;\n"
              "SET client_min_messages = notice;\n"
              "SELECT 'ms ' || ms FROM bench_timing;\n"
              "\\! grep -E '^(VmHWM|RssShmem):' /proc/$BENCH_PID/status\n")
    out, err = psql(script)
    got = {}
    for line in out.splitlines():
        m = re.match(r"(ms|VmHWM:|RssShmem:)\s*([0-9.]+)", line.strip())
        if m:
            got[m.group(1).rstrip(":")] = float(m.group(2))
    if "VmHWM" not in got:
        raise RuntimeError(f"no VmHWM in /proc/<backend pid>/status (run the bench on the server's machine): {out[-200:]}")
    return got["ms"], got["VmHWM"], got.get("RssShmem", float("nan")), err


def stage_scale():
    """One node, FAIRSYNTH_BENCH_SCALE_ROWS (10M) rows of gen_compas_like: CREATE TABLE AS
    SELECT * FROM fairsynth_balance(...) against CREATE TABLE AS SELECT * (one run each,
    each in a new session, the model store emptied), the balance backend's peak memory,
    and the read alone (the fairsynth_read aggregate) with 0 and 2 parallel workers."""
    sec = "6 scale"
    table = "compas_scale"
    gen = os.path.join(HERE, "gen_compas_like.sql")
    t0 = time.time()
    psql(f"\\i {sqlstr(gen)}\nSELECT fairsynth_bench_make_table('{table}', {SCALE_ROWS}, 0.42);\n"
         f"VACUUM ANALYZE {table};")
    R.add(sec, f"gen_compas_like: seconds for {SCALE_ROWS:,} rows", fmt(time.time() - t0, 1))
    size, _ = psql(f"SELECT pg_size_pretty(pg_table_size('{table}'));")
    psql("DROP TABLE IF EXISTS bench_scale_copy, bench_scale_balance;")
    copy_ms, copy_hwm, copy_shm, _ = timed_status(f"CREATE TABLE bench_scale_copy AS SELECT * FROM {table}")
    psql("DROP TABLE bench_scale_copy;")
    psql("SELECT fairsynth_models_reset();", check=False)   # the balance pays its fit
    bal = f"fairsynth_balance(NULL::{table}, ARRAY['race','sex'], seed => {SEED})"
    bal_ms, hwm, shm, err = timed_status(f"CREATE TABLE bench_scale_balance AS SELECT * FROM {bal}")
    out, _ = psql("SELECT count(*) || ' rows, ' || count(DISTINCT (race, sex)) || ' combinations, '"
                  " || max(n) - min(n) || ' spread' FROM (SELECT race, sex, count(*) OVER (PARTITION BY race, sex) AS n"
                  " FROM bench_scale_balance) c;")
    psql("DROP TABLE bench_scale_balance;")
    R.add(sec, f"{table} ({SCALE_ROWS:,} rows, {size.strip()}): CTAS copy ms (1 run)", fmt(copy_ms, 0),
          f"VmHWM {copy_hwm / 1024:.0f} MB")
    R.add(sec, f"{table}: CTAS fairsynth_balance ms (1 run, fits the model)", fmt(bal_ms, 0), out.strip())
    ratio = bal_ms / copy_ms
    R.add(sec, f"{table}: ratio balance / copy", fmt(ratio, 2), f"<= {T_SCALE_RATIO}", ratio <= T_SCALE_RATIO)
    R.add(sec, f"{table}: balance backend peak memory VmHWM MB", fmt(hwm / 1024, 0),
          f"< {T_SCALE_HWM_MB} (shared buffers touched {shm / 1024:.0f} MB)", hwm / 1024 < T_SCALE_HWM_MB)
    for l in err.splitlines():
        if re.search(r"DEBUG:.*(read|fitted|generated)", l):
            R.add(sec, f"{table}: core's DEBUG1 line", re.sub(r"^DEBUG:\s*", "", l.strip())[:120])
    # the read alone: fairsynth_read's state, with and without parallel workers
    # (EXPLAIN ANALYZE: its execution time, and the workers that really ran)
    read = f"SELECT fairsynth_read(t, ARRAY['race','sex']) FROM {table} t"
    ms = {}
    for workers in (0, 2):
        plan, _ = psql(f"SET max_parallel_workers_per_gather = {workers};\n"
                       f"EXPLAIN (ANALYZE, TIMING OFF, COSTS OFF) {read};")
        m = re.search(r"Execution Time: ([0-9.]+) ms", plan)
        launched = re.search(r"Workers Launched: (\d+)", plan)
        ms[workers] = float(m.group(1))
        R.add(sec, f"{table}: read (fairsynth_read), max_parallel_workers_per_gather {workers}, ms",
              fmt(ms[workers], 0), f"workers launched {launched.group(1) if launched else 0}")
    R.add(sec, f"{table}: read speed-up with 2 parallel workers", fmt(ms[0] / ms[2], 2),
          "> 1 (2 cores)", ms[0] > ms[2])
    psql(f"DROP TABLE {table};")


def stage_gen():
    try:
        setup_big()
    except Exception as e:
        R.error("generator", "gen_compas_like.sql", e)


STAGES = {"quality": stage_quality, "balance": stage_balance, "auc": stage_auc,
          "speed": stage_speed, "qspeed": stage_qspeed, "gen": stage_gen, "scale": stage_scale}


def summary():
    head = ("section", "metric", "value", "target", "result")
    rows = [head] + [tuple(str(x) for x in r) for r in R.rows]
    w = [min(max(len(r[i]) for r in rows), lim) for i, lim in enumerate((16, 72, 60, 28, 6))]
    line = "+".join("-" * (x + 2) for x in w)
    print()
    print(f"fairsynth benchmark  {time.strftime('%Y-%m-%d %H:%M:%S %Z')}  "
          f"server {os.environ.get('PGHOST', '')}:{os.environ.get('PGPORT', '')}")
    print(line)
    for i, r in enumerate(rows):
        print(" | ".join(r[j].ljust(w[j]) for j in range(5)).rstrip())
        if i == 0:
            print(line)
    print(line)
    npass = sum(r[4] == "PASS" for r in R.rows)
    nfail = sum(r[4] == "FAIL" for r in R.rows)
    nwarn = sum(r[4] == "WARN" for r in R.rows)
    print(f"{npass} PASS, {nfail} FAIL, {len(R.errors)} ERROR" + (f", {nwarn} WARN" if nwarn else ""))
    for sec, what, msg in R.errors:
        print(f"ERROR [{sec}] {what}: {msg}")
    for t, lines in STATE.get("notices", {}).items():
        for l in lines[:6]:
            print(f"core message ({t}): {l}")
    with open(os.path.join(OUT, "results.json"), "w") as f:
        json.dump({"rows": R.rows, "errors": R.errors, "notices": STATE.get("notices", {}),
                   "big_rows": BIG_ROWS, "runs": RUNS}, f, indent=1)


def main():
    t0 = run_stages(__doc__, STAGES, ["quality", "balance", "auc", "speed", "qspeed"],
                    setup_compas, R, log)
    if t0 is None:
        summary()
        return 1
    R.add("total", "bench wall-clock seconds", fmt(time.time() - t0, 0))
    # the module file, not the commit (commits of docs or tests change nothing measured)
    if module_changed(STATE.get("build")):
        R.add("total", "installed module changed during the run (figures mixed)", build_info(), "rerun", "WARN")
    summary()
    return 1 if R.errors else 0


if __name__ == "__main__":
    sys.exit(main())
