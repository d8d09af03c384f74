-- +goose Up
-- The admin pages: a low-stock threshold per SKU (the SKU is "low" when its
-- stock is at or below it), and indexes for the order list's filters
-- (status and date) and the dashboard's "today".
ALTER TABLE tb_sku ADD COLUMN low_stock_threshold INTEGER NOT NULL DEFAULT 5 CHECK (low_stock_threshold >= 0);
CREATE INDEX tb_order_info_status ON tb_order_info (status, create_time);
CREATE INDEX tb_order_info_created ON tb_order_info (create_time);

-- +goose Down
DROP INDEX tb_order_info_status;
DROP INDEX tb_order_info_created;
ALTER TABLE tb_sku DROP COLUMN low_stock_threshold;
