
# The shared model store (fairsynth in shared_preload_libraries): a model fitted
# in one session is reused by another, with identical output; it never serves
# another role or changed data; it evicts the least recently used model when
# full; fairsynth_models() shows a role its own models only; and without
# preloading the store functions fail with a clear error.

use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('store_shared');
$node->init;
# room for two models of the tables below (45 to 65 kB each), not three
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'fairsynth'
fairsynth.model_store_size = 128kB
});
$node->start;

$node->safe_psql('postgres', q{
CREATE EXTENSION fairsynth;
CREATE TABLE people AS
  SELECT CASE WHEN i % 7 = 0 THEN 'f' ELSE 'm' END AS sex,
         (ARRAY['a','b','c'])[1 + i % 3] AS grp,
         20 + (i * 37) % 50 AS age,
         (i * 13) % 11 AS score,
         CASE WHEN (i * 17) % 10 < 3 THEN 1 ELSE 0 END AS outcome
  FROM generate_series(1, 3000) i;
CREATE TABLE other AS SELECT * FROM people WHERE score < 8;
CREATE TABLE third AS SELECT * FROM people WHERE score > 2;
CREATE ROLE store_reader LOGIN;
GRANT SELECT ON people TO store_reader;
});

my $call = q{SELECT md5(string_agg(t::text, ',' ORDER BY t::text))
             FROM fairsynth_balance(NULL::people, ARRAY['sex'], seed => 3) t};
my $models = q{SELECT relation::text || ':' || role::text || ':' || hits
               FROM fairsynth_models() ORDER BY stored_at};

# each safe_psql is a session of its own: only the shared store links them
my $first = $node->safe_psql('postgres', $call);
is($node->safe_psql('postgres', $models), 'people:postgres:0', 'the first call stores its model');
my $second = $node->safe_psql('postgres', $call);
is($second, $first, 'another session gets identical rows');
is($node->safe_psql('postgres', $models), 'people:postgres:1', 'from the stored model (one hit)');

my ($ret, $out, $err) = $node->psql('postgres', "SET client_min_messages = debug1; $call");
like($err, qr/read 3000 rows without a sample in .* reused the model of 3000 rows/,
	'the reuse shows in the DEBUG1 timing line: a kept model lets the read skip the sample');

# another role reading the same rows fits its own model, and sees only its own
is($node->safe_psql('postgres', $call, extra_params => [ '-U', 'store_reader' ]),
	$first, 'another role gets the same rows for the same data and seed');
is($node->safe_psql('postgres', $models, extra_params => [ '-U', 'store_reader' ]),
	'people:store_reader:0', 'a role sees only its own models, fitted for itself');
is($node->safe_psql('postgres', 'SELECT count(*) FROM fairsynth_models()'), '2',
	'the superuser sees both');

# changed data: a new fingerprint, so no reuse
$node->safe_psql('postgres', q{UPDATE people SET age = age + 1 WHERE age = 20});
my $changed;
($ret, $changed, $err) = $node->psql('postgres', "SET client_min_messages = debug1; $call");
like($err, qr/read 3000 rows twice \(no kept model matched them\) in .* fitted on 3000 rows/,
	'a read that finds the rows changed since the kept model reads them again, with the sample, and fits');
isnt($changed, $first, 'changed data gives other rows');
is($node->safe_psql('postgres',
	q{SELECT hits FROM fairsynth_models() WHERE role = 'postgres'::regrole ORDER BY stored_at DESC LIMIT 1}),
	'0', 'after an UPDATE the call fits and stores a new model instead of reusing the old one');

# full: storing more models evicts the least recently used ones
$node->safe_psql('postgres', q{SELECT count(*) FROM fairsynth_balance(NULL::other, ARRAY['sex'], seed => 1)});
$node->safe_psql('postgres', q{SELECT count(*) FROM fairsynth_balance(NULL::third, ARRAY['grp'], seed => 1)});
my $bytes = $node->safe_psql('postgres', 'SELECT sum(model_bytes) FROM fairsynth_models()');
cmp_ok($bytes, '<=', 128 * 1024, "stored models fit the store ($bytes bytes)");
like($node->safe_psql('postgres', q{SELECT string_agg(relation::text, ',' ORDER BY stored_at) FROM fairsynth_models()}),
	qr/third\z/, 'the newest model is kept');
unlike($node->safe_psql('postgres', q{SELECT string_agg(relation::text || ':' || role::text, ',') FROM fairsynth_models()}),
	qr/people:store_reader/, 'the least recently used model was evicted');
is($node->safe_psql('postgres', $call), $changed,
	'a model fitted again after eviction gives the same rows as before');

# reset: a role drops its own models only; a superuser drops all
$node->safe_psql('postgres', $call, extra_params => [ '-U', 'store_reader' ]);
is($node->safe_psql('postgres', 'SELECT fairsynth_models_reset()', extra_params => [ '-U', 'store_reader' ]),
	'1', 'a role resets its own model');
cmp_ok($node->safe_psql('postgres', 'SELECT count(*) FROM fairsynth_models()'), '>', 0,
	'other roles keep theirs');
$node->safe_psql('postgres', 'SELECT fairsynth_models_reset()');
is($node->safe_psql('postgres', 'SELECT count(*) FROM fairsynth_models()'), '0', 'a superuser resets all');
is($node->safe_psql('postgres', $call), $node->safe_psql('postgres', $call), 'refitting after a reset gives the same rows');

# the read without a sample: one backend bets that the rows did not change while
# a model is kept, reads twice when they did, then stops betting on the table
# until a read with the sample finds its model kept again
$node->safe_psql('postgres', 'CREATE TABLE bets AS SELECT * FROM people');
my $bet_call = q{SELECT count(*) FROM fairsynth_balance(NULL::bets, ARRAY['sex'], seed => 3)};
($ret, $out, $err) = $node->psql('postgres', qq{
SET client_min_messages = debug1;
$bet_call;
$bet_call;
UPDATE bets SET score = score + 1 WHERE score = 0;
$bet_call;
UPDATE bets SET score = score + 1 WHERE score = 1;
$bet_call;
$bet_call;
$bet_call;
});
my @reads = map { /fairsynth: read 3000 rows(.*?) in [0-9.]+ s, (fitted|reused)/ ? "read$1, $2" : () }
	split /\n/, $err;
is(join("\n", @reads), join("\n",
	'read, fitted',
	'read without a sample, reused',
	'read twice (no kept model matched them), fitted',
	'read, fitted',
	'read, reused',
	'read without a sample, reused'),
	'bets on unchanged rows: won, lost, not made after a loss, made again once the model is kept');

# without preloading: the generator works, the store functions say what to do
$node->append_conf('postgresql.conf', "shared_preload_libraries = ''");
$node->restart;
is($node->safe_psql('postgres', $call), $node->safe_psql('postgres', $call), 'without the store the same call still works');
($ret, $out, $err) = $node->psql('postgres', 'SELECT * FROM fairsynth_models()');
isnt($ret, 0, 'fairsynth_models() fails without preloading');
like($err, qr/fairsynth_models\(\) needs fairsynth to be loaded via shared_preload_libraries.*\n.*HINT:  Add fairsynth to shared_preload_libraries/,
	'with a hint to preload');

$node->stop;
done_testing();
