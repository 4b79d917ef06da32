-- reviews: a generated table of product reviews whose text depends on a
-- numeric column (rating 1-5: negative words in low ratings, positive in
-- high), on an interaction (a dear item, price >= 60, rated low is "too
-- expensive", rated high "worth every penny") and on the category (its
-- topic words), for the free-text tests
-- (sql/text_leaf.sql, test/bench/text.py --reviews).  Deterministic: every
-- choice is a hash of the row number (hashint4), no random().
--   \i test/data/reviews.sql        creates and fills table reviews (4,000 rows)
CREATE TABLE reviews (category text, rating int, price numeric(8,2), verified boolean, review text);
CREATE FUNCTION pg_temp.h(i int, k int) RETURNS int LANGUAGE sql IMMUTABLE AS
$$ SELECT (hashint4(i * 977 + k) & 2147483647) $$;
CREATE FUNCTION pg_temp.pick(a text[], i int, k int) RETURNS text LANGUAGE sql IMMUTABLE AS
$$ SELECT a[1 + pg_temp.h(i, k) % array_length(a, 1)] $$;
INSERT INTO reviews
SELECT cat, rating, price, verified,
       concat_ws(' ',
         pg_temp.pick(ARRAY['I bought this', 'Got this', 'Ordered this', 'Picked up this', 'We bought this'], i, 4)
           || ' ' || pg_temp.pick(CASE cat
                WHEN 'electronics' THEN ARRAY['charger', 'speaker', 'headset', 'keyboard', 'tablet case']
                WHEN 'kitchen' THEN ARRAY['pan', 'kettle', 'knife set', 'blender', 'toaster']
                WHEN 'books' THEN ARRAY['novel', 'cookbook', 'biography', 'travel guide', 'comic']
                ELSE ARRAY['puzzle', 'board game', 'toy car', 'doll', 'kite'] END, i, 5)
           || ' ' || pg_temp.pick(ARRAY['for my son.', 'for my sister.', 'for the office.', 'as a gift.',
                                       'for my mother.', 'for myself.', 'for the holidays.'], i, 6),
         pg_temp.pick(CASE cat
                WHEN 'electronics' THEN ARRAY['The cable is about 2 metres long.', 'It charges over USB.',
                                              'The buttons are on the side.', 'It pairs with my phone.']
                WHEN 'kitchen' THEN ARRAY['It goes in the dishwasher.', 'The handle is wooden.',
                                          'It heats up in 3 minutes.', 'The lid fits tightly.']
                WHEN 'books' THEN ARRAY['The chapters are short.', 'It has 300 pages.',
                                        'The author is from Canada.', 'The print is small.']
                ELSE ARRAY['It has many small pieces.', 'The box says ages 6 and up.',
                           'The colours are bright.', 'It needs two batteries.'] END, i, 7),
         CASE WHEN pg_temp.h(i, 8) % 10 = 0 THEN pg_temp.pick(ARRAY['It is okay.', 'Average overall.'], i, 9)
              WHEN rating <= 2 THEN pg_temp.pick(ARRAY['Very disappointed with it.', 'It stopped working after a week.',
                  'Total waste of money.', 'Poor quality, it broke quickly.', 'I asked for a refund.',
                  'Cheap and flimsy.', 'The worst purchase this year.'], i, 10)
              WHEN rating = 3 THEN pg_temp.pick(ARRAY['It is okay.', 'Does the job, nothing special.',
                  'Average overall.', 'Fine for the price.'], i, 10)
              ELSE pg_temp.pick(ARRAY['Works great.', 'I really love it.', 'Excellent quality for the price.',
                  'Highly recommend it.', 'Very happy with this purchase.', 'Sturdy and well made.',
                  'The best purchase this year.'], i, 10) END,
         -- the price and the rating together: only dear items are too dear or worth it
         CASE WHEN price >= 60 AND rating <= 2 AND pg_temp.h(i, 19) % 10 < 7 THEN 'Far too expensive for what it is.'
              WHEN price >= 60 AND rating >= 4 AND pg_temp.h(i, 19) % 10 < 7 THEN 'Worth every penny.' END,
         pg_temp.pick(ARRAY['Delivery took ' || (1 + pg_temp.h(i, 11) % 9) || ' days.',
                            'It arrived on a ' || pg_temp.pick(ARRAY['Monday', 'Tuesday', 'Friday', 'Saturday'], i, 12) || '.',
                            'The package was plain brown cardboard.', 'I have used it ' || (2 + pg_temp.h(i, 13) % 12) || ' times so far.',
                            'My ' || pg_temp.pick(ARRAY['neighbour', 'brother', 'friend', 'wife'], i, 14) || ' has the same one.',
                            'It came with a small manual.'], i, 15),
         CASE WHEN pg_temp.h(i, 16) % 3 = 0
              THEN pg_temp.pick(ARRAY['The colour is a dark grey.', 'It weighs less than I expected.',
                                      'It fits on the shelf.', 'The instructions were in five languages.',
                                      'I compared it with two others in the shop.'], i, 17) END)
FROM generate_series(1, 4000) AS i,
     LATERAL (SELECT (ARRAY['electronics', 'kitchen', 'books', 'toys'])[1 + pg_temp.h(i, 1) % 4] AS cat,
                     (ARRAY[1, 1, 1, 2, 2, 3, 3, 3, 4, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5, 5])[1 + pg_temp.h(i, 2) % 20] AS rating,
                     round((5 + pg_temp.h(i, 3) % 9500 / 100.0)::numeric, 2) AS price,
                     pg_temp.h(i, 18) % 5 <> 0 AS verified) AS x;
