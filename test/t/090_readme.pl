
# The README's "Getting started" walk-through runs top to bottom on a fresh
# database: every ```sql block of that section, in order, in one database, with
# ON_ERROR_STOP (any error fails), from the repository's top directory (the
# \copy of test/data/compas.csv).  Where a block is followed by an output
# block (a fence without a language), every line of it but "..." must be a
# line of what psql printed: the README shows what actually prints.

use strict;
use warnings;
use FindBin;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $root = "$FindBin::RealBin/../..";
my $readme = PostgreSQL::Test::Utils::slurp_file("$root/README.md");
my ($section) = $readme =~ /^## Getting started\n(.*?)^## /ms;
ok(defined $section, 'the README has a Getting started section');

my @blocks;
while ($section =~ /^```(\w*)\n(.*?)^```\n/msg)
{
	push @blocks, { lang => $1, text => $2 };
}
my $nsql = grep { $_->{lang} eq 'sql' } @blocks;
cmp_ok($nsql, '>=', 10, "$nsql sql blocks in the walk-through");

my $node = PostgreSQL::Test::Cluster->new('readme');
$node->init;
$node->append_conf('postgresql.conf', 'fairsynth.progress_interval = 0');
$node->start;
$node->safe_psql('postgres', 'CREATE DATABASE walkthrough');
$node->safe_psql('walkthrough', 'CREATE EXTENSION fairsynth');

for my $i (0 .. $#blocks)
{
	my $b = $blocks[$i];
	next unless $b->{lang} eq 'sql';
	(my $first = $b->{text}) =~ s/\n.*//s;
	my ($out, $err) = ('', '');
	my $ok = IPC::Run::run(
		[ $node->installed_command('psql'), '-X', '-q', '-v', 'ON_ERROR_STOP=1',
		  '-d', $node->connstr('walkthrough'), '-f', '-' ],
		'<', \$b->{text}, '>', \$out, '2>', \$err,
		init => sub { chdir $root or die "chdir $root: $!" });
	ok($ok && $err !~ /ERROR/, "block " . ($i + 1) . " runs: $first") or diag($err);
	note($out);
	my $next = $blocks[ $i + 1 ];
	next unless $next && $next->{lang} eq '';
	my %printed = map { s/\s+$//r => 1 } split /\n/, $out;
	my @missing = grep { !$printed{$_} } grep { !/^\s*(\.\.\.)?\s*$/ } map { s/\s+$//r } split /\n/, $next->{text};
	is(scalar(@missing), 0, "block " . ($i + 1) . " prints what the README shows")
	  or diag("not printed:\n" . join("\n", @missing) . "\nprinted:\n$out");
}

done_testing();
