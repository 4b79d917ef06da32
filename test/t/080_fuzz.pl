# Fuzz suite (issue #13): 3,000 (at least 2,000) randomized calls of every public
# function of the extension over a catalogue of hostile relations (empty, one
# row, one column, no column, all NULL, NaN and infinities, extreme numerics
# and bigints, +-infinity timestamps, 1 MB texts, quoted and unicode names,
# enums, domains, arrays, jsonb, composites, generated and dropped columns,
# partitions, views, a materialized view, a temporary table, CHECK and NOT
# NULL constraints, typmods), each call with sensible arguments of which one
# (sometimes two) is replaced by NULL or an absurd value, sometimes under
# extreme settings of the fairsynth.* parameters.
#
# It fails on any crash (server restart), any XX error (internal error), any
# hang (statement_timeout), and any output that violates its declared type:
# every row a generator returns goes through a text round trip into its
# declared row type (typmods, domains, enums) and, for the relation's own row
# type, is inserted into a copy of the relation with its NOT NULL and CHECK
# constraints.  It prints the counts (calls, clean errors by SQLSTATE,
# crashes, XX errors, invalid outputs) as diagnostics.
#
# Deterministic: a fixed seed (FAIRSYNTH_FUZZ_SEED) drives every choice;
# FAIRSYNTH_FUZZ_CALLS (default 3000) sets the number of calls,
# FAIRSYNTH_FUZZ_LOG=file writes every call with its result there.

use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

my $ncalls = $ENV{FAIRSYNTH_FUZZ_CALLS} // 3000;
my $seed = $ENV{FAIRSYNTH_FUZZ_SEED} // 13;
my $batch_size = 100;
srand($seed);

my $node = PostgreSQL::Test::Cluster->new('fuzz');
$node->init;
$node->append_conf('postgresql.conf', q{
shared_preload_libraries = 'fairsynth'
fairsynth.model_store_size = 1MB
fairsynth.max_rows = 20000
restart_after_crash = on
});
$node->start;

