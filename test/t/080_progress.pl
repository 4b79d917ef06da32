
# Progress of a long call, seen from another session (issue 11): with
# fairsynth preloaded, fairsynth_progress shows a 2,000,000-row balance's
# phases (read, fit, generate) and its rows done of rows planned while it
# runs; a cancel stops it within a second and clears its row.  Without
# preloading, a long call sends progress NOTICEs at most once per
# fairsynth.progress_interval.

use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('progress');
$node->init;
$node->append_conf('postgresql.conf', qq{shared_preload_libraries = 'fairsynth'});
$node->start;

$node->safe_psql('postgres', q{
CREATE EXTENSION fairsynth;
CREATE TABLE progress_t AS
  SELECT (ARRAY['a','b','c','d'])[1 + i % 4] AS g, CASE WHEN i % 7 = 0 THEN 'f' ELSE 'm' END AS sex,
         20 + (i * 37) % 50 AS age, (i * 13) % 11 AS score, (i * 7) % 1000 / 10.0 AS amount,
         md5((i % 300)::text) AS tag
  FROM generate_series(1, 300000) i;
-- watch backend p: the phases seen in order, until rows_done advances twice in
-- the generate phase
CREATE FUNCTION watch(p int) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  t0 timestamptz := clock_timestamp();
  seen text := '';
  r record;
  first_done bigint;
BEGIN
  LOOP
    SELECT * INTO r FROM fairsynth_progress WHERE pid = p;
    IF r.phase IS NOT NULL AND (seen = '' OR seen NOT LIKE '% ' || r.phase) THEN
      seen := seen || ' ' || r.phase;
    END IF;
    IF r.phase = 'generate' AND r.rows_done > 0 THEN
      IF first_done IS NULL THEN
        first_done := r.rows_done;
      ELSIF r.rows_done > first_done THEN
        RETURN seen || format(' | %s < %s of %s | %s', first_done, r.rows_done, r.rows_total,
                              r.relation);
      END IF;
    END IF;
    IF clock_timestamp() - t0 > interval '120 s' THEN
      RETURN seen || ' | timeout';
    END IF;
    PERFORM pg_sleep(0.002);
  END LOOP;
END $$;
-- cancel backend p; seconds until it is idle and its progress row is gone
CREATE FUNCTION cancel_and_wait(p int) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE
  t0 timestamptz := clock_timestamp();
BEGIN
  PERFORM pg_cancel_backend(p);
  LOOP
    PERFORM pg_stat_clear_snapshot();
    EXIT WHEN NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = p AND state = 'active')
          AND NOT EXISTS (SELECT 1 FROM fairsynth_progress WHERE pid = p);
    EXIT WHEN clock_timestamp() - t0 > interval '60 s';
    PERFORM pg_sleep(0.002);
  END LOOP;
  RETURN extract(epoch FROM clock_timestamp() - t0);
END $$;
});

my $worker = $node->background_psql('postgres', on_error_stop => 0);
my $monitor = $node->background_psql('postgres');
my $pid = $worker->query_safe('SELECT pg_backend_pid()');
$pid =~ s/\s+//g;

$worker->query_until(qr/started/,
	"\\echo started\nSELECT count(*) FROM fairsynth_balance(NULL::progress_t, ARRAY['g'], num_rows => 2000000, seed => 1);\n");
my $seen = $monitor->query_safe("SELECT watch($pid)");
like($seen, qr/^ (starting )?read( fit)? generate \|/,
	"another session sees the phases in order: $seen");
like($seen, qr/\| (\d+) < (\d+) of 2000000 \| progress_t$/,
	'and rows done advancing of the rows planned, for the relation');

my $elapsed = $monitor->query_safe("SELECT cancel_and_wait($pid)");
cmp_ok($elapsed, '<', 1.0, "a cancel stops the call within a second ($elapsed s)");
$worker->query_until(qr/finished/, "\\echo finished\n");
like($worker->{stderr}, qr/canceling statement due to user request/, 'the call was cancelled');
$worker->{stderr} = '';
is($monitor->query_safe('SELECT count(*) FROM fairsynth_progress'), '0',
	'no progress row is left behind');

# a finished call leaves no row either, and the session works on
is($worker->query_safe(
	"SELECT count(*) FROM fairsynth_balance(NULL::progress_t, ARRAY['g'], num_rows => 1000, seed => 1)"),
	'1000', 'the cancelled session balances again');
is($monitor->query_safe('SELECT count(*) FROM fairsynth_progress'), '0', 'and leaves no row');

# a role sees only its own calls
$node->safe_psql('postgres', 'CREATE ROLE progress_reader LOGIN; GRANT SELECT ON progress_t TO progress_reader');
my $other = $node->background_psql('postgres', on_error_stop => 0,
	extra_params => [ '-U', 'progress_reader' ]);
my $opid = $other->query_safe('SELECT pg_backend_pid()');
$opid =~ s/\s+//g;
$other->query_until(qr/started/,
	"\\echo started\nSELECT count(*) FROM fairsynth_balance(NULL::progress_t, ARRAY['g'], num_rows => 2000000, seed => 1);\n");
like($monitor->query_safe("SELECT watch($opid)"), qr/generate/, 'the superuser sees every role\'s calls');
my $ro = $node->background_psql('postgres', extra_params => [ '-U', 'progress_reader' ]);
is($ro->query_safe("SELECT count(*) FROM fairsynth_progress WHERE pid = $opid"), '1',
	'a role sees its own call');
$ro->quit;
$node->safe_psql('postgres', q{CREATE ROLE progress_other LOGIN});
is($node->safe_psql('postgres', "SELECT count(*) FROM fairsynth_progress WHERE pid = $opid",
	extra_params => [ '-U', 'progress_other' ]), '0', 'another role does not');
cmp_ok($monitor->query_safe("SELECT cancel_and_wait($opid)"), '<', 1.0, 'cancelled within a second too');
$other->query_until(qr/finished/, "\\echo finished\n");
$other->quit;

$worker->quit;
$monitor->quit;

# without preloading: NOTICE lines, at most one per interval
$node->append_conf('postgresql.conf', qq{shared_preload_libraries = ''});
$node->restart;
my ($ret, $out, $err) = $node->psql('postgres', q{
SET fairsynth.progress_interval = '1s';
SELECT count(*) FROM fairsynth_balance(NULL::progress_t, ARRAY['g'], num_rows => 2000000, seed => 1);
SELECT count(*) FROM fairsynth_progress;
});
is($out, "2000000\n0", 'without preloading the call runs and the view is empty');
my @lines = $err =~ /NOTICE:  fairsynth: (\w+ \d+ of 2000000 rows \(\d+%\) of progress_t after \d+ s)/g;
cmp_ok(scalar(@lines), '>=', 1, 'progress NOTICE lines: ' . join('; ', @lines));
($ret, $out, $err) = $node->psql('postgres', q{
SET fairsynth.progress_interval = '1s';
SELECT count(*) FROM fairsynth_balance(NULL::progress_t, ARRAY['g'], num_rows => 20000, seed => 1);
});
unlike($err, qr/fairsynth: generate/, 'a short call sends none');

$node->stop;
done_testing();
