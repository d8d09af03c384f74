-- +goose Up
-- The database is the flash sale's last line of defence, whatever Redis
-- holds or loses: tb_seckill_sale.sold becomes the live count of the
-- sale's persisted orders, which never passes its stock, and
-- tb_seckill_buyer counts each buyer's units, which never pass the sale's
-- per-user limit. An order that would pass either is refused for good and
-- recorded in tb_seckill_refusal.
--
-- Open sales' sold is backfilled from their orders (capped at the stock:
-- a sale that already sold more than its stock cannot close until an
-- operator looks at it, since closing checks sold against its orders).
UPDATE tb_seckill_sale
SET sold = MIN(stock, (SELECT COUNT(*) FROM tb_seckill_order o WHERE o.sale_id = tb_seckill_sale.id))
WHERE status = 1;

-- loads counts the times the sale was loaded into Redis (its epoch: each
-- stream entry carries the one it was decided in); rebuilt_at is when it
-- was last rebuilt after Redis lost it. Open sales were loaded once.
-- SQLite cannot add a table constraint to an existing table, but a
-- column's CHECK may name any column of the row: sold <= stock rides on
-- loads.
ALTER TABLE tb_seckill_sale ADD COLUMN loads INTEGER NOT NULL DEFAULT 0 CHECK (loads >= 0 AND sold <= stock);
ALTER TABLE tb_seckill_sale ADD COLUMN rebuilt_at DATETIME NULL;
UPDATE tb_seckill_sale SET loads = 1 WHERE status = 1;

-- tb_seckill_buyer is the units each buyer has in a sale, with the sale's
-- limit copied in so that a CHECK can hold it.
CREATE TABLE tb_seckill_buyer (
    sale_id  BIGINT NOT NULL REFERENCES tb_seckill_sale (id),
    user_id  BIGINT NOT NULL REFERENCES tb_users (id),
    units    INTEGER NOT NULL CHECK (units > 0),
    per_user INTEGER NOT NULL CHECK (per_user > 0),
    PRIMARY KEY (sale_id, user_id),
    CHECK (units <= per_user)
);
INSERT INTO tb_seckill_buyer (sale_id, user_id, units, per_user)
SELECT o.sale_id, o.user_id, MIN(COUNT(*), s.per_user), s.per_user
FROM tb_seckill_order o JOIN tb_seckill_sale s ON s.id = o.sale_id
WHERE s.status = 1
GROUP BY o.sale_id, o.user_id, s.per_user;

-- tb_seckill_refusal is every order Redis accepted that the database
-- refused for good, with why, so that its buyer is told "failed" even
-- after Redis forgot the order.
CREATE TABLE tb_seckill_refusal (
    order_id     VARCHAR(64) PRIMARY KEY,
    sale_id      BIGINT NOT NULL REFERENCES tb_seckill_sale (id),
    user_id      BIGINT NOT NULL,
    reason       VARCHAR(255) NOT NULL,
    decided_time DATETIME NOT NULL,
    create_time  DATETIME NOT NULL
);
CREATE INDEX tb_seckill_refusal_sale ON tb_seckill_refusal (sale_id);

-- +goose Down
DROP TABLE tb_seckill_refusal;
DROP TABLE tb_seckill_buyer;
ALTER TABLE tb_seckill_sale DROP COLUMN rebuilt_at;
ALTER TABLE tb_seckill_sale DROP COLUMN loads;
