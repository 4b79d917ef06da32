
# A fitted model is a value (issue 12): fairsynth_fit's bytea survives a
# table, pg_dump and a restore into another database (whose enum labels
# have other OIDs), and samples there the rows fairsynth_balance returns in
# the first; a model altered inside its block and sealed again with a valid
# CRC-32C (what the checksum cannot catch) is a clean error or valid rows,
# never a crash; so is one whose free-text leaf tree is altered.

use strict;
use warnings;
use FindBin;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('model_value');
$node->init;
$node->start;

$node->safe_psql('postgres', q{
CREATE EXTENSION fairsynth;
CREATE TYPE filler AS ENUM ('x1', 'x2', 'x3');   -- the restore makes other OIDs
CREATE TYPE tier AS ENUM ('low', 'mid', 'high');
CREATE TABLE people (
  id int PRIMARY KEY, grp text, sex text, age int, tier tier, amount numeric(6,1), note text);
INSERT INTO people
  SELECT i, (ARRAY['a','b','c'])[1 + i % 3], CASE WHEN i % 7 = 0 THEN 'f' ELSE 'm' END,
         20 + (i * 37) % 50, (ARRAY['low','mid','high'])[1 + (i * 5) % 3]::tier,
         (i * 7) % 1000 / 10.0, CASE WHEN i % 9 = 0 THEN NULL ELSE 'n' || (i % 4) END
  FROM generate_series(1, 600) i;
CREATE TABLE models (name text PRIMARY KEY, model bytea);
INSERT INTO models VALUES
  ('grp_tier', fairsynth_fit(NULL::people, ARRAY['grp', 'tier'])),
  ('parity', fairsynth_fit(NULL::people, ARRAY['grp'], outcome => 'sex'));
});

my $rows = sub {
	my ($from) = @_;
	return qq{SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) FROM $from t};
};
my $balance = $node->safe_psql('postgres',
	$rows->(q{fairsynth_balance(NULL::people, ARRAY['grp', 'tier'], seed => 11)}));
my $sample_from_table = $rows->(
	q{fairsynth_sample((SELECT model FROM models WHERE name = 'grp_tier'), NULL::people, seed => 11)});
is($node->safe_psql('postgres', $sample_from_table), $balance,
	'a stored model samples, in another session, the rows fairsynth_balance returns');

# pg_dump and restore into another database
my $dump = $node->basedir . '/models.sql';
command_ok([ 'pg_dump', '-d', $node->connstr('postgres'), '-f', $dump ], 'pg_dump');
$node->safe_psql('postgres', 'CREATE DATABASE restored');
$node->safe_psql('restored', 'CREATE TYPE unrelated AS ENUM (\'u1\', \'u2\', \'u3\', \'u4\')');
command_ok([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('restored'), '-f', $dump ],
	'restore into another database');
isnt($node->safe_psql('restored', q{SELECT string_agg(oid::text, ',' ORDER BY oid) FROM pg_enum WHERE enumtypid = 'tier'::regtype}),
	$node->safe_psql('postgres', q{SELECT string_agg(oid::text, ',' ORDER BY oid) FROM pg_enum WHERE enumtypid = 'tier'::regtype}),
	'the restored enum has other OIDs');
is($node->safe_psql('restored', $sample_from_table), $balance,
	'the restored model samples the same rows in the other database');
is($node->safe_psql('restored',
		$rows->(q{fairsynth_sample((SELECT model FROM models WHERE name = 'parity'), NULL::people, seed => 5)})),
	$node->safe_psql('postgres',
		$rows->(q{fairsynth_balance(NULL::people, ARRAY['grp'], outcome => 'sex', seed => 5)})),
	'and so does a model with an outcome');

# a label the model names that the type no longer has
$node->safe_psql('restored', q{ALTER TYPE tier RENAME VALUE 'mid' TO 'middle'});
my ($ret, $out, $err) = $node->psql('restored',
	q{SELECT count(*) FROM fairsynth_sample((SELECT model FROM models WHERE name = 'grp_tier'), NULL::people)});
like($err, qr/names value "mid" of column "tier", which enum type tier does not have/,
	'an enum label that is gone is a clear error');

# altered inside the block, sealed again: the validation, not the checksum
my @crc_table;
for my $i (0 .. 255)
{
	my $c = $i;
	$c = ($c & 1) ? (($c >> 1) ^ 0x82F63B78) : ($c >> 1) for 1 .. 8;
	$crc_table[$i] = $c;
}
sub crc32c
{
	my $c = 0xFFFFFFFF;
	$c = $crc_table[($c ^ $_) & 0xFF] ^ ($c >> 8) for unpack('C*', $_[0]);
	return $c ^ 0xFFFFFFFF;
}

