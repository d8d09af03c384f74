-- +goose Up
-- tb_stock_ledger records every change to a SKU's stock: who, when, the
-- delta, the stock after it, and why. For every SKU, the stock equals the
-- sum of its deltas: the first entry of each SKU that existed before the
-- ledger is an 'initial' entry holding its stock at that moment.
CREATE TABLE tb_stock_ledger (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    create_time DATETIME NOT NULL,
    sku_id      BIGINT NOT NULL REFERENCES tb_sku (id),
    delta       INTEGER NOT NULL,
    stock_after INTEGER NOT NULL CHECK (stock_after >= 0),
    reason      VARCHAR(20) NOT NULL,
    user_id     BIGINT NULL REFERENCES tb_users (id),
    order_id    VARCHAR(64) NULL,
    note        VARCHAR(200) NOT NULL DEFAULT ''
);
CREATE INDEX tb_stock_ledger_sku ON tb_stock_ledger (sku_id, id);
INSERT INTO tb_stock_ledger (create_time, sku_id, delta, stock_after, reason, note)
    SELECT CURRENT_TIMESTAMP, id, stock, stock, 'initial', 'stock when the ledger began' FROM tb_sku;

-- +goose Down
DROP TABLE tb_stock_ledger;
