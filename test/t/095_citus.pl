
# fairsynth on Citus (issue 12): a coordinator and 2 workers on local ports,
# a distributed compas-like table, and fairsynth_balance_into a colocated
# distributed table: exact counts per combination equal fairsynth_balance's
# plan, every worker inserts its part, the accuracy against the source is
# within 0.01 of the single-node fairsynth_balance's, an enum balance column
# (other OIDs on the workers) keeps exact counts; a model fitted on the
# distributed table round-trips through a table and pg_dump (identical
# output by md5), and a corrupted model is an error.
#
# Needs Citus (shared_preload_libraries = 'citus'). When it is not installed
# the test is skipped, unless FAIRSYNTH_BUILD_CITUS=1, which builds it with
# ../shared/vendor/citus/build.sh (as root, ~4 min; CITUS_VENDOR=DIR for
# another folder) first.

use strict;
use warnings;
use Cwd qw(abs_path);
use File::Basename qw(dirname);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $repo = abs_path(dirname(__FILE__) . '/../..');
my ($pkglibdir, $sharedir) = map {
	my ($out, $err);
	IPC::Run::run([ 'pg_config', $_ ], '>', \$out, '2>', \$err)
	  or die "pg_config $_ failed: $err";
	chomp $out;
	$out;
} ('--pkglibdir', '--sharedir');
my $installed = sub {
	return -f "$pkglibdir/citus.so" && -f "$sharedir/extension/citus.control";
};

if (!$installed->())
{
	my $vendor = $ENV{CITUS_VENDOR} // "$repo/../shared/vendor/citus";
	if (!$ENV{FAIRSYNTH_BUILD_CITUS})
	{
		plan skip_all => "Citus is not installed ($pkglibdir/citus.so); "
		  . "set FAIRSYNTH_BUILD_CITUS=1 to build it with $vendor/build.sh (as root, ~4 min)";
	}
	-f "$vendor/build.sh"
	  or BAIL_OUT("FAIRSYNTH_BUILD_CITUS=1 but $vendor/build.sh does not exist");
	system('bash', "$vendor/build.sh") == 0
	  or BAIL_OUT("FAIRSYNTH_BUILD_CITUS=1 but $vendor/build.sh failed (exit $?)");
	$installed->() or BAIL_OUT("$vendor/build.sh ran but Citus is still not installed in $pkglibdir");
}

# three nodes; Citus connects to them over TCP on localhost
my @nodes;
for my $name ('coordinator', 'worker1', 'worker2')
{
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init;
	$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'citus'
listen_addresses = 'localhost'
citus.enable_statistics_collection = off
max_connections = 40
});
	$node->start;
	$node->safe_psql('postgres', 'CREATE EXTENSION citus; CREATE EXTENSION fairsynth;');
	push @nodes, $node;
}
my ($coord, @workers) = @nodes;
$coord->safe_psql('postgres', sprintf(q{
SELECT citus_set_coordinator_host('localhost', %d);
SELECT citus_add_node('localhost', %d);
SELECT citus_add_node('localhost', %d);
}, map { $_->port } @nodes));
is($coord->safe_psql('postgres', q{SELECT count(*) FROM citus_get_active_worker_nodes()}),
	'2', 'a coordinator and 2 workers');

# the source: compas-like rows with a bigserial id, distributed by it in 8
# shards; the destinations colocated with it; a local copy of the source
my $gen = "$repo/test/bench/gen_compas_like.sql";
$coord->safe_psql('postgres', qq{
\\i $gen
SELECT fairsynth_bench_make_table('src_rows', 3000, 0.42);
SET citus.shard_count = 8;
CREATE TABLE src (id bigserial, LIKE src_rows);
INSERT INTO src SELECT nextval('src_id_seq'), * FROM src_rows;
SELECT create_distributed_table('src', 'id');
SELECT truncate_local_data_after_distributing_table('src');
CREATE TABLE dest (LIKE src);
SELECT create_distributed_table('dest', 'id', colocate_with => 'src');
CREATE TABLE dest_from_local (LIKE src);
SELECT create_distributed_table('dest_from_local', 'id', colocate_with => 'src');
CREATE TABLE src_local AS SELECT * FROM src;
});

