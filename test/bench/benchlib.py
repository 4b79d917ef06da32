"""Helpers shared by the benchmark scripts (bench.py, fairness.py): results, formatting,
psql sessions, logging and the stage loop."""
import math
import os
import re
import subprocess
import sys
import time
import traceback


# The compas table of shared/data/README.md (columns in this order).
COLUMNS = [("sex", "text"), ("age", "int"), ("age_cat", "text"), ("race", "text"),
           ("juv_fel_count", "int"), ("juv_misd_count", "int"), ("juv_other_count", "int"),
           ("priors_count", "int"), ("days_b_screening_arrest", "int"),
           ("c_charge_degree", "text"), ("c_charge_desc", "text"), ("decile_score", "int"),
           ("score_text", "text"), ("v_decile_score", "int"), ("v_score_text", "text"),
           ("is_recid", "int"), ("is_violent_recid", "int"), ("two_year_recid", "int")]
DDL = ", ".join(f"{c} {t}" for c, t in COLUMNS)
TEXT_COLS = [c for c, t in COLUMNS if t == "text"]
LABEL = "two_year_recid"
LEAKY = ["is_recid", "is_violent_recid"]


REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = os.path.join(REPO, "test", "data", "compas.csv")


def build_info():
    """Which source was measured: HEAD (+dirty) and the installed module's mtime."""
    def sh(*cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True, cwd=REPO).stdout.strip()
        except OSError:
            return ""
    head = sh("git", "rev-parse", "--short", "HEAD") or "?"
    dirty = " (+uncommitted changes)" if sh("git", "--no-optional-locks", "status", "--porcelain",
                                              "--untracked-files=no") else ""
    lib = os.path.join(sh("pg_config", "--pkglibdir") or "/usr/lib/postgresql/15/lib", "fairsynth.so")
    destdir = os.environ.get("FAIRSYNTH_BENCH_DESTDIR")
    if destdir:
        lib = os.path.abspath(destdir) + lib
        label = os.path.join(destdir, "BUILD_LABEL")   # optional, written by whoever built it
        if os.path.exists(label):
            head, dirty = open(label).read().strip(), ""
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(os.path.getmtime(lib))) + " UTC" \
        if os.path.exists(lib) else "not installed"
    return f"{head}{dirty} / {'DESTDIR ' if destdir else ''}fairsynth.so {when}"


def module_changed(build):
    """Whether the installed module differs from the one stamped in build (build_info())."""
    return bool(build) and build_info().split(" / ")[-1] != build.split(" / ")[-1]


def load_compas(psql, schema, out):
    """The 80/20 split of shared/reference/README.md (pandas.sample(frac=0.8,
    random_state=7)) written to out/compas_{train,holdout}.csv, and the tables compas,
    compas_train and compas_holdout in a fresh schema; returns (train_csv, hold_csv,
    n_train, n_hold) after checking the loaded counts against the split."""
    import pandas
    os.makedirs(out, exist_ok=True)
    # read as text so that values round-trip verbatim (no 12 -> 12.0 for NULL-able ints)
    df = pandas.read_csv(DATA, dtype=str, keep_default_na=False, na_filter=False)
    train = df.sample(frac=0.8, random_state=7)
    hold = df.drop(train.index)
    train_csv, hold_csv = os.path.join(out, "compas_train.csv"), os.path.join(out, "compas_holdout.csv")
    train.to_csv(train_csv, index=False)
    hold.to_csv(hold_csv, index=False)
    psql(f"""
DROP SCHEMA IF EXISTS {schema} CASCADE;
CREATE SCHEMA {schema};
SET search_path = {schema}, public;
CREATE TABLE compas ({DDL});
CREATE TABLE compas_train ({DDL});
CREATE TABLE compas_holdout ({DDL});
\\copy compas FROM {sqlstr(DATA)} WITH (FORMAT csv, HEADER true)
\\copy compas_train FROM {sqlstr(train_csv)} WITH (FORMAT csv, HEADER true)
\\copy compas_holdout FROM {sqlstr(hold_csv)} WITH (FORMAT csv, HEADER true)
ANALYZE compas; ANALYZE compas_train; ANALYZE compas_holdout;
""")
    n, _ = psql("SELECT (SELECT count(*) FROM compas_train) || ',' || (SELECT count(*) FROM compas_holdout);")
    n_train, n_hold = (int(x) for x in n.strip().split(","))
    assert (n_train, n_hold) == (len(train), len(hold)), "loaded row counts differ from the split"
    return train_csv, hold_csv, n_train, n_hold


class Results:
    """Rows of the summary table: (section, metric, value, target, status)."""

    def __init__(self):
        self.rows = []
        self.errors = []

    def add(self, section, metric, value, target="", ok=None):
        status = ok if isinstance(ok, str) else "" if ok is None else ("PASS" if ok else "FAIL")
        self.rows.append((section, metric, value, target, status))

    def error(self, section, what, exc):
        msg = str(exc).strip().splitlines()
        msg = msg[-1] if msg else type(exc).__name__
        self.rows.append((section, what, msg[:90], "", "ERROR"))
        self.errors.append((section, what, str(exc)))


def fmt(x, nd=4):
    """A figure for the table: n/a for None, nd decimals for floats."""
    if x is None:
        return "n/a"
    if isinstance(x, float):
        return "nan" if math.isnan(x) else f"{x:.{nd}f}"
    return str(x)


def sqlstr(s):
    """A SQL string literal."""
    return "'" + s.replace("'", "''") + "'"


def make_log(tag, out):
    """A logger printing to stderr and appending to OUT/run.log."""
    def log(msg):
        line = f"[{tag} {time.strftime('%H:%M:%S')}] {msg}"
        print(line, file=sys.stderr, flush=True)
        os.makedirs(out, exist_ok=True)
        with open(os.path.join(out, "run.log"), "a") as f:
            print(line, file=f)
    return log


def make_psql(schema_name):
    """psql(sql, csv=False, check=True, schema=True): run a script in a new session
    (search_path = schema_name, public unless schema=False); returns (stdout, stderr)."""
    def psql(sql, csv=False, check=True, schema=True):
        cmd = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "--no-psqlrc"]
        cmd += ["--csv"] if csv else ["-A", "-t", "-F", "|"]
        script = (f"SET search_path = {schema_name}, public;\n" if schema else "") + sql
        p = subprocess.run(cmd, input=script, capture_output=True, text=True)
        if check and p.returncode != 0:
            msg = [l for l in p.stderr.strip().splitlines()
                   if not re.match(r"\s*(NOTICE|DEBUG\d?|INFO|LOG):", l)]
            raise RuntimeError(f"psql failed ({p.returncode}): " + " ".join(m.strip() for m in msg[-4:]))
        return p.stdout, p.stderr
    return psql


def run_stages(doc, stages, default, setup, results, log):
    """Parse the command line, run setup and the chosen stages, recording errors;
    returns the start time, or None when setup failed (after recording it)."""
    args = sys.argv[1:]
    if any(a in ("-h", "--help") for a in args):
        print(doc)
        sys.exit(0)
    chosen = args or default
    for s in chosen:
        if s not in stages:
            sys.exit(f"unknown stage {s}; stages: {' '.join(stages)}")
    t0 = time.time()
    try:
        setup()
    except Exception as e:
        traceback.print_exc()
        results.error("setup", "split and load compas", e)
        return None
    for s in chosen:
        log(f"stage {s}")
        try:
            stages[s]()
        except Exception as e:
            traceback.print_exc()
            results.error(s, "stage", e)
    return t0