# ---------------------------------------------------------------------------
# The catalogue of hostile relations.
# ---------------------------------------------------------------------------
$node->safe_psql('postgres', q{
CREATE EXTENSION fairsynth;
CREATE TABLE fz_mixed AS
  SELECT (ARRAY['a', 'b', 'c'])[1 + i % 3] AS g, CASE WHEN i % 5 = 0 THEN 'f' ELSE 'm' END AS sex,
         18 + (i * 37) % 60 AS age, round(((i * 13) % 1000) / 7.0, 2)::numeric(8,2) AS score,
         CASE WHEN (i * 17) % 10 < 3 THEN 'yes' ELSE 'no' END AS outcome,
         CASE WHEN (i * 19) % 10 < 4 THEN 'yes' ELSE 'no' END AS pred,
         (i % 4 = 0) AS flag, date '2020-01-01' + (i % 400) AS day,
         CASE WHEN i % 7 = 0 THEN NULL ELSE 'k' || (i % 9) END AS kind
  FROM generate_series(1, 300) i;
CREATE TABLE fz_mixed_syn AS SELECT * FROM fairsynth_synthesize(NULL::fz_mixed, num_rows => 200, seed => 1);
CREATE TABLE fz_empty (g text, v int);
CREATE TABLE fz_one (g text, v int, x float8);
INSERT INTO fz_one VALUES ('a', 1, 0.5);
CREATE TABLE fz_onecol AS SELECT 'g' || (i % 3) AS g FROM generate_series(1, 60) i;
CREATE TABLE fz_nocol ();
INSERT INTO fz_nocol SELECT FROM generate_series(1, 5);
CREATE TABLE fz_allnull (g text, v int, d date, n numeric);
INSERT INTO fz_allnull SELECT NULL, NULL, NULL, NULL FROM generate_series(1, 40);
CREATE TABLE fz_float AS
  SELECT (ARRAY['a', 'b'])[1 + i % 2] AS g,
         (ARRAY['NaN', 'Infinity', '-Infinity', '-0', '1e308', '-1e308', '5e-324', '1.5'])[1 + i % 8]::float8 AS x,
         (ARRAY['NaN', 'Infinity', '-Infinity', '3.4e38', '1e-45', '2.5'])[1 + i % 6]::real AS y
  FROM generate_series(1, 120) i;
CREATE TABLE fz_numeric AS
  SELECT (ARRAY['a', 'b'])[1 + i % 2] AS g,
         (ARRAY['NaN', 'Infinity', '-Infinity', '1e1000', '-1e1000', '1e-400', '0', '123.456'])[1 + i % 8]::numeric AS n,
         (ARRAY['9223372036854775807', '-9223372036854775808', '0', '1'])[1 + i % 4]::bigint AS b,
         (ARRAY['32767', '-32768', '0'])[1 + i % 3]::smallint AS s,
         (ARRAY['2147483647', '-2147483648', '7'])[1 + i % 3]::int AS i4
  FROM generate_series(1, 160) i;
CREATE TABLE fz_bigint AS
  SELECT 'g' || (i % 2) AS g, CASE WHEN i % 2 = 0 THEN 9223372036854775807 ELSE -9223372036854775807 END AS b
  FROM generate_series(1, 100) i;
CREATE TABLE fz_time AS
  SELECT (ARRAY['a', 'b'])[1 + i % 2] AS g,
         (ARRAY['infinity', '-infinity', '4713-01-01 BC', '294276-12-31 23:59:59', '2000-01-01'])[1 + i % 5]::timestamp AS t,
         (ARRAY['infinity', '-infinity', '4713-01-01 00:00 UTC BC', '294276-12-31 23:59:59 UTC', '2000-01-01 UTC'])[1 + i % 5]::timestamptz AS tz,
         (ARRAY['infinity', '-infinity', '4713-01-01 BC', '5874897-12-31', '2000-01-01'])[1 + i % 5]::date AS d
  FROM generate_series(1, 100) i;
CREATE TABLE fz_bigtext AS
  SELECT (ARRAY['a', 'b'])[1 + i % 2] AS g, repeat(chr(65 + i % 3), 1048576) AS big,
         repeat('é', 1000 + i) AS uni
  FROM generate_series(1, 8) i;
CREATE SCHEMA "Fz Schema";
CREATE TABLE "Fz Schema"."Fz Quoted ""Tbl""" ("Select" text, "a b" int, "ünï©ødé" text, "x""y" text, "G" text);
INSERT INTO "Fz Schema"."Fz Quoted ""Tbl"""
  SELECT 'v' || (i % 3), i % 10, 'ü' || (i % 4), 'q"' || (i % 2), CASE WHEN i % 2 = 0 THEN 'a' ELSE 'A' END
  FROM generate_series(1, 80) i;
CREATE TABLE "fz_ταμπλό" ("στήλη" text, "数" int, "🙂" text);
INSERT INTO "fz_ταμπλό" SELECT 'τ' || (i % 3), i % 20, '🙂' || (i % 2) FROM generate_series(1, 60) i;
CREATE TYPE fz_mood AS ENUM ('sad', 'ok', 'happy', 'it''s "odd"');
CREATE TABLE fz_enum AS
  SELECT (enum_range(NULL::fz_mood))[1 + i % 4] AS mood, 'g' || (i % 2) AS g, i % 9 AS v
  FROM generate_series(1, 80) i;
CREATE DOMAIN fz_posint AS int CHECK (VALUE > 0);
CREATE DOMAIN fz_short AS varchar(3) CHECK (VALUE <> 'bad');
CREATE DOMAIN fz_nn AS text NOT NULL;
CREATE TABLE fz_domain (p fz_posint, s fz_short, n fz_nn, g text);
INSERT INTO fz_domain SELECT 1 + i % 50, 'v' || (i % 7), 'n' || (i % 3), 'g' || (i % 2) FROM generate_series(1, 120) i;
CREATE TABLE fz_array AS SELECT 'g' || (i % 2) AS g, ARRAY[i, i + 1] AS a, ARRAY['x', NULL] AS ta FROM generate_series(1, 50) i;
CREATE TABLE fz_jsonb AS SELECT 'g' || (i % 2) AS g, jsonb_build_object('k', i) AS j, i % 5 AS v FROM generate_series(1, 50) i;
CREATE TYPE fz_pair AS (a int, b text);
CREATE TABLE fz_composite AS SELECT 'g' || (i % 2) AS g, ROW(i, 'x')::fz_pair AS c, i % 5 AS v FROM generate_series(1, 50) i;
CREATE TABLE fz_generated (g text, a int, b int GENERATED ALWAYS AS (a * 2) STORED);
INSERT INTO fz_generated (g, a) SELECT 'g' || (i % 3), i % 17 FROM generate_series(1, 90) i;
CREATE TABLE fz_dropped (g text, x int, v int, y text);
INSERT INTO fz_dropped SELECT 'g' || (i % 3), i, i % 11, 'y' FROM generate_series(1, 90) i;
ALTER TABLE fz_dropped DROP COLUMN x;
ALTER TABLE fz_dropped DROP COLUMN y;
ALTER TABLE fz_dropped ADD COLUMN z numeric DEFAULT 1.5;
CREATE TABLE fz_part (g text, v int, d date) PARTITION BY LIST (g);
CREATE TABLE fz_part_a PARTITION OF fz_part FOR VALUES IN ('a');
CREATE TABLE fz_part_rest PARTITION OF fz_part DEFAULT;
INSERT INTO fz_part SELECT (ARRAY['a', 'b', 'c'])[1 + i % 3], i % 13, date '2021-01-01' + i FROM generate_series(1, 150) i;
CREATE VIEW fz_view AS SELECT g, sex, age::numeric / 3 AS third, outcome FROM fz_mixed WHERE age > 30;
CREATE MATERIALIZED VIEW fz_matview AS SELECT * FROM fz_mixed WHERE g <> 'c';
CREATE TABLE fz_check (a int, b int, g text, CHECK (a < b), CHECK (g IN ('x', 'y')));
INSERT INTO fz_check SELECT i % 10, i % 10 + 1 + i % 3, CASE WHEN i % 3 = 0 THEN 'x' ELSE 'y' END FROM generate_series(1, 150) i;
CREATE TABLE fz_notnull (g text NOT NULL, v int NOT NULL, w text);
INSERT INTO fz_notnull SELECT 'g' || (i % 2), i % 7, CASE WHEN i % 3 = 0 THEN NULL ELSE 'w' END FROM generate_series(1, 80) i;
CREATE TABLE fz_typmod (g varchar(10), n numeric(4,1), c char(3), t timestamp(0), v varchar(4));
INSERT INTO fz_typmod
  SELECT 'abcdef' || (i % 2), (i % 900) / 10.0, 'ab', timestamp '2020-01-01 10:00:00' + i * interval '1 hour', 'v' || (i % 5)
  FROM generate_series(1, 100) i;
CREATE TYPE fz_narrow AS (g varchar(2), n numeric(2,1), c char(1), t timestamp(0), v varchar(4));
CREATE TABLE fz_uuid AS SELECT md5(i::text)::uuid AS id, 'g' || (i % 2) AS g FROM generate_series(1, 50) i;
CREATE TABLE fz_bool AS SELECT true AS b, 'g' AS g FROM generate_series(1, 30);
CREATE TABLE fz_highcard AS SELECT 'v' || i AS g, 'l' || (i % 2) AS label, i AS n FROM generate_series(1, 600) i;
CREATE TABLE fz_rare AS SELECT 'g' || (i % 2) AS g, 'c' || (i % 50) AS c FROM generate_series(1, 200) i;
CREATE TABLE fz_unsupported AS
  SELECT 'g' || (i % 2) AS g, i::text::bytea AS b, interval '1 day' * i AS iv, point(i, i) AS p
  FROM generate_series(1, 30) i;
SELECT format('CREATE TABLE fz_wide AS SELECT %s FROM generate_series(1, 60) i',
              string_agg(format('(i * %s) %% %s AS c%s', k, 2 + k % 7, k), ', '))
FROM generate_series(1, 40) k \gexec
CREATE SEQUENCE fz_seq;
CREATE INDEX fz_idx ON fz_mixed (g);
CREATE TABLE fz_big_n AS SELECT 'g' || (i % 2) AS g, (i % 10)::numeric * 1e300 AS n FROM generate_series(1, 50) i;
ANALYZE;

-- One fuzz call: run the call into a temporary table, then check its rows
-- against their declared row type (text round trip) and, given a copy of the
-- relation, insert them there (NOT NULL, CHECK); everything is rolled back.
-- Returns id|ok|rows, id|err|sqlstate|message or id|invalid|sqlstate|message.
CREATE FUNCTION fuzz_run(id int, call text, copy text, gucs text[]) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
  n bigint;
  bad bigint;
  phase text := 'err';
  st text;
  msg text;
BEGIN
  BEGIN
    FOR i IN 1 .. coalesce(array_length(gucs, 1), 0) BY 2 LOOP
      PERFORM set_config(gucs[i], gucs[i + 1], true);
    END LOOP;
    EXECUTE 'CREATE TEMP TABLE fz_out AS ' || call;
    GET DIAGNOSTICS n = ROW_COUNT;
    phase := 'invalid';
    SELECT count(*) INTO bad FROM fz_out o WHERE ((o::text)::fz_out)::text IS DISTINCT FROM o::text;
    IF bad > 0 THEN
      RAISE EXCEPTION '% of % rows change in a text round trip through their declared type', bad, n
        USING ERRCODE = 'FZ001';
    END IF;
    IF copy IS NOT NULL THEN
      EXECUTE format('INSERT INTO %s SELECT * FROM fz_out', copy);
    END IF;
    RAISE EXCEPTION 'done' USING ERRCODE = 'FZ000';
  EXCEPTION
    WHEN SQLSTATE 'FZ000' THEN
      RETURN id || '|ok|' || n;
    WHEN OTHERS THEN
      GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
      RETURN id || '|' || phase || '|' || st || '|' || regexp_replace(left(msg, 300), '[\n\r|]', ' ', 'g');
  END;
END
$$;
});

