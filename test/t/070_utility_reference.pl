# Utility: trtr_auc and tstr_auc of fairsynth_quality (a gradient-boosted
# classifier trained on the original / the synthetic relation, scored on the
# holdout) against test/reference/tstr.py (sklearn's HistGradientBoosting
# trained on the whole table): within 0.03 on compas split 80/20 (label
# two_year_recid, positive 1; synthesize and balance race x sex with the
# outcome) and on bank split 80/20 (label subscription, positive yes).
# The classifiers differ; the reference's AUCs are the yardstick.
#
# Needs /usr/bin/python3 with pandas and sklearn; skipped otherwise.
# Development hook: FAIRSYNTH_TEST_SQL=/path/to/script.sql loads that script
# instead of CREATE EXTENSION fairsynth.
use strict;
use warnings;

use FindBin;
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $root = "$FindBin::RealBin/../..";
my $python = '/usr/bin/python3';
my $reference = "$root/test/reference/tstr.py";

plan skip_all => "$python with pandas and sklearn is not available"
  unless -x $python
  && system($python, '-c', 'import pandas, sklearn') == 0;

my $node = PostgreSQL::Test::Cluster->new('utility_reference');
$node->init;
$node->start;
if ($ENV{FAIRSYNTH_TEST_SQL})
{
	$node->safe_psql('postgres',
		PostgreSQL::Test::Utils::slurp_file($ENV{FAIRSYNTH_TEST_SQL}));
}
else
{
	$node->safe_psql('postgres', 'CREATE EXTENSION fairsynth');
}

my $compas = "$root/test/data/compas.csv";
my $bank = "$root/test/data/bank.csv";
my $cols = join(', ',
	qw(sex age age_cat race juv_fel_count juv_misd_count juv_other_count
	  priors_count days_b_screening_arrest c_charge_degree c_charge_desc
	  decile_score score_text v_decile_score v_score_text is_recid
	  is_violent_recid two_year_recid));
my $bankcols = join(', ',
	qw(age job marital education "default" balance housing loan contact day
	  month duration campaign pdays previous poutcome subscription));

$node->safe_psql('postgres', qq{
CREATE TABLE compas (
  sex text, age int, age_cat text, race text,
  juv_fel_count int, juv_misd_count int, juv_other_count int, priors_count int,
  days_b_screening_arrest int, c_charge_degree text, c_charge_desc text,
  decile_score int, score_text text, v_decile_score int, v_score_text text,
  is_recid int, is_violent_recid int, two_year_recid int);
\\copy compas FROM '$compas' WITH (FORMAT csv, HEADER true)
ALTER TABLE compas ADD COLUMN id serial;
CREATE VIEW c_trn AS SELECT $cols FROM compas WHERE id % 5 <> 0 ORDER BY id;
CREATE VIEW c_hol AS SELECT $cols FROM compas WHERE id % 5 = 0 ORDER BY id;
CREATE TABLE c_syn AS SELECT * FROM fairsynth_synthesize(NULL::c_trn, seed => 1);
CREATE TABLE c_bal AS SELECT * FROM fairsynth_balance(NULL::c_trn, ARRAY['race', 'sex'],
                                                      outcome => 'two_year_recid', seed => 1);
CREATE TABLE bank (
  age int, job text, marital text, education text, "default" text, balance int,
  housing text, loan text, contact text, day int, month text, duration int,
  campaign int, pdays int, previous int, poutcome text, subscription text);
\\copy bank FROM '$bank' WITH (FORMAT csv, HEADER true)
ALTER TABLE bank ADD COLUMN id serial;
CREATE VIEW b_trn AS SELECT $bankcols FROM bank WHERE id % 5 <> 0 ORDER BY id;
CREATE VIEW b_hol AS SELECT $bankcols FROM bank WHERE id % 5 = 0 ORDER BY id;
CREATE TABLE b_syn AS SELECT * FROM fairsynth_synthesize(NULL::b_trn, seed => 1);
});

my $dir = PostgreSQL::Test::Utils::tempdir;
for my $t (qw(c_trn c_hol c_syn c_bal b_trn b_hol b_syn))
{
	$node->safe_psql('postgres',
		"\\copy (SELECT * FROM $t) TO '$dir/$t.csv' WITH (FORMAT csv, HEADER true)");
}

# reference AUCs: { name => auc }
sub reference
{
	my ($hol, $label, $pos, %tables) = @_;
	my $args = join(' ', map { "$_=$dir/$tables{$_}.csv" } sort keys %tables);
	my $json = `$python $reference $dir/$hol.csv $label $pos --json $args`;
	is($?, 0, "tstr.py ran on $hol");
	return { map { $_->{name} => $_->{auc} } @{ decode_json($json) } };
}

# fairsynth's trtr_auc and tstr_auc, and the time taken
sub utility
{
	my ($trn, $syn, $hol, $label, $pos) = @_;
	my $out = $node->safe_psql('postgres',
		"SELECT metric, value FROM fairsynth_quality('$trn', '$syn', '$hol', 0, "
		  . "label => '$label', favorable => '$pos') WHERE metric LIKE 't%_auc'");
	return { map { split /\|/ } split /\n/, $out };
}

for my $case (
	[ 'compas', qw(c_trn c_hol two_year_recid 1), { syn => 'c_syn', bal => 'c_bal' } ],
	[ 'bank', qw(b_trn b_hol subscription yes), { syn => 'b_syn' } ])
{
	my ($name, $trn, $hol, $label, $pos, $syns) = @$case;
	my $ref = reference($hol, $label, $pos, trn => $trn, %$syns);
	for my $s (sort keys %$syns)
	{
		my $got = utility($trn, $syns->{$s}, $hol, $label, $pos);
		for ([ 'trtr_auc', 'trn' ], [ 'tstr_auc', $s ])
		{
			my ($m, $r) = @$_;
			my $d = abs($got->{$m} - $ref->{$r});
			ok($d <= 0.03, "$name/$s: $m within 0.03 of tstr.py")
			  or diag("$m: got $got->{$m}, reference $ref->{$r}");
			note(sprintf("%s/%s: %s %.4f, tstr.py %.4f (difference %.4f)",
				$name, $s, $m, $got->{$m}, $ref->{$r}, $d));
		}
	}
}

$node->stop;
done_testing();
