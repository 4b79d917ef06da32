
# fairsynth_report() renders: the HTML has the expected structure (one chart per
# column, bias and heat-map charts, nothing external, no script) and headless
# Chromium draws it into a non-blank screenshot.  Then the README's recipe,
# run exactly (psql -XAt -c "SELECT fairsynth_report(...)" > report.html), on
# compas balanced over race x sex with outcome two_year_recid, a serial key and
# two planted values (priors_count 987654, a unique charge): the file is the
# page and nothing else, the balanced columns and the outcome are shown as
# changed as asked (never red), and neither planted value nor the key appears.
#
# Chromium (/usr/bin/chromium, Debian package chromium) and /usr/bin/python3 are
# needed for the rendering part, which is skipped without them.  The screenshot
# is kept as tmp_check/report.png (and the HTML as tmp_check/report.html).
# Development hook: FAIRSYNTH_TEST_SQL=/path/to/script.sql loads that script
# instead of CREATE EXTENSION fairsynth.

use strict;
use warnings;
use File::Copy;
use File::Temp;
use FindBin;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $root     = "$FindBin::RealBin/../..";
my $csv      = "$root/test/data/compas.csv";
my $chromium = $ENV{CHROMIUM} || '/usr/bin/chromium';
my $python   = '/usr/bin/python3';

my $node = PostgreSQL::Test::Cluster->new('report_render');
$node->init;
$node->start;
if ($ENV{FAIRSYNTH_TEST_SQL})
{
	$node->safe_psql('postgres', PostgreSQL::Test::Utils::slurp_file($ENV{FAIRSYNTH_TEST_SQL}));
}
else
{
	$node->safe_psql('postgres', 'CREATE EXTENSION fairsynth');
}

my $columns = 'sex text, age int, age_cat text, race text,
  juv_fel_count int, juv_misd_count int, juv_other_count int, priors_count int,
  days_b_screening_arrest int, c_charge_degree text, c_charge_desc text,
  decile_score int, score_text text, v_decile_score int, v_score_text text,
  is_recid int, is_violent_recid int, two_year_recid int';
my $list = join(', ', map { (split ' ', $_)[0] } split(/,\s*/, $columns));
$node->safe_psql('postgres', qq{
CREATE TABLE compas ($columns);
COPY compas FROM '$csv' WITH (FORMAT csv, HEADER true);
CREATE TABLE numbered AS SELECT *, row_number() OVER (ORDER BY ctid) AS rn FROM compas;
CREATE TABLE train ($columns);
INSERT INTO train SELECT $list FROM numbered WHERE rn % 5 <> 0 ORDER BY rn;
CREATE TABLE holdout ($columns);
INSERT INTO holdout SELECT $list FROM numbered WHERE rn % 5 = 0 ORDER BY rn;
-- a crude "synthetic" table: training rows with race and sex drawn independently
CREATE TABLE syn AS
  WITH t AS (SELECT *, row_number() OVER (ORDER BY md5(rn::text)) AS k FROM numbered WHERE rn % 5 <> 0),
       r AS (SELECT race AS r_race, sex AS r_sex, row_number() OVER (ORDER BY md5('r' || rn)) AS k
             FROM numbered WHERE rn % 5 <> 0)
  SELECT * FROM t JOIN r USING (k);
UPDATE syn SET race = r_race, sex = r_sex;
ALTER TABLE syn DROP COLUMN k, DROP COLUMN rn, DROP COLUMN r_race, DROP COLUMN r_sex;
});

my $html = $node->safe_psql('postgres',
	q{SELECT fairsynth_report('train', 'syn', 'holdout', 'race', 'two_year_recid')});
my $ncols = $node->safe_psql('postgres',
	q{SELECT count(*) FROM pg_attribute WHERE attrelid = 'train'::regclass AND attnum > 0 AND NOT attisdropped});

sub count_of { my ($s) = @_; my $n = () = $html =~ /\Q$s\E/g; return $n; }