# The relations of the catalogue (SQL names); the temporary table is made in
# every session.
my @relations = (
	'fz_mixed', 'fz_mixed_syn', 'fz_empty', 'fz_one', 'fz_onecol', 'fz_nocol', 'fz_allnull',
	'fz_float', 'fz_numeric', 'fz_bigint', 'fz_time', 'fz_bigtext',
	'"Fz Schema"."Fz Quoted ""Tbl"""', '"fz_ταμπλό"', 'fz_enum', 'fz_domain',
	'fz_array', 'fz_jsonb', 'fz_composite', 'fz_generated', 'fz_dropped', 'fz_part',
	'fz_part_a', 'fz_view', 'fz_matview', 'fz_check', 'fz_notnull', 'fz_typmod',
	'fz_uuid', 'fz_bool', 'fz_highcard', 'fz_rare', 'fz_unsupported', 'fz_wide',
	'fz_big_n', 'pg_temp.fz_temp');
my $temp_setup = q{
CREATE TEMP TABLE fz_temp AS SELECT * FROM fz_mixed WHERE age < 50;
CREATE TEMP TABLE fzc_temp (LIKE fz_temp INCLUDING CONSTRAINTS);
};
$node->safe_psql('postgres', $temp_setup . 'CREATE TABLE fz_temp_shape AS SELECT * FROM fz_temp LIMIT 0;');

