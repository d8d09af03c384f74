-- +goose Up
-- tb_seckill_sale is a flash sale (秒杀) of one SKU. Its stock left the SKU
-- when the sale opened (a 'seckill_open' ledger entry); what is unsold goes
-- back when it closes ('seckill_close'). status: 1 open, 2 closed.
-- live_sku_id is the SKU while the sale is open and NULL once closed: its
-- unique index allows one open sale per SKU on every dialect.
CREATE TABLE tb_seckill_sale (
    id          BIGINT AUTO_INCREMENT PRIMARY KEY,
    create_time DATETIME(6) NOT NULL,
    update_time DATETIME(6) NOT NULL,
    sku_id      BIGINT NOT NULL REFERENCES tb_sku (id),
    live_sku_id BIGINT NULL UNIQUE,
    price       NUMERIC(10, 2) NOT NULL CHECK (price >= 0),
    stock       INTEGER NOT NULL CHECK (stock > 0),
    per_user    INTEGER NOT NULL CHECK (per_user > 0),
    start_time  DATETIME(6) NOT NULL,
    end_time    DATETIME(6) NOT NULL,
    status      SMALLINT NOT NULL CHECK (status IN (1, 2)),
    sold        INTEGER NOT NULL DEFAULT 0 CHECK (sold >= 0),
    staff_id    BIGINT NULL REFERENCES tb_users (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE INDEX tb_seckill_sale_sku ON tb_seckill_sale (sku_id, id);

-- tb_seckill_order links an order to the flash sale that made it. Its
-- primary key makes persisting an order idempotent; decided_time is when
-- Redis decided the buy, create_time when the order was committed: the
-- difference is the persistence lag.
CREATE TABLE tb_seckill_order (
    order_id     VARCHAR(64) PRIMARY KEY REFERENCES tb_order_info (order_id),
    sale_id      BIGINT NOT NULL REFERENCES tb_seckill_sale (id),
    user_id      BIGINT NOT NULL REFERENCES tb_users (id),
    decided_time DATETIME(6) NOT NULL,
    create_time  DATETIME(6) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE INDEX tb_seckill_order_sale ON tb_seckill_order (sale_id, user_id);

-- +goose Down
DROP TABLE tb_seckill_order;
DROP TABLE tb_seckill_sale;
