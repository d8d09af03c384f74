-- +goose Up
-- Sessions end on the server: a session carries the generation its user
-- had at login and is refused once the user's generation moves on (logout,
-- a password change, deactivation).
ALTER TABLE tb_users ADD COLUMN session_generation BIGINT NOT NULL DEFAULT 0;
-- Usernames are unique whatever their case. The table's collation,
-- utf8mb4_unicode_ci, already compares without case, so the UNIQUE index
-- of 00001 holds; the column says so itself, whatever the database's or
-- the server's default. (Existing case-duplicates could not have been
-- inserted.)
ALTER TABLE tb_users MODIFY username VARCHAR(150) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci NOT NULL;

-- +goose Down
ALTER TABLE tb_users DROP COLUMN session_generation;