# copies of every relation (constraints included) for the insert check
my %copy;
my $k = 0;
for my $rel (@relations)
{
	next if $rel eq 'pg_temp.fz_temp';
	$k++;
	$copy{$rel} = "fzc_$k";
	$node->safe_psql('postgres', "CREATE TABLE fzc_$k (LIKE $rel INCLUDING CONSTRAINTS)");
}
$copy{'pg_temp.fz_temp'} = 'pg_temp.fzc_temp';
$node->safe_psql('postgres', 'CREATE TABLE fzc_narrow (LIKE fz_narrow)');

# columns (name, type) and a few values of every relation
my (%cols, %vals);
for my $rel (@relations, 'fz_narrow')
{
	my $regclass = $rel eq 'pg_temp.fz_temp' ? 'fz_temp_shape' : $rel;
	my $out = $node->safe_psql('postgres', sprintf(q{
		SELECT attname || E'\t' || format_type(atttypid, atttypmod)
		FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped
		ORDER BY attnum}, lit($regclass)));
	$cols{$rel} = [ map { [ split /\t/ ] } grep { $_ ne '' } split /\n/, $out ];
	next if $rel eq 'fz_narrow';
	for my $c (@{ $cols{$rel} })
	{
		my $v = $node->safe_psql('postgres', sprintf(
			q{SELECT string_agg(v, E'\t') FROM (SELECT DISTINCT left(%s::text, 40) AS v FROM %s
			  WHERE %s IS NOT NULL ORDER BY 1 LIMIT 3) s},
			ident($c->[0]), $regclass, ident($c->[0])));
		$vals{$rel}{ $c->[0] } = [ grep { $_ ne '' } split /\t/, $v ];
	}
}

# ---------------------------------------------------------------------------
# Argument generators: a sensible value for (function, argument, relation),
# and absurd ones by type.
# ---------------------------------------------------------------------------
sub lit
{
	my ($s) = @_;
	$s =~ s/'/''/g;
	return "'$s'";
}

sub ident
{
	my ($s) = @_;
	$s =~ s/"/""/g;
	return "\"$s\"";
}

sub pick { return $_[ int(rand(@_)) ]; }

sub colnames { return map { $_->[0] } @{ $cols{ $_[0] } }; }

sub some_column
{
	my ($rel) = @_;
	my @c = colnames($rel);
	return @c ? lit(pick(@c)) : lit('g');
}

