-- +goose Up
-- tb_payment records the payments Alipay confirmed, one per order at most
-- (the unique order_id is the final guard of "paid at most once").
-- to_refund marks a payment that arrived for an order already canceled:
-- it is recorded but not applied, and staff refund it.
CREATE TABLE tb_payment (
    id          BIGINT AUTO_INCREMENT PRIMARY KEY,
    create_time DATETIME(6) NOT NULL,
    order_id    VARCHAR(64) NOT NULL UNIQUE REFERENCES tb_order_info (order_id),
    trade_id    VARCHAR(64) NOT NULL,
    amount      NUMERIC(10, 2) NOT NULL,
    to_refund   BOOLEAN NOT NULL DEFAULT FALSE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE INDEX tb_payment_refund ON tb_payment (to_refund, create_time);

-- tb_order_event records every change of an order's status: from, to, who
-- (user_id: the shopper or the staff member; NULL for the shop itself),
-- why and when, written in the transaction that changes the status.
CREATE TABLE tb_order_event (
    id          BIGINT AUTO_INCREMENT PRIMARY KEY,
    create_time DATETIME(6) NOT NULL,
    order_id    VARCHAR(64) NOT NULL REFERENCES tb_order_info (order_id) ON DELETE CASCADE,
    from_status SMALLINT NULL,
    to_status   SMALLINT NOT NULL CHECK (to_status BETWEEN 1 AND 6),
    user_id     BIGINT NULL REFERENCES tb_users (id),
    why         VARCHAR(200) NOT NULL DEFAULT ''
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE INDEX tb_order_event_order ON tb_order_event (order_id, id);

-- +goose Down
DROP TABLE tb_order_event;
DROP TABLE tb_payment;
