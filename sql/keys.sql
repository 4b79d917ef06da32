-- Rows that fit back into their table (issue 11): a serial key and an identity
-- column take their values from their sequences, a uuid key is new in every
-- call whatever the seed, a generated column is computed by its expression.
\set SHOW_CONTEXT never
CREATE TYPE keys_tier AS ENUM ('basic', 'plus', 'gold');
CREATE TABLE keys_orders (
  id serial PRIMARY KEY,
  ext_no bigint GENERATED ALWAYS AS IDENTITY,
  uid uuid NOT NULL UNIQUE DEFAULT gen_random_uuid(),
  tier keys_tier NOT NULL,
  region varchar(12) NOT NULL,
  qty int NOT NULL,
  price numeric(6,2) NOT NULL,
  total numeric(10,2) GENERATED ALWAYS AS (qty * price) STORED
);
INSERT INTO keys_orders (uid, tier, region, qty, price)
SELECT md5(i::text)::uuid,
       (CASE WHEN i % 10 < 7 THEN 'basic' WHEN i % 10 < 9 THEN 'plus' ELSE 'gold' END)::keys_tier,
       (ARRAY['north', 'south', 'east', 'west-central'])[1 + i % 4],
       1 + (i * 7) % 9, round((5 + (i * 37) % 9000 / 100.0)::numeric, 2)
FROM generate_series(1, 2000) i;
CREATE TABLE keys_orders2 (LIKE keys_orders INCLUDING ALL);
INSERT INTO keys_orders2 (uid, tier, region, qty, price)
SELECT uid, tier, region, qty, price FROM keys_orders;

-- the additive rows go back into the table: a GENERATED ALWAYS identity needs
-- OVERRIDING SYSTEM VALUE and a generated column is left out of the list
-- (INSERT computes it again, to the same value)
INSERT INTO keys_orders (id, ext_no, uid, tier, region, qty, price) OVERRIDING SYSTEM VALUE
SELECT id, ext_no, uid, tier, region, qty, price
FROM fairsynth_balance(NULL::keys_orders, ARRAY['tier'], mode => 'additive', seed => 1);
SELECT tier, count(*) FROM keys_orders GROUP BY tier ORDER BY tier;
-- then 1,000 ordinary inserts succeed: the sequences went past every key
INSERT INTO keys_orders (tier, region, qty, price)
SELECT 'plus', 'east', 1 + i % 5, 9.99 FROM generate_series(1, 1000) i;
SELECT count(*) AS rows, count(DISTINCT id) AS ids, count(DISTINCT ext_no) AS ext_nos,
       count(DISTINCT uid) AS uids, bool_and(total = qty * price) AS generated_ok
FROM keys_orders;

-- every synthetic row: keys from the sequences, past everything inserted;
-- generated values equal their expression; varchar(12) and numeric(6,2) fit
CREATE TEMP TABLE keys_out AS
SELECT * FROM fairsynth_balance(NULL::keys_orders, ARRAY['tier', 'region'], seed => 7);
SELECT count(*) AS rows,
       min(id) > (SELECT max(id) FROM keys_orders) AS ids_new,
       count(DISTINCT id) = count(*) AS ids_distinct,
       min(ext_no) > (SELECT max(ext_no) FROM keys_orders) AS ext_nos_new,
       bool_and(total = qty * price) AS generated_ok,
       bool_and(total IS NOT NULL) AS generated_not_null,
       max(length(region)) <= 12 AS varchar_fits,
       bool_and(price = round(price, 2) AND abs(price) < 10000) AS numeric_fits
FROM keys_out;
INSERT INTO keys_orders (id, ext_no, uid, tier, region, qty, price) OVERRIDING SYSTEM VALUE
SELECT id, ext_no, uid, tier, region, qty, price FROM keys_out;
INSERT INTO keys_orders (tier, region, qty, price) VALUES ('gold', 'north', 2, 1.50);

-- uuids: none repeats across two calls with the same seed, nor across two
-- tables; every other column is the same for the same seed
CREATE TEMP TABLE keys_a AS
SELECT row_number() OVER () AS n, * FROM fairsynth_balance(NULL::keys_orders2, ARRAY['tier'], seed => 1);
CREATE TEMP TABLE keys_b AS
SELECT row_number() OVER () AS n, * FROM fairsynth_balance(NULL::keys_orders2, ARRAY['tier'], seed => 1);
CREATE TEMP TABLE keys_c AS
SELECT row_number() OVER () AS n, * FROM fairsynth_balance(NULL::keys_orders, ARRAY['tier'], seed => 1);
SELECT (SELECT count(*) FROM keys_a JOIN keys_b USING (uid)) AS same_seed_shared,
       (SELECT count(*) FROM keys_a JOIN keys_c USING (uid)) AS other_table_shared,
       (SELECT count(*) FROM keys_a JOIN keys_orders2 USING (uid)) AS source_shared,
       (SELECT bool_and(substr(uid::text, 15, 1) = '4') FROM keys_a) AS uuid_v4,
       (SELECT count(*) FROM keys_a a JOIN keys_b b USING (n)
        WHERE (a.tier, a.region, a.qty, a.price) IS DISTINCT FROM (b.tier, b.region, b.qty, b.price)) AS same_seed_other_columns_differ;

