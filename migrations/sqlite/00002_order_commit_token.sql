-- +goose Up
-- commit_token makes the order commit idempotent: the settlement page hands
-- out a one-time token, and a second commit with the same token finds the
-- order the first one made instead of making another. NULL for orders made
-- without a token; NULLs never collide in a unique index.
ALTER TABLE tb_order_info ADD COLUMN commit_token VARCHAR(64) NULL;
CREATE UNIQUE INDEX tb_order_info_commit_token ON tb_order_info (user_id, commit_token);

-- +goose Down
DROP INDEX tb_order_info_commit_token;
ALTER TABLE tb_order_info DROP COLUMN commit_token;
