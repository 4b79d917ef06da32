
# fairsynth_model_bias() agrees with the reference definitions of the
# post-training metrics (test/reference/bias.py --predicted, pandas) within 1e-9,
# and is NULL exactly where the reference gives NaN, on:
#  - compas with decile_score >= 5 as the prediction (ProPublica's reading of the
#    score), by race and by sex, with and without group_by age_cat;
#  - bank with predictions derived from the call duration (a plausible one and a
#    rare one that leaves some groups without a single positive prediction);
#  - a small table with NULL facets, labels and predictions and a boolean label.
# Every table is exported in table order and the reference reads that file.
#
# Needs /usr/bin/python3 with pandas (Debian: python3-pandas); skipped otherwise.

use strict;
use warnings;
use FindBin;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $root    = "$FindBin::RealBin/../..";
my $python  = '/usr/bin/python3';
my $checker = "$root/test/reference/check_model_bias.py";

plan skip_all => "$python with pandas is not available"
  unless -x $python && system($python, '-c', 'import pandas') == 0;

my $node = PostgreSQL::Test::Cluster->new('model_bias_reference');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION fairsynth');
my $tdir = PostgreSQL::Test::Utils::tempdir;

# compas; the prediction is a generated column, so the load keeps file order
$node->safe_psql('postgres', "CREATE TABLE compas (
  sex text, age int, age_cat text, race text,
  juv_fel_count int, juv_misd_count int, juv_other_count int, priors_count int,
  days_b_screening_arrest int, c_charge_degree text, c_charge_desc text,
  decile_score int, score_text text, v_decile_score int, v_score_text text,
  is_recid int, is_violent_recid int, two_year_recid int,
  high_risk int GENERATED ALWAYS AS ((decile_score >= 5)::int) STORED)");
$node->safe_psql('postgres',
	"COPY compas FROM '$root/test/data/compas.csv' WITH (FORMAT csv, HEADER true)");
is($node->safe_psql('postgres', 'SELECT count(*) FROM compas'), '7214', 'compas loaded');

# bank (UCI Bank Marketing); predictions from the call duration
$node->safe_psql('postgres', "CREATE TABLE bank (
  age int, job text, marital text, education text, \"default\" text, balance int,
  housing text, loan text, contact text, day int, month text, duration int,
  campaign int, pdays int, previous int, poutcome text, subscription text,
  long_call text GENERATED ALWAYS AS (CASE WHEN duration >= 400 THEN 'yes' ELSE 'no' END) STORED,
  very_long_call text GENERATED ALWAYS AS (CASE WHEN duration >= 2500 THEN 'yes' ELSE 'no' END) STORED)");
$node->safe_psql('postgres',
	"COPY bank FROM '$root/test/data/bank.csv' WITH (FORMAT csv, HEADER true)");
is($node->safe_psql('postgres', 'SELECT count(*) FROM bank'), '45211', 'bank loaded');

# a small table: NULL facet (the group 'NULL'), NULL labels and predictions
# (ignored), a group with no positive prediction, one with no negative label;
# a boolean label and prediction (COPY writes t/f, favorable given as t or f)
$node->safe_psql('postgres', "CREATE TABLE mb_small AS
  SELECT * FROM (VALUES
    ('x', 'a', 'a', 1, true, true), ('x', 'b', 'a', 2, false, true), ('x', 'b', 'b', 1, false, false),
    ('x', 'c', 'a', 2, true, NULL), ('y', 'a', 'b', 1, true, false), ('y', 'a', 'b', 2, NULL, false),
    ('y', NULL, 'a', 1, false, false), ('y', 'b', NULL, 2, true, true), (NULL, 'a', 'a', 1, false, true),
    (NULL, 'c', 'c', 2, true, true), (NULL, 'b', 'a', NULL, false, false), ('z', 'a', 'a', 1, false, false),
    ('z', 'a', 'a', 2, true, false), ('w', 'b', 'b', 1, false, true), ('w', 'c', 'b', NULL, true, true))
  v(grp, outcome, guess, site, ok, ok_guess)");

my %csv;
foreach my $rel (qw(compas bank mb_small))
{
	$csv{$rel} = "$tdir/$rel.csv";
	$node->safe_psql('postgres',
		"COPY (SELECT * FROM $rel) TO '$csv{$rel}' WITH (FORMAT csv, HEADER true)");
}

my @cases = (
	[ 'compas', qw(race two_year_recid high_risk) ],
	[ 'compas', qw(race two_year_recid high_risk --group-by age_cat) ],
	[ 'compas', qw(sex two_year_recid high_risk) ],
	[ 'compas', qw(sex two_year_recid high_risk --group-by age_cat) ],
	[ 'compas', qw(race two_year_recid high_risk 0 --group-by age_cat) ],
	[ 'compas', qw(sex is_recid high_risk 1 --group-by race) ],
	[ 'bank', qw(marital subscription long_call) ],
	[ 'bank', qw(marital subscription long_call --group-by education) ],
	[ 'bank', qw(education subscription long_call no --group-by housing) ],
	[ 'bank', qw(job subscription long_call --group-by month) ],
	[ 'bank', qw(job subscription very_long_call --group-by month) ],
	[ 'bank', qw(education subscription very_long_call yes --group-by job) ],
	[ 'mb_small', qw(grp outcome guess) ],
	[ 'mb_small', qw(grp outcome guess a --group-by site) ],
	[ 'mb_small', qw(grp outcome guess c --group-by site) ],
	[ 'mb_small', qw(grp ok ok_guess t --group-by site) ],
	[ 'mb_small', qw(grp ok ok_guess f) ],);

my ($figures, $nulls) = (0, 0);
foreach my $case (@cases)
{
	my ($rel, @args) = @$case;
	my ($out, $err) = run_command([
		$python, $checker, '--dbname', $node->connstr('postgres'),
		'--psql', $node->config_data('--bindir') . '/psql',
		'--relation', $rel, $csv{$rel}, @args ]);
	chomp $out;
	my $ok = $out =~ /^ok: /m && $out !~ /MISMATCH/;
	ok($ok, "$rel: @args") or diag("$out\n$err");
	note($out);
	if ($out =~ /(\d+) figures compared \((\d+) NULL/)
	{
		$figures += $1;
		$nulls += $2;
	}
}
note("$figures figures compared with bias.py --predicted, $nulls of them NULL/NaN");
cmp_ok($nulls, '>', 0, 'some figures are NULL where bias.py gives NaN');

# the ProPublica finding: African-American defendants who did not reoffend were
# flagged high risk far more often than the others (specificity difference)
is($node->safe_psql('postgres',
		"SELECT round(sd::numeric, 3) FROM fairsynth_model_bias('compas', 'race', 'two_year_recid', 'high_risk')
		 WHERE facet_value = 'African-American'"),
	'-0.228', 'compas: specificity difference of African-American defendants');

$node->stop;
done_testing();