my $returned = $coord->safe_psql('postgres',
	q{SELECT fairsynth_balance_into('dest', NULL::src, ARRAY['race', 'sex'], seed => 1)});
is($returned, '3000', 'balance_into returns the number of rows it inserted');
is($coord->safe_psql('postgres', q{SELECT count(*) FROM dest}), '3000',
	'the distributed destination holds them');

# exact counts: per combination, the plan of fairsynth_balance on the same source
my $counts = sub {
	my ($from) = @_;
	return qq{SELECT string_agg(race || '/' || sex || '=' || n, ', ' ORDER BY race, sex)
	          FROM (SELECT race, sex, count(*) AS n FROM $from GROUP BY race, sex) c};
};
my $plan = $coord->safe_psql('postgres',
	$counts->(q{fairsynth_balance(NULL::src_local, ARRAY['race', 'sex'], seed => 1)}));
like($plan, qr/^African-American\/Female=250, /, 'the plan: 3000 rows over 12 combinations');
is($coord->safe_psql('postgres', $counts->('dest')), $plan,
	'every combination has exactly the planned count over the whole destination');

# every worker generated and inserted its part (each worker holds rows; the
# split of the plan is checked by the counts)
my $per_node = $coord->safe_psql('postgres', q{
SELECT string_agg(nodeport::text || '=' || n, ',' ORDER BY nodeport)
  FROM (SELECT nodeport, sum(result::bigint) AS n
          FROM run_command_on_placements('dest', 'SELECT count(*) FROM %s') GROUP BY nodeport) p});
my @parts = map { (split /=/)[1] } split /,/, $per_node;
is(scalar(@parts), 2, 'the destination has shards on both workers');
ok((grep { $_ > 0 } @parts) == 2, "both workers hold generated rows ($per_node)");
my $log = slurp_file($coord->logfile);
unlike($log, qr/using outdated tuple descriptor/, 'no row crossed nodes as tuple bytes');

# dest is distributed by the id, an integer key of the model: every shard
# was written straight by its node, with keys that hash into it.  Keys are
# unique and after the source's; each row is where Citus looks for its key
# (a router query per key finds it), for every shard
is($coord->safe_psql('postgres', q{
WITH m AS (SELECT max(id) AS mx FROM src),
     d AS (SELECT count(*) AS n, count(DISTINCT id) AS nd, min(id) AS mn FROM dest)
SELECT n = nd AND mn > mx FROM d, m}),
	't', 'shard keys: unique and fresh');
is($coord->safe_psql('postgres', q{
CREATE FUNCTION found_by_router(n int) RETURNS int LANGUAGE plpgsql AS $f$
DECLARE k bigint; found int := 0; c int;
BEGIN
  FOR k IN SELECT id FROM dest ORDER BY id LIMIT n LOOP
    EXECUTE 'SELECT count(*) FROM dest WHERE id = $1' INTO c USING k;
    found := found + c;
  END LOOP;
  RETURN found;
END $f$;
SELECT found_by_router(300);}),
	'300', 'every row is in the shard of its key (300 router queries find their row)');
is($coord->safe_psql('postgres', q{
SELECT count(DISTINCT get_shard_id_for_distribution_column('dest', id)) FROM dest}),
	'8', 'the keys fill every one of the 8 shards');
is($coord->safe_psql('postgres', q{
SELECT sum(result::bigint) FROM run_command_on_shards('dest',
  $$SELECT count(*) FROM %1$s WHERE worker_hash(id) NOT BETWEEN
      (SELECT shardminvalue::int FROM pg_dist_shard WHERE shardid = (regexp_match('%1$s', '_(\d+)$'))[1]::bigint)
  AND (SELECT shardmaxvalue::int FROM pg_dist_shard WHERE shardid = (regexp_match('%1$s', '_(\d+)$'))[1]::bigint)$$)}),
	'0', "no row's hash (Citus's worker_hash) is outside its shard's range");