my $hex = $node->safe_psql('postgres', q{SELECT encode(model, 'hex') FROM models WHERE name = 'grp_tier'});
my $value = pack('H*', $hex);
my $block = index($value, pack('V', 0x46534D38), 32);    # the model block's magic, "FSM8"
ok($block > 32, 'the model block is found in the value');
srand(12);
my %outcome;
for my $try (1 .. 60)
{
	my $bad = $value;
	# a few bytes of the block, most in its first part (header, columns, trees)
	for (1 .. 1 + int(rand(3)))
	{
		my $span = length($value) - $block;
		my $pos = $block + int($try % 2 ? rand(($span < 4096 ? $span : 4096)) : rand($span));
		substr($bad, $pos, 1) = chr(int(rand(256)));
	}
	substr($bad, 12, 4) = pack('V', crc32c(substr($bad, 32)));
	my ($r, $o, $e) = $node->psql('postgres',
		"SELECT count(*) FROM fairsynth_sample('\\x" . unpack('H*', $bad) . "'::bytea, NULL::people, num_rows => 200, seed => 1)");
	my $kind = $r == 0 ? 'rows' : $e =~ /model value is corrupt|does not match/ ? 'corrupt' : "other: $e";
	$outcome{$kind}++;
}
note(join(', ', map { "$_: $outcome{$_}" } sort keys %outcome));
is(scalar(grep { /^other/ } keys %outcome), 0, 'every altered block gives valid rows or a corruption error');
ok($outcome{corrupt} > 0, 'and the validation catches altered blocks');
is($node->safe_psql('postgres', 'SELECT 1'), '1', 'the server is still up');

# A free-text column whose text follows a leaf tree (test/data/reviews.sql):
# its text model's header, the tree's nodes and group starts and the map of
# its leaves altered and sealed again.  Offsets inside the block are those
# of an LP64 build: FsModel.cols at 32; FsModelColumn 80 bytes, classes at
# 24; FsTextModel 124 bytes, ngroups at 36, tree at 44 (nnodes, depth,
# starts, nodes), nleaves at 72, leaf_of at 76; FsNode 48 bytes, FsStart 8.
$node->safe_psql('postgres',
	slurp_file("$FindBin::RealBin/../data/reviews.sql")
	  . q{INSERT INTO models VALUES ('reviews', fairsynth_fit(NULL::reviews));});
my $rrows = $rows->(q{fairsynth_sample((SELECT model FROM models WHERE name = 'reviews'), NULL::reviews, seed => 3)});
is($node->safe_psql('postgres', $rrows),
	$node->safe_psql('postgres', $rows->(q{fairsynth_synthesize(NULL::reviews, seed => 3)})),
	'a model with a leaf tree samples the rows fairsynth_synthesize returns');
$value = pack('H*', $node->safe_psql('postgres', q{SELECT encode(model, 'hex') FROM models WHERE name = 'reviews'}));
$block = index($value, pack('V', 0x46534D38), 32);
my $u32 = sub { return unpack('V', substr($value, $block + $_[0], 4)); };
my $tm = $u32->($u32->(32) + 80 * 4 + 24);    # column 5, review
my ($ngroups, $nnodes, $starts, $nodes, $nleaves, $leaf_of) =
  map { $u32->($tm + $_) } (36, 44, 52, 56, 72, 76);
ok($nnodes > 1 && $nleaves > 0 && $nodes + 48 * $nnodes <= length($value) - $block,
	"the review model has a leaf tree ($nnodes nodes, $nleaves leaves; else the offsets above are out of date)");
my @parts = ([ $tm, 124 ], [ $nodes, 48 * $nnodes ], [ $starts, 8 * ($ngroups > 0 ? $ngroups : 1) ],
	[ $leaf_of, 4 * $nnodes ]);
%outcome = ();
for my $try (1 .. 80)
{
	my $bad = $value;
	my ($at, $len) = @{ $parts[ $try % 4 ] };
	substr($bad, $block + $at + int(rand($len)), 1) = chr(int(rand(256))) for 1 .. 1 + int(rand(3));
	substr($bad, 12, 4) = pack('V', crc32c(substr($bad, 32)));
	my ($r, $o, $e) = $node->psql('postgres',
		"SELECT count(*) FROM fairsynth_sample('\\x" . unpack('H*', $bad) . "'::bytea, NULL::reviews, num_rows => 300, seed => 1)");
	my $kind = $r == 0 ? 'rows' : $e =~ /model value is corrupt|does not match/ ? 'corrupt' : "other: $e";
	$outcome{$kind}++;
}
note('leaf tree: ' . join(', ', map { "$_: $outcome{$_}" } sort keys %outcome));
is(scalar(grep { /^other/ } keys %outcome), 0, 'every altered text model gives valid rows or a corruption error');
ok($outcome{corrupt} > 0, 'and the validation catches altered leaf trees');
is($node->safe_psql('postgres', 'SELECT 1'), '1', 'the server is still up');

done_testing();
