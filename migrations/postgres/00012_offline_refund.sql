-- +goose Up
-- Staff's side of payments. offline marks a payment staff recorded by hand
-- ("mark paid": cash at the counter, a bank transfer); its trade_id is
-- empty, and who and why are in the order's tb_order_event. refund_time and
-- refund_user_id say when and by whom a payment to refund was refunded:
-- only such a payment can be (the CHECK), and the conditional write that
-- sets them sets them once. tb_order_event.note is the staff member's
-- reason, free text beside the machine-read why.
ALTER TABLE tb_payment ADD COLUMN offline BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE tb_payment ADD COLUMN refund_time TIMESTAMPTZ NULL;
ALTER TABLE tb_payment ADD COLUMN refund_user_id BIGINT NULL REFERENCES tb_users (id);
ALTER TABLE tb_payment ADD CONSTRAINT tb_payment_refunded CHECK (refund_time IS NULL OR to_refund);
ALTER TABLE tb_order_event ADD COLUMN note VARCHAR(200) NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE tb_order_event DROP COLUMN note;
ALTER TABLE tb_payment DROP CONSTRAINT tb_payment_refunded;
ALTER TABLE tb_payment DROP COLUMN refund_user_id;
ALTER TABLE tb_payment DROP COLUMN refund_time;
ALTER TABLE tb_payment DROP COLUMN offline;
