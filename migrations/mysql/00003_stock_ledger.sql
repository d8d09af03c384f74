-- +goose Up
-- tb_stock_ledger records every change to a SKU's stock: who, when, the
-- delta, the stock after it, and why. For every SKU, the stock equals the
-- sum of its deltas: the first entry of each SKU that existed before the
-- ledger is an 'initial' entry holding its stock at that moment.
CREATE TABLE tb_stock_ledger (
    id          BIGINT AUTO_INCREMENT PRIMARY KEY,
    create_time DATETIME(6) NOT NULL,
    sku_id      BIGINT NOT NULL REFERENCES tb_sku (id),
    delta       INTEGER NOT NULL,
    stock_after INTEGER NOT NULL CHECK (stock_after >= 0),
    reason      VARCHAR(20) NOT NULL,
    user_id     BIGINT NULL REFERENCES tb_users (id),
    order_id    VARCHAR(64) NULL,
    note        VARCHAR(200) NOT NULL DEFAULT ''
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE INDEX tb_stock_ledger_sku ON tb_stock_ledger (sku_id, id);
INSERT INTO tb_stock_ledger (create_time, sku_id, delta, stock_after, reason, note)
    SELECT CURRENT_TIMESTAMP, id, stock, stock, 'initial', 'stock when the ledger began' FROM tb_sku;

-- +goose Down
DROP TABLE tb_stock_ledger;
