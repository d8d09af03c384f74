-- +goose Up
-- Reviews, as the Django shop keeps them: on the order line itself
-- (tb_order_goods.comment, score, is_anonymous, is_commented, there since
-- 00001). comment_time is when the line was reviewed, for the SKU page's
-- newest-first list. The CHECK holds what the shop promises of a line:
-- a score of 1 to 5 (the default 5 until reviewed), and a reviewed line
-- knows when. SQLite cannot add a table constraint to an existing table,
-- but a column's CHECK may name any column of the row: it rides on
-- comment_time.
ALTER TABLE tb_order_goods ADD COLUMN comment_time DATETIME NULL
    CHECK (score BETWEEN 1 AND 5 AND (is_commented = FALSE OR comment_time IS NOT NULL));
CREATE INDEX tb_order_goods_reviews ON tb_order_goods (sku_id, is_commented, comment_time);

-- +goose Down
DROP INDEX tb_order_goods_reviews;
ALTER TABLE tb_order_goods DROP COLUMN comment_time;
