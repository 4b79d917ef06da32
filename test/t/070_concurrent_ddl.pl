# Reads wait for a concurrent table rewrite and see its rows (issue #13,
# defect 3): while another session holds an uncommitted ALTER TABLE ... TYPE,
# profile, bias, balance, synthesize (also inside a function) and impute wait
# for it, as a SELECT does, and then read every row; they used to return empty
# results or fail with "has no rows to learn from" from an older snapshot.

use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('concurrent_ddl');
$node->init;
$node->start;

$node->safe_psql('postgres', q{
CREATE EXTENSION fairsynth;
CREATE TABLE mv_t (g text, o text, v int);
INSERT INTO mv_t SELECT 'g' || (i % 4), CASE WHEN i % 3 = 0 THEN 'yes' ELSE 'no' END,
                        CASE WHEN i % 10 = 0 THEN NULL ELSE i % 50 END
FROM generate_series(1, 5000) i;
CREATE FUNCTION synth_count() RETURNS bigint LANGUAGE plpgsql STABLE AS
$$ BEGIN RETURN (SELECT count(*) FROM fairsynth_synthesize(NULL::mv_t, seed => 1)); END $$;
});

my $ddl = $node->background_psql('postgres');
my $reader = $node->background_psql('postgres');

# Run $query in the reader while $ddl holds $alter uncommitted; the reader
# must wait for the lock, then return $want.
sub check_waits
{
	my ($name, $alter, $query, $want) = @_;

	$ddl->query_safe('BEGIN');
	$ddl->query_safe($alter);
	$reader->query_until(qr/started/,
		"\\echo started\nSELECT 'result:' || ($query);\n\\echo done\n");
	ok( $node->poll_query_until('postgres', q{
		SELECT count(*) > 0 FROM pg_locks
		WHERE relation = 'mv_t'::regclass AND NOT granted}),
		"$name waits for the rewrite");
	$ddl->query_safe('COMMIT');
	my $out = $reader->query_until(qr/done/, '');
	my ($got) = $out =~ /result:([^\n]*)/;
	is($got, $want, "$name reads the rewritten table's rows");
}

check_waits('profile', 'ALTER TABLE mv_t ALTER COLUMN v TYPE bigint',
	q{SELECT sum(count) FROM fairsynth_profile('mv_t', ARRAY['g']) WHERE value <> '(imbalance)'},
	'5000');
check_waits('bias', 'ALTER TABLE mv_t ALTER COLUMN v TYPE int',
	q{SELECT sum(n) FROM fairsynth_bias('mv_t', 'g', 'o')}, '5000');
check_waits('balance', 'ALTER TABLE mv_t ALTER COLUMN v TYPE int USING v + 0',
	q{SELECT count(*) FROM fairsynth_balance(NULL::mv_t, ARRAY['g'], seed => 1)}, '5000');
check_waits('balance, text form', 'ALTER TABLE mv_t ALTER COLUMN v TYPE bigint',
	q{SELECT count(*) FROM fairsynth_balance('mv_t', ARRAY['g'], seed => 1)
	    AS t(g text, o text, v bigint)}, '5000');
check_waits('synthesize in a function', 'ALTER TABLE mv_t ALTER COLUMN v TYPE bigint USING v + 0',
	q{SELECT synth_count()}, '5000');
check_waits('impute', 'ALTER TABLE mv_t ALTER COLUMN v TYPE bigint USING v + 0',
	q{SELECT count(*) FILTER (WHERE v IS NOT NULL) FROM fairsynth_impute(NULL::mv_t, seed => 1)},
	'5000');

# the typed form's row type is read before the lock: a type change gives the
# rows of the new type, or a clean error naming the column, never values of
# the old type
my $typed = $node->background_psql('postgres', on_error_stop => 0);
$ddl->query_safe('BEGIN');
$ddl->query_safe('ALTER TABLE mv_t ALTER COLUMN v TYPE int');
$typed->query_until(qr/started/,
	"\\echo started\nSELECT count(*) FROM fairsynth_balance(NULL::mv_t, ARRAY['g'], seed => 1);\n");
$node->poll_query_until('postgres',
	q{SELECT count(*) > 0 FROM pg_locks WHERE relation = 'mv_t'::regclass AND NOT granted});
$ddl->query_safe('COMMIT');
my $typed_out = $typed->query_until(qr/finished/, "\\echo finished\n");
my $typed_err = $typed->{stderr} // '';
ok( ($typed_out =~ /^5000$/m && $typed_err eq '')
	  || $typed_err =~ /column "v" of relation public\.mv_t changed type to integer during the call/,
	'typed form: a type change during the call gives every row or a clean error')
  or diag("stdout: $typed_out\nstderr: $typed_err");
$typed->quit;
is($node->safe_psql('postgres', 'SELECT count(*) FROM mv_t'), '5000', 'server up');

$ddl->quit;
$reader->quit;
done_testing();