# a destination distributed by a column that is not a key of the model:
# every node generates its part and Citus routes the rows to their shards
$coord->safe_psql('postgres', q{
CREATE TABLE dest_by_charge (LIKE src);
SELECT create_distributed_table('dest_by_charge', 'c_charge_degree', colocate_with => 'none');});
is($coord->safe_psql('postgres', q{
SELECT fairsynth_balance_into('dest_by_charge', NULL::src, ARRAY['race', 'sex'], seed => 1);}),
	'3000', 'a destination distributed by a modelled column: rows routed by Citus');
is($coord->safe_psql('postgres', $counts->('dest_by_charge')), $plan,
	'with the planned counts');

# quality against the source: within 0.01 of the single-node result
$coord->safe_psql('postgres', q{
CREATE TABLE dest_local AS SELECT * FROM dest;
CREATE TABLE single AS SELECT * FROM fairsynth_balance(NULL::src_local, ARRAY['race', 'sex'], seed => 1);
});
my $accuracy = sub {
	my ($synthetic) = @_;
	return $coord->safe_psql('postgres', qq{
SELECT value FROM fairsynth_quality('src_local', '$synthetic')
 WHERE metric = 'accuracy_overall' AND column_name IS NULL});
};
my $acc_citus = $accuracy->('dest_local');
my $acc_single = $accuracy->('single');
cmp_ok(abs($acc_citus - $acc_single), '<=', 0.01,
	"accuracy on Citus $acc_citus, on one node $acc_single");
cmp_ok($acc_citus, '>=', 0.8, 'and not far from the source (balancing moves the race and sex shares)');

# a local source into a distributed destination: fitted on the coordinator
is($coord->safe_psql('postgres',
		q{SELECT fairsynth_balance_into('dest_from_local', NULL::src_local, ARRAY['race', 'sex'], seed => 2)}),
	'3000', 'a local source into a distributed destination');
is($coord->safe_psql('postgres', $counts->('dest_from_local')), $plan,
	'with the planned counts too');

# an enum balance column: the workers' enum OIDs are not the coordinator's
# (states carry labels, not OIDs)
$workers[1]->safe_psql('postgres', q{CREATE TEMP TABLE shift_oids (a int, b text, c int[])});
$coord->safe_psql('postgres', q{
CREATE TYPE tier AS ENUM ('low', 'mid', 'high');
CREATE TABLE people (id bigserial, tier tier, grp text, v int);
SELECT create_distributed_table('people', 'id');
INSERT INTO people (tier, grp, v)
  SELECT (ARRAY['low', 'mid', 'high'])[1 + (i * i) % 3 % (1 + i % 2) + i % 5 / 4]::tier,
         (ARRAY['a', 'b'])[1 + i % 2], (i * 37) % 100
    FROM generate_series(1, 1200) i;
CREATE TABLE people_out (LIKE people);
SELECT create_distributed_table('people_out', 'id', colocate_with => 'people');
});
isnt($workers[1]->safe_psql('postgres', q{SELECT string_agg(oid::text, ',' ORDER BY enumsortorder) FROM pg_enum WHERE enumtypid = 'tier'::regtype}),
	$coord->safe_psql('postgres', q{SELECT string_agg(oid::text, ',' ORDER BY enumsortorder) FROM pg_enum WHERE enumtypid = 'tier'::regtype}),
	'a worker has other OIDs for the enum labels');
$coord->safe_psql('postgres',
	q{SELECT fairsynth_balance_into('people_out', NULL::people, ARRAY['tier', 'grp'], seed => 5)});
is($coord->safe_psql('postgres',
		q{SELECT string_agg(tier || '/' || grp || '=' || n, ', ' ORDER BY tier, grp) FROM (SELECT tier, grp, count(*) AS n FROM people_out GROUP BY 1, 2) c}),
	'low/a=200, low/b=200, mid/a=200, mid/b=200, high/a=200, high/b=200',
	'an enum balance column: exact counts over the destination');

