-- Free text follows the tree leaf of the row's other columns (issue 14):
-- generated reviews (test/data/reviews.sql) whose words depend on a numeric
-- rating 1-5 and on an interaction of price and rating, neither a balance
-- nor a context column.  Before the leaf tree the synthetic words were
-- independent of the synthetic rating (seed 1: negative words in 17 % of
-- the rows rated 1-2 and 20 % of those rated 4-5; the checks below of the
-- words, but cheap_low_not and the balanced high_ratings_positive, and
-- rated_3_no_nulls failed).
SET client_min_messages = warning;
\set ECHO none
\i test/data/reviews.sql
\set ECHO all
CREATE FUNCTION review_words(t regclass) RETURNS TABLE (
    neg_low float8, neg_high float8, pos_low float8, pos_high float8,
    expensive_dear float8, expensive_cheap float8)
LANGUAGE plpgsql AS $$
BEGIN
  RETURN QUERY EXECUTE format($q$
    SELECT avg((review ~* '\m(disappointed|stopped|waste|broke|refund|flimsy|worst)\M')::int::float8) FILTER (WHERE rating <= 2),
           avg((review ~* '\m(disappointed|stopped|waste|broke|refund|flimsy|worst)\M')::int::float8) FILTER (WHERE rating >= 4),
           avg((review ~* '\m(great|love|excellent|recommend|happy|sturdy|best)\M')::int::float8) FILTER (WHERE rating <= 2),
           avg((review ~* '\m(great|love|excellent|recommend|happy|sturdy|best)\M')::int::float8) FILTER (WHERE rating >= 4),
           avg((review ~* '\mexpensive\M')::int::float8) FILTER (WHERE rating <= 2 AND price >= 60),
           avg((review ~* '\mexpensive\M')::int::float8) FILTER (WHERE rating <= 2 AND price < 60)
    FROM %s$q$, t);
END $$;
-- the source: negative words in 90 % of the low ratings, none in the high;
-- "too expensive" in 70 % of the low ratings of dear items, none of cheap ones
SELECT round(neg_low::numeric, 1) AS neg_low, round(neg_high::numeric, 1) AS neg_high,
       round(pos_low::numeric, 1) AS pos_low, round(pos_high::numeric, 1) AS pos_high,
       round(expensive_dear::numeric, 1) AS expensive_dear,
       round(expensive_cheap::numeric, 1) AS expensive_cheap
FROM review_words('reviews');

-- synthesize: the words follow the synthetic rating, and the price with it
CREATE TABLE reviews_syn AS SELECT * FROM fairsynth_synthesize(NULL::reviews, seed => 1);
SELECT neg_low >= 0.5 AS low_ratings_negative, neg_high <= 0.05 AS high_ratings_not_negative,
       pos_high >= 0.5 AS high_ratings_positive, pos_low <= 0.05 AS low_ratings_not_positive,
       expensive_dear >= 0.3 AS dear_low_too_expensive, expensive_cheap <= 0.05 AS cheap_low_not
FROM review_words('reviews_syn');
-- balanced on a column the text does not depend on: the same
CREATE TABLE reviews_bal AS SELECT * FROM fairsynth_balance(NULL::reviews, ARRAY['verified'], seed => 2);
SELECT verified, count(*) FROM reviews_bal GROUP BY verified ORDER BY verified;
SELECT neg_low >= 0.4 AS low_ratings_negative, neg_high <= 0.05 AS high_ratings_not_negative,
       pos_high >= 0.4 AS high_ratings_positive, pos_low <= 0.05 AS low_ratings_not_positive,
       expensive_dear >= 0.2 AS dear_low_too_expensive, expensive_cheap <= 0.15 AS cheap_low_not
FROM review_words('reviews_bal');
-- the leaf tree is part of the model value: a fitted model samples the same rows
SELECT (SELECT md5(string_agg(t::text, '|')) FROM fairsynth_sample(fairsynth_fit(NULL::reviews), NULL::reviews, seed => 1) t) =
       (SELECT md5(string_agg(t::text, '|')) FROM reviews_syn t) AS model_value_same_rows;
-- NULL texts come at their leaf's share: none where the rating is 3
CREATE TABLE reviews_gaps AS SELECT category, rating, price, verified,
  CASE WHEN rating <> 3 AND (hashtext(review) & 3) = 0 THEN NULL ELSE review END AS review FROM reviews;
CREATE TABLE reviews_gaps_syn AS SELECT * FROM fairsynth_synthesize(NULL::reviews_gaps, seed => 3);
SELECT avg((review IS NULL)::int) FILTER (WHERE rating = 3) <= 0.05 AS rated_3_no_nulls,
       avg((review IS NULL)::int) FILTER (WHERE rating <> 3) BETWEEN 0.15 AND 0.35 AS others_a_quarter,
       (SELECT neg_low >= 0.4 AND neg_high <= 0.05 FROM review_words('reviews_gaps_syn')) AS words_follow_rating
FROM reviews_gaps_syn;
-- a free-text model with more balance combinations than its text has groups
-- is a valid value (the model check read past the text tree's starts): its
-- sample is balance's count
CREATE TABLE reviews_buckets AS
  SELECT (row_number() OVER (ORDER BY review))::int % 200 AS bucket, r.* FROM reviews r;
SELECT count(*) = (SELECT count(*) FROM fairsynth_balance(NULL::reviews_buckets, ARRAY['bucket'], seed => 1))
       AS sample_is_valid
FROM fairsynth_sample(fairsynth_fit(NULL::reviews_buckets, ARRAY['bucket']), NULL::reviews_buckets, seed => 1);
DROP TABLE reviews, reviews_syn, reviews_bal, reviews_gaps, reviews_gaps_syn, reviews_buckets;
DROP FUNCTION review_words(regclass);