-- the sequences are the columns' own: the second table shares the serial's
-- sequence (LIKE copies the default) but has its own identity sequence
SELECT (SELECT min(id) FROM keys_a) > (SELECT max(id) FROM keys_orders) AS shared_serial_new,
       (SELECT min(ext_no) FROM keys_a) = 2001 AS own_identity;

-- a text key fed by a sequence through an expression
CREATE SEQUENCE keys_invoice_seq START 500;
CREATE TABLE keys_invoices (
  code text PRIMARY KEY DEFAULT 'INV-' || nextval('keys_invoice_seq'),
  kind text NOT NULL, amount int NOT NULL);
INSERT INTO keys_invoices (kind, amount)
SELECT CASE WHEN i % 4 = 0 THEN 'refund' ELSE 'sale' END, i % 50 FROM generate_series(1, 200) i;
INSERT INTO keys_invoices
SELECT * FROM fairsynth_balance(NULL::keys_invoices, ARRAY['kind'], mode => 'additive', seed => 1);
INSERT INTO keys_invoices (kind, amount) VALUES ('sale', 1);
SELECT count(*), count(DISTINCT code), min(code), max(code) FROM keys_invoices;

-- balancing a generated or sequence-fed column is an error naming it
SELECT count(*) FROM fairsynth_balance(NULL::keys_orders, ARRAY['total'], seed => 1);
SELECT count(*) FROM fairsynth_balance(NULL::keys_orders, ARRAY['ext_no'], seed => 1);
-- a generated column of a type fairsynth does not model is computed as well
CREATE TABLE keys_doc (id int GENERATED BY DEFAULT AS IDENTITY, title text NOT NULL,
  words tsvector GENERATED ALWAYS AS (to_tsvector('simple', title)) STORED);
INSERT INTO keys_doc (title) SELECT (ARRAY['red fox', 'blue whale', 'green frog'])[1 + i % 3]
FROM generate_series(1, 90) i;
SELECT title, words, count(*) FROM fairsynth_balance(NULL::keys_doc, ARRAY['title'], seed => 1)
GROUP BY 1, 2 ORDER BY 1;

-- impute: a generated column follows the values filled in
CREATE TABLE keys_imp (g text NOT NULL, qty int, price numeric(6,2) NOT NULL,
  total numeric GENERATED ALWAYS AS (qty * price) STORED);
INSERT INTO keys_imp (g, qty, price)
SELECT CASE WHEN i % 2 = 0 THEN 'a' ELSE 'b' END, CASE WHEN i % 10 = 0 THEN NULL ELSE i % 7 END, 2.50
FROM generate_series(1, 300) i;
SELECT count(*) AS rows, count(qty) AS qty_filled, bool_and(total = qty * price) AS generated_ok
FROM fairsynth_impute(NULL::keys_imp, seed => 1);
DROP TABLE keys_imp;

-- drawing from a sequence needs its privileges, as an INSERT using the
-- default would: a role that may only read the table is told, and its keys
-- continue after the largest value instead
CREATE ROLE regress_keys_reader;
GRANT SELECT ON keys_invoices, keys_doc TO regress_keys_reader;
SET ROLE regress_keys_reader;
SELECT count(*), bool_and(code LIKE 'syn-%') AS own_keys FROM fairsynth_balance(NULL::keys_invoices, ARRAY['kind'], seed => 1);
-- an identity column: INSERT on the table is enough
SELECT count(*), min(id) FROM fairsynth_balance(NULL::keys_doc, ARRAY['title'], seed => 1);
RESET ROLE;
GRANT INSERT ON keys_doc TO regress_keys_reader;
SET ROLE regress_keys_reader;
SELECT count(*), min(id) FROM fairsynth_balance(NULL::keys_doc, ARRAY['title'], seed => 1);
RESET ROLE;

DROP TABLE keys_out, keys_a, keys_b, keys_c;
DROP TABLE keys_orders, keys_orders2, keys_invoices, keys_doc;
DROP SEQUENCE keys_invoice_seq;
DROP TYPE keys_tier;
DROP ROLE regress_keys_reader;
