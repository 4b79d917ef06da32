
# The dbt example (examples/dbt/) without dbt: every model is rendered by hand
# as dbt-postgres would render it ({{ source('raw', 'compas') }} and
# {{ ref('m') }} become "db"."public"."compas" and "db"."public"."m", the config
# line goes) and created with its materialization (table, materialized view,
# view), in dependency order, in a database holding compas; then the outputs
# are checked: exact counts, parity, and a REFRESH that gives the same rows.

use strict;
use warnings;
use FindBin;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $root = "$FindBin::RealBin/../..";
my $dir = "$root/examples/dbt";
ok(-f "$dir/dbt_project.yml", 'dbt_project.yml exists');
like(PostgreSQL::Test::Utils::slurp_file("$dir/dbt_project.yml"), qr/^model-paths: \["models"\]/m,
	'the project names its model path');

my $node = PostgreSQL::Test::Cluster->new('dbt');
$node->init;
$node->append_conf('postgresql.conf', 'fairsynth.progress_interval = 0');
$node->start;
my $db = 'analytics';
$node->safe_psql('postgres', "CREATE DATABASE $db");
$node->safe_psql($db, 'CREATE EXTENSION fairsynth');
$node->safe_psql($db, q{CREATE TABLE compas (
  sex text, age int, age_cat text, race text,
  juv_fel_count int, juv_misd_count int, juv_other_count int, priors_count int,
  days_b_screening_arrest int, c_charge_degree text, c_charge_desc text,
  decile_score int, score_text text, v_decile_score int, v_score_text text,
  is_recid int, is_violent_recid int, two_year_recid int)});
$node->safe_psql($db, "COPY compas FROM '$root/test/data/compas.csv' WITH (FORMAT csv, HEADER true)");

sub render
{
	my ($name) = @_;
	my $sql = PostgreSQL::Test::Utils::slurp_file("$dir/models/$name.sql");
	my ($mat) = $sql =~ /\{\{\s*config\(\s*materialized\s*=\s*'(\w+)'\s*\)\s*\}\}/;
	$sql =~ s/\{\{\s*config\(.*?\)\s*\}\}//s;
	$sql =~ s/\{\{\s*source\(\s*'raw'\s*,\s*'(\w+)'\s*\)\s*\}\}/"$db"."public"."$1"/g;
	$sql =~ s/\{\{\s*ref\(\s*'(\w+)'\s*\)\s*\}\}/"$db"."public"."$1"/g;
	unlike($sql, qr/\{\{|\{%/, "$name: nothing of Jinja left");
	$sql =~ s/;\s*$//;
	my %create = (table => 'TABLE', view => 'VIEW', materialized_view => 'MATERIALIZED VIEW');
	ok(defined $mat && $create{$mat}, "$name: materialized as " . ($mat // '?'));
	return "CREATE $create{$mat} \"$db\".\"public\".\"$name\" AS (\n$sql\n)";
}

for my $model (qw(compas_balanced compas_fair_mv compas_balance_check))
{
	my $ddl = render($model);
	my ($ret, $out, $err) = $node->psql($db, $ddl);
	is($ret, 0, "$model: builds") or diag("$ddl\n$err");
	unlike($err, qr/ERROR/, "$model: no error");
}

is($node->safe_psql($db, 'SELECT count(*), min(n), max(n) FROM compas_balance_check'),
	'12|601|602', 'compas_balanced: 12 race x sex combinations of 601 or 602 rows');
is($node->safe_psql($db, q{SELECT relkind FROM pg_class WHERE relname = 'compas_fair_mv'}), 'm',
	'compas_fair_mv is a materialized view');
is($node->safe_psql($db, q{SELECT count(*), count(DISTINCT n) FROM (SELECT race, count(*) AS n FROM compas_fair_mv GROUP BY race) s}),
	'6|2', 'compas_fair_mv: 6 races, equal counts (floor or ceil)');
cmp_ok($node->safe_psql($db, q{SELECT max(abs(dpl)) FROM fairsynth_bias('compas_fair_mv', 'race', 'two_year_recid')}),
	'<=', 0.01, 'compas_fair_mv: outcome parity (|DPL| <= 0.01)');
my $before = $node->safe_psql($db, 'SELECT md5(string_agg(t::text, E\'\n\' ORDER BY t::text)) FROM compas_fair_mv t');
$node->safe_psql($db, 'REFRESH MATERIALIZED VIEW compas_fair_mv');
is($node->safe_psql($db, 'SELECT md5(string_agg(t::text, E\'\n\' ORDER BY t::text)) FROM compas_fair_mv t'),
	$before, 'REFRESH MATERIALIZED VIEW gives the same rows (seeded)');

done_testing();