# a worker whose shards of the source hold no row (every row has one
# distribution value, so one shard of two has them all)
$coord->safe_psql('postgres', q{
CREATE TABLE lopsided (id int, g text, v int);
SELECT create_distributed_table('lopsided', 'id', shard_count => 2);
INSERT INTO lopsided SELECT 7, (ARRAY['a', 'b', 'c'])[1 + i % 3], i FROM generate_series(1, 60) i;
CREATE TABLE lopsided_out (LIKE lopsided);
SELECT create_distributed_table('lopsided_out', 'id', colocate_with => 'lopsided');
});
is($coord->safe_psql('postgres', q{
SELECT count(*) FILTER (WHERE result::int = 0) || '/' || count(*)
  FROM run_command_on_placements('lopsided', 'SELECT count(*) FROM %s')}),
	'1/2', 'one of the two shards is empty');
is($coord->safe_psql('postgres',
		q{SELECT fairsynth_balance_into('lopsided_out', NULL::lopsided, ARRAY['g'], num_rows => 90, seed => 1)}),
	'90', 'a worker without rows of the source: balance_into still fits and fills');
is($coord->safe_psql('postgres',
		q{SELECT string_agg(g || '=' || n, ', ' ORDER BY g) FROM (SELECT g, count(*) AS n FROM lopsided_out GROUP BY g) c}),
	'a=30, b=30, c=30', 'with exact counts');

# a fitted model is a value: stored in a table, dumped, restored elsewhere
$coord->safe_psql('postgres', q{
CREATE TABLE models (name text PRIMARY KEY, model bytea);
INSERT INTO models VALUES
  ('distributed', fairsynth_fit(NULL::src, ARRAY['race', 'sex'])),
  ('local', fairsynth_fit(NULL::src_local, ARRAY['race', 'sex']));
});
my $md5 = sub {
	my ($from) = @_;
	return qq{SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) FROM $from t};
};
my $sample = $md5->(q{fairsynth_sample((SELECT model FROM models WHERE name = 'local'), NULL::src_local, seed => 3)});
my $before = $coord->safe_psql('postgres', $sample);
is($before,
	$coord->safe_psql('postgres', $md5->(q{fairsynth_balance(NULL::src_local, ARRAY['race', 'sex'], seed => 3)})),
	'fairsynth_sample(stored fairsynth_fit) returns the rows of fairsynth_balance with the same seed');
my $sample_dist = $md5->(
	q{fairsynth_sample((SELECT model FROM models WHERE name = 'distributed'), NULL::src_local, seed => 4)});
my $before_dist = $coord->safe_psql('postgres', $sample_dist);

my $dump = $coord->basedir . '/models.sql';
command_ok([ 'pg_dump', '-d', $coord->connstr('postgres'), '-t', 'models', '-t', 'src_local', '-f', $dump ],
	'pg_dump of the models table');
$coord->safe_psql('postgres', 'CREATE DATABASE restored');
$coord->safe_psql('restored', 'CREATE EXTENSION fairsynth');
command_ok([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $coord->connstr('restored'), '-f', $dump ],
	'restored into another database');
is($coord->safe_psql('restored', $sample), $before, 'the restored model samples identical rows (md5)');
is($coord->safe_psql('restored', $sample_dist), $before_dist,
	'and so does the model fitted on the distributed table');

# a corrupted model is an error, never rows or a crash
my ($ret, $out, $err) = $coord->psql('postgres', q{
SELECT count(*) FROM fairsynth_sample(
  (SELECT overlay(model PLACING '\xff'::bytea FROM length(model) / 2 FOR 1) FROM models WHERE name = 'local'),
  NULL::src_local)});
isnt($ret, 0, 'a model altered in one byte fails');
like($err, qr/fails its checksum/, "with the checksum's error: $err");
($ret, $out, $err) = $coord->psql('postgres', q{
SELECT count(*) FROM fairsynth_sample(
  (SELECT substr(model, 1, length(model) - 10) FROM models WHERE name = 'local'), NULL::src_local)});
isnt($ret, 0, 'a truncated model fails');
like($err, qr/ERROR:.*fairsynth model value/, "with a clear error: $err");
ok($coord->safe_psql('postgres', 'SELECT 1') eq '1', 'the coordinator is still up');

$_->stop for reverse @nodes;
done_testing();
