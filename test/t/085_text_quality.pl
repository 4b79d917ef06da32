# fairsynth_quality's rows for free-text columns (issue 14) against the
# reference test/reference/text.py: sms split 80/20 (sample(frac=0.8,
# random_state=7)), fairsynth_synthesize(NULL::sms_trn, seed => 1); every
# text_* figure of `message` within 0.01 of text.py's (text_exact_match_holdout
# against its exact_match_holdout), for the synthetic rows and for the holdout
# in the synthetic's place.  The column is left out of the binned accuracy
# (label's figures stay), and a text column that is not free text (few
# distinct values) gets no text_* rows.
#
# Needs /usr/bin/python3 with pandas; skipped otherwise.
use strict;
use warnings;

use File::Temp qw(tempdir);
use FindBin;
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $root = "$FindBin::RealBin/../..";
my $python = '/usr/bin/python3';

plan skip_all => "$python with pandas is not available"
  unless -x $python && system($python, '-c', 'import pandas') == 0;

my $dir = tempdir(CLEANUP => 1);
system($python, '-c', qq{
import pandas as pd
df = pd.read_csv("$root/test/data/sms.csv", keep_default_na=False)
trn = df.sample(frac=0.8, random_state=7)
trn.to_csv("$dir/trn.csv", index=False)
df.drop(trn.index).to_csv("$dir/hol.csv", index=False)
}) == 0 or die "could not split sms.csv";

my $node = PostgreSQL::Test::Cluster->new('text_quality');
$node->init;
$node->start;
$node->safe_psql('postgres', qq{
CREATE EXTENSION fairsynth;
CREATE TABLE sms_trn (label text, message text);
CREATE TABLE sms_hol (LIKE sms_trn);
COPY sms_trn FROM '$dir/trn.csv' WITH (FORMAT csv, HEADER true);
COPY sms_hol FROM '$dir/hol.csv' WITH (FORMAT csv, HEADER true);
CREATE TABLE sms_syn AS SELECT * FROM fairsynth_synthesize(NULL::sms_trn, seed => 1);
COPY sms_syn TO '$dir/syn.csv' WITH (FORMAT csv, HEADER true);
});

my $json = `$python $root/test/reference/text.py $dir/trn.csv $dir/hol.csv $dir/syn.csv message --json`;
die "test/reference/text.py failed" if $? != 0;
my $ref = decode_json($json);

# metric name in fairsynth_quality => text.py measure
my %measure = (
	text_term_accuracy => 'term_accuracy',
	text_char_accuracy => 'char_accuracy',
	text_length_accuracy => 'length_accuracy',
	text_cooc_error => 'cooc_error',
	text_exact_match => 'exact_match');

sub quality
{
	my ($other, $holdout) = @_;
	my %q;
	my $out = $node->safe_psql('postgres',
		"SELECT metric, coalesce(column_name, ''), value FROM fairsynth_quality('sms_trn', '$other'"
		  . ($holdout ? ", '$holdout'" : '') . ")");
	for (split /\n/, $out)
	{
		my ($m, $c, $v) = split /\|/;
		$q{"$m/$c"} = $v;
	}
	return \%q;
}

for my $case (['sms_syn', 'sms_hol', 'synthetic'], ['sms_hol', undef, 'holdout'])
{
	my ($other, $holdout, $key) = @$case;
	my $q = quality($other, $holdout);
	for my $m (sort keys %measure)
	{
		my ($got, $want) = ($q->{"$m/message"}, $ref->{$key}{ $measure{$m} });
		ok(defined $got && abs($got - $want) <= 0.01,
			sprintf("%s (%s): %.4f, text.py %.4f", $m, $key, $got // 'NaN', $want));
	}
	ok(!exists $q->{'accuracy_univariate/message'},
		"message is not binned ($key)");
	ok(exists $q->{'accuracy_univariate/label'}, "label is ($key)");
	if ($holdout)
	{
		my $got = $q->{'text_exact_match_holdout/message'};
		ok(defined $got && abs($got - $ref->{synthetic}{exact_match_holdout}) <= 0.01,
			sprintf("text_exact_match_holdout: %.4f, text.py %.4f",
				$got // 'NaN', $ref->{synthetic}{exact_match_holdout}));
	}
}

# a text column of few values is a category, not free text
my $q = $node->safe_psql('postgres',
	"SELECT count(*) FILTER (WHERE metric LIKE 'text%' AND column_name = 'label'), "
	  . "count(*) FILTER (WHERE metric = 'accuracy_univariate' AND column_name = 'label') "
	  . "FROM fairsynth_quality('sms_trn', 'sms_syn')");
is($q, '0|1', 'label: no text rows, binned') or diag $q;

$node->stop;
done_testing();