sub some_value
{
	my ($rel, $col) = @_;
	my @v = @{ $vals{$rel}{$col} // [] };
	return @v ? lit(pick(@v)) : lit('x');
}

my @huge_text = ("repeat('x', 1048576)", "repeat('é', 100000)");
my @absurd_text = ("''", "' '", "'nope'", "'\"g\"'", "'g; DROP TABLE fz_mixed; --'", "'%s%n'",
	"E'\\\\'", "'🙂'", "repeat('x', 64)", @huge_text, "'NaN'", "'-Infinity'");
my @absurd_bigint = ('0', '-1', '-9223372036854775808', '9223372036854775807', '2147483648', '20001', '1');
my @absurd_int = ('0', '-1', '-2147483648', '2147483647', '1');
my @absurd_float = ("'NaN'", "'Infinity'", "'-Infinity'", '1e308', '-1e308', "'-0'", '5e-324', '0', '-1', '2');
my @absurd_regclass = ('0', "'pg_class'", "'fz_seq'", "'fz_idx'", "'fz_mixed_pkey_nope'::text",
	"'information_schema.columns'", "'pg_catalog.pg_stat_activity'", "'fz_narrow'::text", '4294967295',
	"'pg_toast.pg_toast_1262'");
my @absurd_jsonb = ("'[]'", "'1'", "'null'", "'\"x\"'", "'{}'", q{'{"nope": {"a": 0.5}}'},
	q{'{"g": 1}'}, q{'{"g": {"a": -1}}'}, q{'{"g": {"a": 2}}'}, q{'{"g": {"a": 1e400}}'},
	q{'{"g": {"a": 0.6, "b": 0.6}}'}, q{'{"g": {"a": null}}'}, q{'{"g": {"a": "x"}}'},
	q{'{"g": {"": 0.1}}'}, q{'{"g": {"a": 0}}'}, q{'{"g": {"a": 1}}'},
	q{(SELECT jsonb_object_agg('c' || i, jsonb_build_object('v', 0.01)) FROM generate_series(1, 500) i)},
	q{repeat('[', 5000)::text || '1' || repeat(']', 5000)});
my @absurd_textarr = ("'{}'", "'{NULL}'", "ARRAY['nope']", "ARRAY['']", "'{{g,sex},{age,kind}}'",
	"(SELECT array_agg('c' || i) FROM generate_series(1, 1000) i)", "ARRAY['g', 'g']",
	"ARRAY[repeat('x', 100000)]", "'[5:6]={g,sex}'");
my @absurd_numarr = ("'{}'", "'{NULL}'", "'{1,NULL,3}'", "'{-1,-2}'", "'{1,2,3,4,5,6,7,8,9,10,11,12}'",
	"'{{1,2},{3,4}}'", "(SELECT array_agg(i) FROM generate_series(1, 2000) i)", "'{0,0,0}'");
my @absurd_floatarr = ("'{}'", "'{NULL}'", "'{NaN,Infinity,-Infinity}'", "'{1e308,-1e308}'",
	"'{0.5}'", "'{{0.1,0.2},{0.3,0.4}}'", "'{-0,1,2,3,4,5}'");

# absurd values by SQL type
sub absurd
{
	my ($type) = @_;
	return pick(@absurd_text) if $type eq 'text';
	return pick(@absurd_bigint) if $type eq 'bigint';
	return pick(@absurd_int) if $type eq 'integer';
	return pick(@absurd_float) . '::float8' if $type eq 'double precision';
	return pick(@absurd_regclass) . '::regclass' if $type eq 'regclass';
	return pick(@absurd_jsonb) . '::jsonb' if $type eq 'jsonb';
	return pick(@absurd_textarr) . '::text[]' if $type eq 'text[]';
	return pick(@absurd_numarr) . '::bigint[]' if $type eq 'bigint[]';
	return pick(@absurd_numarr) . '::int[]' if $type eq 'integer[]';
	return pick(@absurd_floatarr) . '::float8[]' if $type eq 'double precision[]';
	return pick('true', 'false') if $type eq 'boolean';
	return 'NULL';
}

# a sensible value of argument $name (type $type) for relation $rel
sub sensible
{
	my ($fn, $name, $type, $rel, $args) = @_;
	my @c = colnames($rel);
	return lit($rel) . '::regclass' if $type eq 'regclass' && $name =~ /^(relation|original)$/;
	# fairsynth_balance_into: a copy of the relation (rolled back), its row type
	return lit($copy{$rel}) . '::regclass' if $type eq 'regclass' && $name eq 'destination';
	return "NULL::$rel" if $type eq 'anyelement' && $name eq 'relation';
	return pick(lit($rel), lit('fz_mixed_syn'), lit('fz_mixed')) . '::regclass'
	  if $type eq 'regclass' && $name eq 'synthetic';
	return pick('NULL', lit($rel), lit('fz_mixed')) . '::regclass' if $name eq 'holdout';
	if ($name eq 'columns')
	{
		return 'NULL' if $fn eq 'fairsynth_impute' && rand() < 0.5;
		return "ARRAY[]::text[]" unless @c;
		my @pick = (pick(@c));
		push @pick, pick(@c) if rand() < 0.3 && @c > 1 && $fn ne 'fairsynth_impute';
		@pick = ($pick[0]) if $pick[1] && $pick[1] eq $pick[0];
		$args->{_columns} = \@pick;
		return 'ARRAY[' . join(', ', map { lit($_) } @pick) . ']::text[]';
	}
	return pick("'full'", "'full'", "'additive'") if $name eq 'mode';
	return 'NULL' if $name eq 'num_rows' && ($args->{mode} // '') eq "'additive'";
	return pick('NULL', '1', '10', '100', '500') if $name eq 'num_rows';
	if ($name eq 'outcome' || $name eq 'label' || $name eq 'predicted')
	{
		# a column that is not a balance column, the facet or the label
		my %taken = map { $_ => 1 } @{ $args->{_columns} // [] };
		for my $other (qw(facet label))
		{
			next unless defined $args->{$other};
			(my $o = $args->{$other}) =~ s/^'(.*)'$/$1/s;
			$o =~ s/''/'/g;
			$taken{$o} = 1;
		}
		my @free = grep { !$taken{$_} } @c;
		return 'NULL' if $name eq 'outcome' && (rand() < 0.5 || !@free);
		return 'NULL' if $name eq 'predicted' && $fn eq 'fairsynth_report' && rand() < 0.5;
		return @free ? lit(pick(@free)) : some_column($rel);
	}
	if ($name eq 'target')
	{
		return 'NULL' if rand() < 0.6 || !@c;
		my $col = pick(@c);
		my @v = @{ $vals{$rel}{$col} // [] };
		return 'NULL' unless @v;
		my $t = '{' . join(', ', map { '"' . jq($_) . '": ' . pick('0.1', '0.3', '0.5') } @v[0 .. int(rand(@v))]) . '}';
		return lit('{"' . jq($col) . '": ' . $t . '}') . '::jsonb';
	}
	return pick('1', '2', '42', '12345') if $name eq 'seed';
	return pick('NULL', some_column($rel)) if $name eq 'group_by';
	return pick('false', 'true') if $name eq 'impute';
	return some_column($rel) if $name =~ /^(facet|col|name)$/;
	if ($name eq 'favorable' || $name eq 'fav')
	{
		return 'NULL' if rand() < 0.5;
		my $label = $args->{label} // some_column($rel);
		(my $l = $label) =~ s/^'(.*)'$/$1/s;
		$l =~ s/''/'/g;
		return some_value($rel, $l);
	}
	return lit('argument') if $name eq 'argname';
	return pick('5', '10', '20') if $name =~ /^(lim|topk|n)$/;
	return pick('0', '0.25', '0.5', '1') if $type eq 'double precision';
	return pick(q{'<b>"x" & y</b>'}, q{'plain'}, q{'é 🙂'}) if $type eq 'text';
	return pick(q{ARRAY['a', 'b']}, q{ARRAY['<x>', '&']}) if $type eq 'text[]';
	return pick(q{'{1,2}'::bigint[]}, q{'{10,0}'::bigint[]}) if $type eq 'bigint[]';
	return pick(q{'{1,2}'::int[]}, q{'{2,1}'::int[]}) if $type eq 'integer[]';
	return pick(q{'{0.1,0.9}'::float8[]}, q{'{0.5,0.5}'::float8[]}) if $type eq 'double precision[]';
	return 'NULL';
}

sub jq
{
	my ($s) = @_;
	$s =~ s/(["\\])/\\$1/g;
	return $s;
}

# ---------------------------------------------------------------------------
# The functions: every function of the extension that SQL can call, with its
# argument names and types, from the catalog.
# ---------------------------------------------------------------------------
my @functions;
for my $line (split /\n/, $node->safe_psql('postgres', q{
	SELECT p.oid || E'\t' || p.proname || E'\t' || quote_ident(n.nspname) || E'\t' || p.prorettype::regtype || E'\t' || p.proretset || E'\t' ||
	       p.prokind::text || E'\t' ||
	       coalesce(array_to_string(p.proargnames[1:p.pronargs], ','), '') || E'\t' ||
	       coalesce((SELECT string_agg(format_type(t, NULL), ',' ORDER BY o)
	                 FROM unnest(p.proargtypes::oid[]) WITH ORDINALITY u(t, o)), '')
	FROM pg_proc p
	JOIN pg_namespace n ON n.oid = p.pronamespace
	JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
	JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'fairsynth'
	WHERE NOT 'internal'::regtype = ANY (p.proargtypes::oid[])
	ORDER BY p.proname, p.oid}))
{
	my ($oid, $name, $schema, $ret, $retset, $kind, $argnames, $argtypes) = split /\t/, $line, -1;
	push @functions, {
		name => $name,
		# the helpers in fairsynth_internal are called qualified (the schema
		# is on no search_path); the public functions as a user calls them
		call => $schema eq 'fairsynth_internal' ? "$schema.$name" : $name,
		ret => $ret,
		retset => $retset eq 't',
		# an aggregate is called over the rows of a relation (its first
		# argument the row), not in FROM
		agg => $kind eq 'a',
		argnames => [ split /,/, $argnames ],
		argtypes => [ split /,/, $argtypes ],
	};
}
my %weight = (
	fairsynth_balance => 10, fairsynth_synthesize => 8, fairsynth_impute => 6,
	fairsynth_profile => 5, fairsynth_bias => 5, fairsynth_model_bias => 5,
	fairsynth_quality => 4, fairsynth_report => 3, fairsynth_models => 2,
	fairsynth_models_reset => 1);
my @wheel;
for my $f (@functions)
{
	push @wheel, ($f) x ($weight{ $f->{name} } // 1);
}
cmp_ok(scalar(@functions), '>=', 20, scalar(@functions) . ' functions to fuzz');

my @gucs = (
	[ 'fairsynth.sample_rows', '100' ], [ 'fairsynth.rare_threshold', '1' ],
	[ 'fairsynth.rare_threshold', '1000' ], [ 'fairsynth.max_combinations', '1' ],
	[ 'fairsynth.max_rows', '1' ], [ 'work_mem', '64kB' ], [ 'fairsynth.sample_rows', '100000' ],
	[ 'DateStyle', 'SQL, DMY' ], [ 'extra_float_digits', '-15' ], [ 'TimeZone', 'Pacific/Chatham' ],
	[ 'lc_numeric', 'C' ], [ 'search_path', '"Fz Schema", pg_temp, public' ]);

# the checks see a bad row: one that breaks a CHECK constraint of the copy
like($node->safe_psql('postgres', sprintf(q{SELECT fuzz_run(-1, 'SELECT 5 AS a, 1 AS b, ''x''::text AS g', %s, NULL)},
	lit($copy{fz_check}))), qr/^-1\|invalid\|23514\|/, 'the output checks catch a row that violates a CHECK constraint');

# One call: [sql, copy or undef, gucs]
sub make_call
{
	my ($f) = @_;
	my $rel = pick(@relations);
	my @names = @{ $f->{argnames} };
	my @types = @{ $f->{argtypes} };
	my $typed = @types && $types[0] eq 'anyelement';
	my $named = $f->{name} eq 'fairsynth_balance' && @types && $types[0] eq 'text';
	my (%args, @vals);
	for my $i (0 .. $#names)
	{
		my $v;
		if ($i == 0 && $typed)
		{
			$v = $f->{agg} ? 't' : "NULL::$rel";
		}
		elsif ($i == 0 && $named)
		{
			$v = lit($rel) . '::text';
		}
		else
		{
			$v = sensible($f->{name}, $names[$i], $types[$i], $rel, \%args);
		}
		$args{ $names[$i] } = $v;
		push @vals, $v;
	}
	# one argument (sometimes two, sometimes none) NULL or absurd
	my $mutations = rand() < 0.15 ? 0 : rand() < 0.8 ? 1 : 2;
	# a copy to insert the output into: only for rows of the relation's type
	# (fairsynth_fit takes the relation's row type but returns a bytea)
	my $copy = (($typed && $f->{ret} eq 'anyelement' && !$f->{agg}) || $named) ? $copy{$rel} : undef;
	my $cdl_rel = $rel;
	for (1 .. $mutations)
	{
		last unless @vals;
		my $i = int(rand(@vals));
		if ($i == 0 && $typed)
		{
			$vals[0] = pick('NULL::int', '42', 'NULL::fz_narrow', 'NULL::pg_class', "ROW(1, 'a')",
				'NULL::text', "'fz_one'::regclass", '(SELECT t FROM fz_one t)', 'NULL::fz_seq',
				'NULL::fz_pair', 'NULL::fz_mood', "'{}'::int[]", 'NULL::pg_stat_activity');
			$copy = undef;
		}
		elsif ($i == 0 && $named && rand() < 0.5)
		{
			# the column definition list of another relation, or narrower typmods
			$cdl_rel = pick(@relations, 'fz_narrow', 'fz_narrow');
			$copy = $cdl_rel eq 'fz_narrow' ? 'fzc_narrow' : undef;
		}
		else
		{
			$vals[$i] = rand() < 0.45 ? 'NULL' : absurd($types[$i]);
			$copy = undef if $i == 0;
		}
	}
	my @parts;
	for my $i (0 .. $#vals)
	{
		# named notation after the first, positional for the first two at times
		push @parts, ($i < 2 && rand() < 0.5) ? $vals[$i] : "$names[$i] => $vals[$i]";
	}
	# positional arguments may not follow named ones
	my $seen_named = 0;
	for my $i (0 .. $#parts)
	{
		$seen_named = 1 if $parts[$i] =~ / => /;
		$parts[$i] = "$names[$i] => $vals[$i]" if $seen_named && $parts[$i] !~ / => /;
	}
	# sometimes leave trailing defaulted arguments out
	while (@parts > 1 && rand() < 0.2 && $vals[-1] eq 'NULL')
	{
		pop @parts;
		pop @vals;
	}
	my $call = "$f->{call}(" . join(', ', @parts) . ')';
	my $sql;
	if ($named)
	{
		my @cdl = map { ident($_->[0]) . ' ' . $_->[1] } @{ $cols{$cdl_rel} };
		$sql = "SELECT * FROM $call AS s(" . join(', ', @cdl) . ')';
		$copy = $vals[0] ne lit($rel) . '::text' ? undef
		  : $cdl_rel eq $rel ? $copy{$rel}
		  : $cdl_rel eq 'fz_narrow' ? 'fzc_narrow' : undef;
	}
	elsif ($f->{agg})
	{
		$sql = "SELECT ${call}::text AS v FROM $rel t";
	}
	elsif ($f->{ret} eq 'void')
	{
		$sql = "SELECT ${call}::text AS v";
	}
	else
	{
		$sql = "SELECT * FROM $call s";
	}
	my @g;
	push @g, @{ pick(@gucs) } if rand() < 0.1;
	return [ $sql, $copy, \@g ];
}

# ---------------------------------------------------------------------------
# Run the calls in batches, one session each (a crash ends the batch).
# ---------------------------------------------------------------------------
my @calls;
# first every function once with sensible arguments' shapes, then at random
push @calls, make_call($_) for @functions;
push @calls, make_call(pick(@wheel)) while @calls < $ncalls;

my (%by_state, %example, @crashes, @internal, @invalid, @hangs, %by_fn_ok, %by_fn);
my $ok_calls = 0;
my $started = time();
my $start_time = $node->safe_psql('postgres', 'SELECT pg_postmaster_start_time()');
my @slow;
# FAIRSYNTH_FUZZ_LOG=file: every call and its result, one a line
my $calllog;
if ($ENV{FAIRSYNTH_FUZZ_LOG})
{
	open($calllog, '>', $ENV{FAIRSYNTH_FUZZ_LOG}) or die "cannot write $ENV{FAIRSYNTH_FUZZ_LOG}: $!";
}

for (my $b = 0; $b < @calls; $b += $batch_size)
{
	my $last = $b + $batch_size - 1;
	$last = $#calls if $last > $#calls;
	my $script = "SET client_min_messages = error;\nSET statement_timeout = '60s';\n$temp_setup\n";
	for my $i ($b .. $last)
	{
		my ($sql, $copy, $g) = @{ $calls[$i] };
		$script .= sprintf("SELECT fuzz_run(%d, %s, %s, %s);\n", $i, lit($sql),
			defined $copy ? lit($copy) : 'NULL',
			@$g ? 'ARRAY[' . join(', ', map { lit($_) } @$g) . ']' : 'NULL');
	}
	my ($out, $err) = ('', '');
	my $t0 = time();
	$node->psql('postgres', $script, stdout => \$out, stderr => \$err,
		on_error_stop => 0, extra_params => [ '-q' ], timeout => 900);
	my %seen;
	for my $line (split /\n/, $out)
	{
		my ($id, $kind, $state, $msg) = split /\|/, $line, 4;
		next unless defined $kind && $id =~ /^\d+$/;
		$seen{$id} = 1;
		print $calllog "$line\t$calls[$id][0]\n" if $calllog;
		(my $fn = $calls[$id][0]) =~ s/^SELECT (?:\* FROM )?(?:fairsynth_internal\.)?(\w+).*/$1/s;
		$by_fn{$fn}++;
		if ($kind eq 'ok')
		{
			$ok_calls++;
			$by_fn_ok{$fn}++;
		}
		elsif ($kind eq 'invalid')
		{
			push @invalid, "$state $msg :: $calls[$id][0]";
		}
		elsif ($state =~ /^XX/)
		{
			push @internal, "$state $msg :: $calls[$id][0]";
		}
		else
		{
			$by_state{$state}++;
			$example{$state} //= "$msg :: $calls[$id][0]";
		}
	}
	for my $i ($b .. $last)
	{
		next if $seen{$i};
		if ($err =~ /statement timeout/)
		{
			push @hangs, $calls[$i][0];
		}
		else
		{
			push @crashes, $calls[$i][0];
		}
		# a crash ends the session: the rest of the batch did not run
		last;
	}
	my $dt = time() - $t0;
	push @slow, sprintf('%.1f s batch %d', $dt, $b / $batch_size);
	if (@crashes || @hangs)
	{
		diag("stderr of batch " . ($b / $batch_size) . ": " . substr($err, 0, 2000));
		$node->poll_query_until('postgres', 'SELECT true');
	}
}
my $elapsed = time() - $started;

my $errors = 0;
$errors += $_ for values %by_state;
my $restarted = $node->safe_psql('postgres', 'SELECT pg_postmaster_start_time()') ne $start_time;
my $log = slurp_file($node->logfile);
my $crash_log = () = $log =~ /terminated by signal|was terminated|exited with exit code/g;

diag(sprintf('fuzz: %d calls in %.0f s (seed %s): %d returned rows, %d clean errors, %d crashes, '
	  . '%d XX errors, %d invalid outputs, %d hangs',
	scalar(@calls), $elapsed, $seed, $ok_calls, $errors, scalar(@crashes), scalar(@internal),
	scalar(@invalid), scalar(@hangs)));
diag('fuzz: clean errors by SQLSTATE: '
	  . join(', ', map { "$_ $by_state{$_}" } sort { $by_state{$b} <=> $by_state{$a} || $a cmp $b } keys %by_state));
diag('fuzz: calls (returned rows) by function: '
	  . join(', ', map { "$_ " . $by_fn{$_} . ' (' . ($by_fn_ok{$_} // 0) . ')' } sort keys %by_fn));
note('fuzz: batch times: ' . join(', ', @slow));
note("fuzz: $_ e.g. " . substr($example{$_}, 0, 400)) for sort keys %example;

cmp_ok(scalar(@calls), '>=', $ncalls, "at least $ncalls calls");
is(scalar(@crashes), 0, 'no crash') or diag(join("\n", @crashes));
ok(!$restarted && $crash_log == 0, 'the server never restarted');
is(scalar(@internal), 0, 'no XX (internal) error') or diag(join("\n", @internal));
is(scalar(@hangs), 0, 'no call hit statement_timeout (60 s)') or diag(join("\n", @hangs));
is(scalar(@invalid), 0, 'every output row is a valid value of its declared type and inserts back')
  or diag(join("\n", @invalid));
cmp_ok($ok_calls, '>=', $ncalls / 10, 'a good share of the calls returned rows');
is(scalar(keys %by_fn), scalar(keys %{ { map { $_->{name} => 1 } @functions } }), 'every function was called');

done_testing();