like($html, qr/\A<!DOCTYPE html>/, 'starts with a doctype');
like($html, qr{</html>\z}, 'ends with </html>');
is(count_of('<svg class="dist"'), $ncols, "one distribution chart per column ($ncols)");
is(count_of('<svg class="bias"'), 1, 'one bias chart');
is(count_of('<svg class="acc"'), 1, 'one accuracy chart');
ok(count_of('<svg class="heat"') <= 3, 'at most three heat maps');
is(count_of('<svg'), count_of('</svg>'), 'every <svg> closed');
is(count_of('<div'), count_of('</div>'), 'every <div> closed');
foreach my $h ('Summary', 'Fidelity', 'Distributions')
{
	like($html, qr{<h2[^>]*>\Q$h\E</h2>}, "heading $h");
}
like($html, qr{<h2>Bias of <code>two_year_recid</code> across <code>race</code></h2>}, 'bias heading');
unlike($html, qr{<script|javascript:}i, 'no script');
unlike($html, qr{(?:src|href)\s*=|url\((?!#)|\@import}i, 'no external resource');

my $dir = $PostgreSQL::Test::Utils::tmp_check;
my $file = "$dir/report.html";
open(my $fh, '>:raw', $file) or die "cannot write $file: $!";
print $fh $html;
close $fh;

SKIP:
{
	skip "no $chromium", 2 unless -x $chromium;
	skip "no $python", 2 unless -x $python;
	my $profile = File::Temp::tempdir(CLEANUP => 1);
	my $png = "$dir/report.png";
	unlink $png;
	local $ENV{HOME} = $profile;
	my ($out, $err) = run_command([
		$chromium, '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
		'--no-first-run', '--disable-background-networking', '--disable-component-update',
		'--disable-sync', "--user-data-dir=$profile", "--screenshot=$png",
		'--window-size=1280,2400', "file://$file" ]);
	ok(-s $png, 'Chromium wrote a screenshot') or diag($err);
	($out, $err) = run_command([ $python, "$root/test/render/png_stats.py", $png, 200, 0.10 ]);
	# width height distinct-colours ink-share
	my ($w, $h, $colours, $ink) = split ' ', ($out // '');
	ok(defined $ink && $colours >= 200 && $ink >= 0.10,
		"screenshot is not blank (colours: " . ($colours // '?') . ", ink: " . ($ink // '?') . ")")
	  or diag("$out\n$err");
}

# ---- the README's recipe on a balanced table
$node->safe_psql('postgres', q{
CREATE TABLE keyed AS SELECT * FROM train;
ALTER TABLE keyed ADD COLUMN id serial PRIMARY KEY;
UPDATE keyed SET priors_count = 987654, c_charge_desc = 'Planted Unique Charge XYZ' WHERE id = 17;
CREATE TABLE balanced AS
  SELECT * FROM fairsynth_balance(NULL::keyed, ARRAY['race', 'sex'], outcome => 'two_year_recid', seed => 1);
});
my $recipe = q{SELECT fairsynth_report('keyed', 'balanced', 'holdout', facet => 'race', label => 'two_year_recid', balance => ARRAY['race', 'sex'], outcome => 'two_year_recid')};
my $page = "$dir/report-balanced.html";
my $connstr = $node->connstr('postgres');
system('sh', '-c', qq{psql -XAt -d "\$1" -c "\$2" > "\$3" 2>/dev/null}, 'sh', $connstr, $recipe, $page);
is($?, 0, 'the recipe ran');
my $doc = PostgreSQL::Test::Utils::slurp_file($page);
like($doc, qr/\A<!DOCTYPE html>/, 'recipe: the file starts with the doctype');
like($doc, qr{</html>\n?\z}, 'recipe: the file ends with </html>');
unlike($doc, qr/\+\n/, 'recipe: no aligned-format line ends');
unlike($doc, qr/987654/, 'recipe: the planted extreme never appears');
unlike($doc, qr/Planted Unique/, 'recipe: the planted rare value never appears');
unlike($doc, qr{<code>id</code>}, 'recipe: no card for the key');
for my $c (qw(race sex two_year_recid))
{
	like($doc, qr{<h3><code>$c</code><span class="badge asked"[^>]*>changed as asked</span>},
		"recipe: $c shown as changed as asked");
	unlike($doc, qr{<h3><code>$c</code><span class="badge bad"}, "recipe: $c not red");
}
like($doc, qr{<section id="asked">}, 'recipe: target against achieved shares');
like($doc, qr{<th>accuracy</th></tr></thead>}, 'recipe: per-combination accuracy column');
like($doc, qr{<td class="(?:good|warn|bad)">\d+\.\d%</td></tr>},
	'recipe: a combination with its accuracy');

SKIP:
{
	skip "no $chromium", 1 unless -x $chromium;
	my $profile = File::Temp::tempdir(CLEANUP => 1);
	my $png = "$dir/report-balanced.png";
	unlink $png;
	local $ENV{HOME} = $profile;
	my ($out, $err) = run_command([
		$chromium, '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
		'--no-first-run', '--disable-background-networking', '--disable-component-update',
		'--disable-sync', "--user-data-dir=$profile", "--screenshot=$png",
		'--window-size=1280,2400', "file://$page" ]);
	ok(-s $png, 'recipe: Chromium drew the page') or diag($err);
}

$node->stop;
done_testing();
